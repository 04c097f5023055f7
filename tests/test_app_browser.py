"""The sizing app in a real browser: ``llmphys app`` (Voilà) driven by Debian's chromium.

Marked ``browser``: CI (``.ci/run``) installs Debian's ``chromium`` with apt and runs these;
without chromium they FAIL, saying so.  Run the rest of the suite without a browser with
``pytest -m "not browser"``.

Nothing is downloaded at run time: Playwright (from PyPI, the ``app`` extra) launches the
system chromium (``executable_path``), never a browser of its own, and every request that
does not go to the loopback server is aborted.  The server is ``python -m llmphys app`` on a
free loopback port, in its own process group, killed whatever happens.

The figures the page shows are read from their hooks (``data-value``, the number in the
formula's unit) and compared with the Python API computed here, independently of the app's
code: a :class:`llmphys.Scenario` and :mod:`llmphys.sizing` at the same inputs.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_app import LINKS, START, api_figures, numbers, scenario

import llmphys as F
from llmphys.app.page import hook

from support import AppStartError, config_fixture, loopback_only, serving

pytestmark = pytest.mark.browser

SERVER_START = 90  # seconds for Voilà to answer
APP_READY = 120_000  # ms for the kernel to run the notebook and the widgets to render
UPDATE = 60_000  # ms for a change to come back as figures (a new model compiles its formulas)


# ----------------------------------------------------------------------------- the server
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``llmphys app`` on a free loopback port; its URL.  Always stopped."""
    try:
        with serving(tmp_path_factory.mktemp("voila"), SERVER_START) as url:
            yield url
    except AppStartError as exc:
        pytest.fail(str(exc))


#: every request a page made to another site (aborted: the page must need none)
FOREIGN: list[str] = []


@contextlib.contextmanager
def opened(browser: Any, url: str) -> Iterator[Any]:
    """The app at ``url`` (a kernel of its own), in a context that lets only the loopback
    server answer; closed after."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    loopback_only(context, url, FOREIGN)
    page = context.new_page()
    page.set_default_timeout(UPDATE)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(".llmphys-total-vram[data-value]", timeout=APP_READY)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def page(server: str, browser: Any) -> Iterator[Any]:
    """The app, loaded once (its kernel keeps the state between the tests of this module)."""
    with opened(browser, server) as page:
        yield page


# ----------------------------------------------------------------------------- page helpers
def select(page: Any, hook: str, label: str) -> None:
    page.select_option(f".{hook} select", label=label)


def type_into_readout(page: Any, name: str, value: float) -> None:
    """Type a value into the box beside a slider (as a person edits the number beside a
    slider), then wait until the kernel lists it among the inputs in use."""
    box = page.locator(f".{hook(name + '_box')} input")
    box.fill(f"{value:g}")  # replaces the text, wherever the caret was
    box.press("Enter")
    page.wait_for_function(
        """([name, value]) => {
            const e = document.querySelector(`.llmphys-input[data-name="${name}"]`);
            return e !== null && Number(e.dataset.value) === value;
        }""",
        arg=[name, value],
    )


_READ = """keys => Object.fromEntries(keys.map(k => {
    const el = document.querySelector('.llmphys-' + k.replaceAll('_', '-') + '[data-value]');
    return [k, el ? Number(el.dataset.value) : null];
}))"""

_MATCHES = """([expected, rel]) => Object.entries(expected).every(([k, want]) => {
    const el = document.querySelector('.llmphys-' + k.replaceAll('_', '-') + '[data-value]');
    if (want === null) return el === null &&
        document.querySelector('.llmphys-' + k.replaceAll('_', '-') + '.llmphys-figure-error');
    if (el === null) return false;
    const got = Number(el.dataset.value);
    return Math.abs(got - want) <= rel * Math.abs(want);
})"""


def read_figures(page: Any, keys: list[str]) -> dict[str, float | None]:
    return page.evaluate(_READ, keys)


def expect_figures(page: Any, expected: dict[str, float | None], rel: float = 1e-9) -> None:
    """Wait until the page shows ``expected`` (None: the figure shows its error), then assert
    it (a timeout still ends in a readable comparison)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(_MATCHES, arg=[expected, rel], timeout=UPDATE)
    shown = read_figures(page, list(expected))
    messages = page.eval_on_selector_all(".llmphys-error", "els => els.map(e => e.innerText)")
    assert shown == {
        k: (None if v is None else pytest.approx(v, rel=rel)) for k, v in expected.items()
    }, f"inputs in use: {inputs_in_use(page)}; messages: {[m for m in messages if m.strip()]}"


def inputs_in_use(page: Any) -> dict[str, float]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.llmphys-input')]
            .map(e => [e.dataset.name, Number(e.dataset.value)]))"""
    )


def expect_value(box: Any, value: str) -> None:
    from playwright.sync_api import expect

    expect(box).to_have_value(value, timeout=UPDATE)


def upload(page: Any, name: str, content: bytes) -> None:
    with page.expect_file_chooser() as chooser:
        page.click(".llmphys-upload")
    chooser.value.set_files(
        files=[{"name": name, "mimeType": "application/json", "buffer": content}]
    )


# ----------------------------------------------------------------------------- the tests
def test_page_starts_with_the_api_figures(page: Any, tmp_path: Path) -> None:
    # the browser keeps the glossary's values exactly; the weights as released: BF16
    assert inputs_in_use(page) == {**START, "bytes_per_param": 2.0}
    expect_figures(page, numbers(api_figures("llama-3.1-70b", "h100-sxm")))
    page.screenshot(path=str(tmp_path / "start.png"), full_page=True)


def test_model_dropdown_and_slider_give_the_api_figures(page: Any, tmp_path: Path) -> None:
    # combination 1: a mixture of experts on an A100 80GB, context typed at the slider
    select(page, "llmphys-model", F.models["mixtral-8x7b"].display_name)
    select(page, "llmphys-hardware", F.hardware["a100-80gb"].display_name)
    type_into_readout(page, "prompt_len", 32768)
    expect_figures(page, numbers(api_figures("mixtral-8x7b", "a100-80gb", prompt_len=32768)))
    assert inputs_in_use(page)["prompt_len"] == 32768
    page.screenshot(path=str(tmp_path / "mixtral-a100.png"), full_page=True)

    # combination 2: a sliding-window model (its own KV variant) on an MI300X, FP8 weights,
    # batch 8 typed at its slider
    select(page, "llmphys-model", F.models["gemma-3-27b"].display_name)
    select(page, "llmphys-hardware", F.hardware["mi300x"].display_name)
    select(page, "llmphys-interconnect", F.interconnects[LINKS["mi300x"]].display_name)
    select(page, "llmphys-bytes-per-param", "fp8 (1 B/param)")
    type_into_readout(page, "batch", 8)
    expected = api_figures("gemma-3-27b", "mi300x", prompt_len=32768, batch=8, bytes_per_param=1)
    expect_figures(page, numbers(expected))
    # the two combinations differ: the page did change
    assert expected["total_vram"] != api_figures("mixtral-8x7b", "a100-80gb")["total_vram"]
    page.screenshot(path=str(tmp_path / "gemma-mi300x.png"), full_page=True)


def test_derivation_toggle_shows_the_worked_formula(page: Any, tmp_path: Path) -> None:
    page.click(".llmphys-derive-total-vram")
    shown = page.locator(".llmphys-derivation-total-vram")
    shown.locator("mjx-container").first.wait_for()  # typeset by MathJax
    page.screenshot(path=str(tmp_path / "derivation.png"), full_page=True)
    page.click(".llmphys-derive-total-vram")
    page.wait_for_function(
        "() => document.querySelector('.llmphys-derivation-total-vram').textContent.trim() === ''"
    )


def test_bad_configs_show_the_toolkits_message_and_the_page_keeps_working(
    page: Any, tmp_path: Path
) -> None:
    before = page.locator(".llmphys-model select").input_value()
    message = page.locator(".llmphys-upload-message")

    upload(page, "config.json", b'{"model_type": "llama", "hidden_size": ')
    message.get_by_text("'config.json' is not valid JSON").wait_for()
    page.screenshot(path=str(tmp_path / "malformed.png"), full_page=True)

    upload(page, "gpt2.json", json.dumps({"model_type": "gpt2"}).encode())
    message.get_by_text("unsupported model_type 'gpt2'").wait_for()

    upload(page, "short.json", json.dumps({"model_type": "llama", "hidden_size": 64}).encode())
    message.get_by_text("missing field 'num_hidden_layers'").wait_for()
    assert page.locator(".llmphys-model select").input_value() == before

    # the page still answers: the model in use is the one before
    type_into_readout(page, "batch", 4)
    settings = {"prompt_len": 32768, "batch": 4, "bytes_per_param": 1}
    expect_figures(page, numbers(api_figures("gemma-3-27b", "mi300x", **settings)))

    # and a good config becomes the model in use
    config = config_fixture("llama")  # Llama-3.1-8B
    upload(page, "my-llama.json", json.dumps(config).encode())
    message.get_by_text("read my-llama.json").wait_for()
    model = F.load_hf_config(config)
    expect_figures(page, numbers(api_figures(model, "mi300x", **settings)))
    page.screenshot(path=str(tmp_path / "uploaded.png"), full_page=True)


def test_solve_for_answers_and_explains_an_infeasible_target(page: Any, tmp_path: Path) -> None:
    select(page, "llmphys-model", F.models["llama-3.1-70b"].display_name)
    select(page, "llmphys-hardware", F.hardware["h100-sxm"].display_name)
    select(page, "llmphys-bytes-per-param", "bf16 (2 B/param)")
    type_into_readout(page, "batch", 1)
    type_into_readout(page, "prompt_len", 4096)
    expect_figures(page, numbers(api_figures("llama-3.1-70b", "h100-sxm")))

    select(page, "llmphys-solve-question", "time to first token")
    target = page.locator(".llmphys-solve-target input")
    expect_value(target, "2 s")  # the question's default target is back from the kernel
    answer = scenario("llama-3.1-70b", "h100-sxm").solve("prompt_len", "2 s", of="ttft")
    expect_figures(page, {"solve_value": float(answer.value.magnitude)})

    select(page, "llmphys-solve-question", "memory per GPU")
    expect_value(target, "81559 MiB")  # the capacity, back from the kernel: then type
    target.fill("1 GB")
    target.press("Enter")
    page.locator(".llmphys-solve-message").get_by_text("already exceed").wait_for()
    page.screenshot(path=str(tmp_path / "infeasible.png"), full_page=True)


def test_a_layout_a_price_and_the_frontier_in_the_browser(page: Any, tmp_path: Path) -> None:
    # issue 21: a layout moves the speed figures to the parallel formulas' values; the cost per
    # million tokens follows the price typed; the frontier's points are llmphys.frontier's
    from llmphys.app.frontier_panel import BATCHES

    select(page, "llmphys-model", F.models["llama-3.1-70b"].display_name)
    select(page, "llmphys-hardware", F.hardware["h100-sxm"].display_name)
    select(page, "llmphys-interconnect", "the accelerator's usual link")
    select(page, "llmphys-bytes-per-param", "bf16 (2 B/param)")
    type_into_readout(page, "batch", 8)
    type_into_readout(page, "prompt_len", 4096)
    type_into_readout(page, "tp", 4)
    type_into_readout(page, "pp", 2)
    type_into_readout(page, "price_per_gpu_hour", 3.5)
    settings = dict(batch=8, tp=4, pp=2, price_per_gpu_hour=3.5)
    want = numbers(api_figures("llama-3.1-70b", "h100-sxm", **settings))
    expect_figures(page, want)
    s = scenario("llama-3.1-70b", "h100-sxm", **settings)
    assert "layout" in s.features and s.n_gpus == 8
    points = page.eval_on_selector_all(
        ".llmphys-frontier-point",
        "els => els.map(e => [Number(e.dataset.batch), Number(e.dataset.user),"
        " Number(e.dataset.gpu), e.dataset.fits === 'true'])",
    )
    api = F.frontier(s, over={"batch": list(BATCHES)}).points
    assert len(points) == len(api)
    for (b, u, g, fit), (_, row) in zip(points, api.iterrows(), strict=True):
        assert b == row["batch"] and fit == bool(row["fits"])
        assert u == pytest.approx(row["tokens_per_second_per_user"], rel=1e-9)
        assert g == pytest.approx(row["tokens_per_second_per_gpu"], rel=1e-9)
    page.screenshot(path=str(tmp_path / "layout-frontier.png"), full_page=True)
    type_into_readout(page, "pp", 1)
    type_into_readout(page, "tp", 1)


# ----------------------------------------------------------------------------- issue 21, part 2
def test_the_page_asks_no_other_site(page: Any) -> None:
    """Voilà's lab template linked Font Awesome from a CDN; the app's own template does not."""
    assert FOREIGN == []


def test_typed_values_are_never_clamped_and_refusals_are_said(page: Any) -> None:
    select(page, "llmphys-model", F.models["llama-3.1-8b"].display_name)
    select(page, "llmphys-hardware", F.hardware["h100-sxm"].display_name)
    select(page, "llmphys-interconnect", "the accelerator's usual link")
    select(page, "llmphys-bytes-per-param", "as released (bf16)")
    type_into_readout(page, "prompt_len", 4096)
    type_into_readout(page, "price_per_gpu_hour", 2)
    type_into_readout(page, "batch", 2000)  # the slider ends at 1,024
    expect_figures(page, numbers(api_figures("llama-3.1-8b", "h100-sxm", batch=2000)))
    box = page.locator(f".{hook('batch_box')} input")
    box.fill("0")
    box.press("Enter")
    note = page.locator(".llmphys-typed-note")
    note.get_by_text("must be positive").wait_for()
    expect_value(box, "2000")  # kept, and said
    assert inputs_in_use(page)["batch"] == 2000
    type_into_readout(page, "batch", 1)
    page.wait_for_function(
        "() => document.querySelector('.llmphys-typed-note').innerText.trim() === ''"
    )


def test_a_shared_link_reloads_the_same_state(server: str, browser: Any, tmp_path: Path) -> None:
    """A link opens the page in its state (B pinned too); a change moves the address bar,
    and reloading that address gives the same figures."""
    from urllib.parse import urlencode

    workload = "model=mixtral-8x7b&tp=2&batch=16&prompt_len=8k"
    link = f"?{workload}&hardware=h200&{urlencode({'vs': workload})}"  # B: the same on H100s
    settings = dict(tp=2, batch=16, prompt_len=8192)
    with opened(browser, server + link) as page:
        expect_figures(page, numbers(api_figures("mixtral-8x7b", "h200", **settings)))
        assert page.locator(".llmphys-link-message").inner_text().strip() == ""
        # the address bar is the page's canonical link (8k written as 8192)
        page.wait_for_function("() => location.search.includes('prompt_len=8192')")
        type_into_readout(page, "batch", 32)
        page.wait_for_function("() => location.search.includes('batch=32')")
        shared = page.url
        rows = page.locator(".llmphys-compare-row[data-key='ttft']")
        b_ttft = float(rows.get_attribute("data-b"))
    want = api_figures("mixtral-8x7b", "h200", **{**settings, "batch": 32})
    b_want = scenario("mixtral-8x7b", "h100-sxm", **settings).evaluate("ttft")
    assert b_ttft == pytest.approx(b_want.to("s").magnitude, rel=1e-9)
    with opened(browser, shared) as page:
        expect_figures(page, numbers(want))
        assert page.url == shared
        row = page.locator(".llmphys-compare-row[data-key='ttft']")
        assert float(row.get_attribute("data-b")) == pytest.approx(b_ttft, rel=1e-12)
        page.screenshot(path=str(tmp_path / "shared-link.png"), full_page=True)


def test_copy_as_python_from_the_page_gives_its_numbers(page: Any) -> None:
    select(page, "llmphys-model", F.models["llama-3.1-70b"].display_name)
    type_into_readout(page, "tp", 4)
    type_into_readout(page, "batch", 16)
    expect_figures(page, numbers(api_figures("llama-3.1-70b", "h100-sxm", tp=4, batch=16)))
    page.get_by_text("copy as Python or CLI, download JSON or CSV").click()
    code = page.locator(".llmphys-copy-python")
    code.wait_for()
    python = code.inner_text()
    namespace: dict = {}
    exec(python.replace("print(s.summary())", ""), namespace)
    rebuilt = namespace["s"]
    keys = ["ttft", "tpot", "tokens_per_second_per_user", "memory_per_gpu"]
    shown = read_figures(page, keys)
    for key in keys:
        want = rebuilt.evaluate(key).to(F.registry[key].unit).magnitude
        assert shown[key] == pytest.approx(want, rel=1e-12), key
    type_into_readout(page, "tp", 1)
    type_into_readout(page, "batch", 1)


def test_two_deployments_side_by_side_in_the_browser(page: Any, tmp_path: Path) -> None:
    select(page, "llmphys-model", F.models["llama-3.1-70b"].display_name)
    select(page, "llmphys-hardware", F.hardware["h100-sxm"].display_name)
    type_into_readout(page, "tp", 2)
    expect_figures(page, numbers(api_figures("llama-3.1-70b", "h100-sxm", tp=2)))
    page.click(".llmphys-pin")
    select(page, "llmphys-hardware", F.hardware["h200"].display_name)
    a = numbers(api_figures("llama-3.1-70b", "h200", tp=2))
    b = numbers(api_figures("llama-3.1-70b", "h100-sxm", tp=2))
    expect_figures(page, a)
    page.wait_for_selector(".llmphys-compare-row.llmphys-differs")
    rows = page.eval_on_selector_all(
        ".llmphys-compare-row",
        "els => els.map(e => [e.dataset.key, e.dataset.a, e.dataset.b,"
        " e.classList.contains('llmphys-differs')])",
    )
    assert {r[0] for r in rows} == set(a)
    for key, x, y, differs in rows:
        assert (float(x) if x else None) == (None if a[key] is None else pytest.approx(a[key]))
        assert (float(y) if y else None) == (None if b[key] is None else pytest.approx(b[key]))
        assert differs == (a[key] != pytest.approx(b[key], rel=1e-9)), key
    page.screenshot(path=str(tmp_path / "side-by-side.png"), full_page=True)
    page.click(".llmphys-unpin")
    page.wait_for_function("() => !document.querySelector('.llmphys-compare-row')")
    type_into_readout(page, "tp", 1)


def test_the_defects_of_the_issue_are_gone_in_the_browser(page: Any) -> None:
    """The issue's defects, as a user met them: yes/no settings are check boxes, the
    derivation toggle says hide while open, numbers carry separators with no mixed notation,
    and the page never tells its reader to serve it."""
    assert page.locator(".llmphys-flash-attention input[type=checkbox]").count() == 1
    assert page.locator(".llmphys-prompt-logprobs input[type=checkbox]").count() == 1
    toggle = page.locator(".llmphys-derive-ttft")
    toggle.click()
    page.wait_for_function(
        "() => document.querySelector('.llmphys-derive-ttft').innerText.includes('hide')"
    )
    toggle.click()
    type_into_readout(page, "tp", 2)  # 70B in BF16 fits on two
    page.wait_for_selector(".llmphys-largest-context[data-value]")
    context = page.locator(".llmphys-largest-context").inner_text()
    assert re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})* tok", context), context
    text = page.locator(".llmphys-app").inner_text()
    assert "llmphys app" not in text and "e+0" not in text
    # the upload button reads "upload config.json", never ipywidgets' "(0)" count
    shown = page.evaluate(
        """() => { const b = document.querySelector('.llmphys-upload');
            return [getComputedStyle(b).fontSize, getComputedStyle(b, '::after').content]; }"""
    )
    assert shown == ["0px", '"upload config.json"']
    weights = page.locator(".llmphys-bytes-per-param select option").first.inner_text()
    assert weights.replace("\xa0", " ").startswith("as released (")  # the model's own, named
