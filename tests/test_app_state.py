"""The sizing page's state (issue 21): the weights "as released", typed values never clamped
silently, the model's context limit, the link that reproduces the page, and two deployments
side by side.  In the kernel, without a browser (``test_app_browser.py`` drives the same in
Chromium); every figure is compared with the Python API computed independently."""

from __future__ import annotations

import doctest
import re
from urllib.parse import parse_qsl

import pytest
from test_app import api_figures, expect, numbers, scenario, set_inputs

import llmphys as F


@pytest.fixture(scope="module")
def app():
    from llmphys.app import SizingApp

    return SizingApp()


def test_doctests():
    import llmphys.app.page_state
    import llmphys.app.settings_panel

    for module in (llmphys.app.page_state, llmphys.app.settings_panel):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted and not result.failed


# ----------------------------------------------------------------------------- as released
def test_the_weights_start_as_released_and_name_the_models_precisions(app):
    """DeepSeek-V3 was released in FP8 (128 x 128 blocks, embeddings BF16; its config.json's
    quantization_config): "as released" is the Scenario's weights=None, not BF16."""
    set_inputs(app, "deepseek-v3", "h100-sxm")
    weights = app.controls["bytes_per_param"]
    assert weights.value == "released"
    assert weights.options[0] == ("as released (fp8_block128, embeddings bf16)", "released")
    expect(app, api_figures("deepseek-v3", "h100-sxm"))
    as_released = app.views["weight_bytes"].number
    assert as_released == F.Scenario("deepseek-v3").evaluate("weight_bytes").magnitude
    weights.value = "bf16"
    assert app.views["weight_bytes"].number > 1.9 * as_released  # 2 B instead of ~1 B
    set_inputs(app, "gpt-oss-120b", "h100-sxm")
    assert weights.options[0][0] == "as released (experts mxfp4, rest bf16)"
    assert "released in experts mxfp4, rest bf16; context 131,072 tokens" in app.model_info.value


# ----------------------------------------------------------------------------- typed values
def test_a_typed_value_beyond_a_slider_widens_it_never_clamped(app):
    """The issue's case: batch 2000 typed beside a slider ending at 1,024 stayed 1,024."""
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    boxes = app.settings_panel.boxes
    boxes["batch"].value = "2000"
    assert app.controls["batch"].value == 2000
    assert app.scenario.value("batch") == 2000
    expect(app, api_figures("llama-3.1-8b", "h100-sxm", batch=2000.0))
    boxes["tp"].value = "128"  # a linear slider ending at 64: kept, and refused by the model
    assert app.controls["tp"].value == 128 and app.controls["tp"].max >= 128
    assert app.scenario is None and "128" in app.message.value  # 8 KV heads over 128 GPUs
    assert app.settings_panel.typed_note.value == ""


@pytest.mark.parametrize(
    ("name", "typed", "said"),
    [
        ("batch", "0", "must be positive"),
        ("utilization", "1.2", "must be a fraction in (0, 1]"),
        ("tp", "2.5", "must be a whole number"),
        ("prompt_len", "lots", "is not a number or a quantity"),
    ],
)
def test_a_value_the_setting_cannot_take_is_refused_and_said(app, name, typed, said):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    before = app.controls[name].value
    app.settings_panel.boxes[name].value = typed
    note = app.settings_panel.typed_note.value
    assert said in note.replace("&#x27;", "'") and repr(typed) in note.replace("&#x27;", "'")
    assert app.controls[name].value == before  # kept, and the page says so
    expect(app, api_figures("llama-3.1-8b", "h100-sxm"))
    app.settings_panel.boxes["batch"].value = "2"
    assert app.settings_panel.typed_note.value == ""  # the next value used clears it


# ----------------------------------------------------------------------------- context
def test_a_workload_beyond_the_models_context_is_said(app):
    """Llama 3.1 takes 131,072 tokens (max_position_embeddings): 130K in + 4K out is beyond."""
    set_inputs(app, "llama-3.1-8b", "h100-sxm", prompt_len=128000.0, new_tokens=3072.0)
    assert app.context_note.value == ""  # 131,072 exactly: within
    set_inputs(app, "llama-3.1-8b", "h100-sxm", prompt_len=130000.0, new_tokens=4096.0)
    note = app.context_note.value
    assert "134,096 tokens" in note and "context of 131,072 tokens" in note
    expect(app, api_figures("llama-3.1-8b", "h100-sxm", prompt_len=130000.0, new_tokens=4096.0))


# ----------------------------------------------------------------------------- the link
def _share_query(app) -> str:
    href = re.search(r'class="llmphys-share" href="\?([^"]*)"', app.share.value).group(1)
    return href.replace("&amp;", "&")


def test_the_link_names_what_differs_from_the_start_in_the_scenarios_words(app):
    set_inputs(app, "deepseek-v3", "h200", batch=32.0, tp=8.0, prompt_len=32768.0,
               bytes_per_param=1.0)  # fmt: skip
    app.precision.value = "fp8"
    query = _share_query(app)
    assert query == app.query()
    assert dict(parse_qsl(query)) == {
        "model": "deepseek-v3",
        "hardware": "h200",
        "compute": "fp8",
        "weights": "fp8",
        "prompt_len": "32768",
        "batch": "32",
        "tp": "8",
    }


def test_a_link_reloads_the_same_page(app):
    from llmphys.app import SizingApp

    set_inputs(app, "mixtral-8x7b", "mi300x", batch=16.0, tp=2.0, prompt_len=8192.0,
               new_tokens=512.0, workspace_fraction=0.2)  # fmt: skip
    app.precision.value = "bf16"  # an earlier test computed at FP8
    app.controls["kv_bytes"].value = "fp8"
    app.controls["utilization"].value = 0.5
    reloaded = SizingApp.from_query(app.query())
    assert reloaded.link_message.value == ""
    assert reloaded.query() == app.query()
    assert {k: v.number for k, v in reloaded.views.items()} == {
        k: v.number for k, v in app.views.items()
    }
    want = api_figures("mixtral-8x7b", "mi300x", batch=16.0, tp=2.0, prompt_len=8192.0,
                       new_tokens=512.0, workspace_fraction=0.2, kv_bytes=1.0,
                       utilization=0.5)  # fmt: skip
    expect(reloaded, want)


def test_a_typed_link_reads_as_the_boxes_do_and_beyond_the_sliders():
    from llmphys.app import SizingApp

    link = "model=llama-3.1-8b&prompt_len=32k&batch=2000&price_per_gpu_hour=3.5"
    page = SizingApp.from_query(link)
    assert page.link_message.value == ""
    assert page.scenario.value("prompt_len") == 32768 and page.scenario.value("batch") == 2000
    expect(page, api_figures("llama-3.1-8b", "h100-sxm", prompt_len=32768.0, batch=2000.0,
                             price_per_gpu_hour=3.5))  # fmt: skip


def test_what_a_link_cannot_use_is_said_and_the_rest_is_kept():
    from llmphys.app import SizingApp

    page = SizingApp.from_query("model=llama3&tp=abc&batch=8&weights=fp4x&compute=fp64&tpp=2")
    said = page.link_message.value.replace("&#x27;", "'")
    for part in ("model='llama3' is not known; did you mean 'llama-3.1-8b'",
                 "tp='abc' was not used", "weights='fp4x' was not used",
                 "compute='fp64' is not a precision of h100-sxm",
                 "tpp is not a setting of the page; did you mean 'tp'"):  # fmt: skip
        assert part in said
    assert page.scenario.value("batch") == 8 and page.scenario.value("tp") == 1
    expect(page, api_figures("llama-3.1-70b", "h100-sxm", batch=8.0))


def test_an_uploaded_model_is_not_in_the_link_and_the_page_says_so(app):
    import json

    from test_app import LLAMA_8B

    assert app.add_config("config.json", json.dumps(LLAMA_8B).encode())
    assert "model" not in dict(parse_qsl(_share_query(app)))
    assert "the uploaded model is not in the link" in app.share.value


# ----------------------------------------------------------------------------- side by side
def _rows(app) -> dict[str, tuple[float | None, float | None, bool]]:
    out = {}
    row = re.compile(r'<tr class="llmphys-compare-row( llmphys-differs)?" data-key="(\w+)" '
                     r'data-a="([^"]*)" data-b="([^"]*)"')  # fmt: skip
    for m in row.finditer(app.compare.table.value):
        a, b = (None if x == "" else float(x) for x in (m.group(3), m.group(4)))
        out[m.group(2)] = (a, b, bool(m.group(1)))
    return out


def test_two_deployments_side_by_side_with_the_differences_highlighted(app):
    """H100 against H200 at tp=2: the same compute (TTFT equal), more bandwidth and memory
    (decode faster, larger batch)."""
    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=2.0)
    app.compare.pin.click()
    assert app.compare.pinned is not None and not app.compare.swap.disabled
    app.hardware.value = "h200"
    rows = _rows(app)
    a = numbers(api_figures("llama-3.1-70b", "h200", tp=2.0))
    b = numbers(api_figures("llama-3.1-70b", "h100-sxm", tp=2.0))
    assert set(rows) == set(a)
    for key, (x, y, differs) in rows.items():
        assert x == (None if a[key] is None else pytest.approx(a[key], rel=1e-12))
        assert y == (None if b[key] is None else pytest.approx(b[key], rel=1e-12))
        assert differs == (a[key] != pytest.approx(b[key], rel=1e-9))
    assert rows["tokens_per_second_per_user"][2] and not rows["ttft"][2]
    assert 'data-name="mem_bandwidth"' in app.compare.table.value
    # the frontier draws B beside A, on the same axes: B's points are llmphys.frontier's
    from llmphys.app.frontier_panel import BATCHES

    drawn = re.findall(r'class="llmphys-frontier-point-b" data-batch="([^"]+)" '
                       r'data-user="([^"]+)" data-gpu="([^"]+)"', app.frontier.chart.value)
    b_points = F.frontier(scenario("llama-3.1-70b", "h100-sxm", tp=2.0),
                          over={"batch": list(BATCHES)}).points  # fmt: skip
    assert len(drawn) == len(b_points) == len(BATCHES)
    for (batch, user, gpu), (_, row) in zip(drawn, b_points.iterrows(), strict=True):
        assert float(batch) == row["batch"]
        assert float(user) == pytest.approx(row["tokens_per_second_per_user"], rel=1e-12)
        assert float(gpu) == pytest.approx(row["tokens_per_second_per_gpu"], rel=1e-12)
    assert "vs=" in app.query() and "hardware%3Dh100-sxm" not in app.query()  # B: the start's
    app.compare.swap.click()  # B on the page, A pinned
    assert app.hardware.value == "h100-sxm"
    expect(app, api_figures("llama-3.1-70b", "h100-sxm", tp=2.0))
    assert app.compare.pinned.hardware == "h200"
    assert {k: (y, x) for k, (x, y, _) in _rows(app).items()} == {
        k: (x, y) for k, (x, y, _) in rows.items()
    }
    app.compare.unpin.click()
    assert app.compare.pinned is None and "vs=" not in app.query()
    assert "llmphys-compare-row" not in app.compare.table.value
    assert "llmphys-frontier-point-b" not in app.frontier.chart.value


def test_a_link_carries_the_pinned_deployment():
    from llmphys.app import SizingApp

    page = SizingApp.from_query("tp=4&vs=" + "tp%3D8%26weights%3Dfp8")
    assert page.link_message.value == ""
    assert page.compare.pinned.settings == {"tp": 8.0, "bytes_per_param": "fp8"}
    rows = _rows(page)
    key = "tokens_per_second_per_user"
    b = numbers({key: scenario("llama-3.1-70b", "h100-sxm", tp=8.0, bytes_per_param=1.0)
                 .evaluate(key)})  # fmt: skip
    assert rows[key][1] == pytest.approx(b[key], rel=1e-12)
    assert SizingApp.from_query(page.query()).query() == page.query()



# ----------------------------------------------------------------------------- warming up
def test_warming_compiles_the_layout_ahead_in_steps_that_never_fail():
    """The page compiles the two-GPU layout's figures while idle, a figure at a time (the
    first move of the tensor-parallel slider took 0.5 s, later ones 50 ms); on several GPUs,
    the one-GPU deployment's; a deferred call runs at once without a kernel only when asked."""
    from llmphys.app.figures import BOUNDED, FIGURES
    from llmphys.app.panels import PARTS
    from llmphys.app.warmup import warm_steps
    from llmphys.controls import Deferred

    steps = warm_steps(F.Scenario("llama-3.1-8b", "h100-sxm"))
    # figures, bounds, the memory bar's parts, the frontier
    assert len(steps) == len(FIGURES) + len(BOUNDED) + len(PARTS) + 1
    assert all(step() is None for step in steps)
    # on several GPUs, the one-GPU deployment's figures (their own variants) are warmed
    back = warm_steps(F.Scenario("llama-3.1-8b", "h100-sxm", tp=2))
    assert len(back) == len(steps) and all(step() is None for step in back)
    calls: list[str] = []
    Deferred(1.0, lambda: calls.append("now")).schedule()  # no running loop: at once
    Deferred(1.0, lambda: calls.append("never"), without_loop=False).schedule()
    assert calls == ["now"]


def test_the_served_page_is_warm_before_it_is_shown(monkeypatch):
    """``SizingApp.warm`` (which the served notebook calls before showing the page) compiles
    everything the first layout change needs: moving the tensor-parallel slider then compiles
    nothing, and the page's figures are the Scenario's on two GPUs."""
    import json
    from importlib import resources

    import llmphys.engine.compiled as compiled
    from llmphys.app import SizingApp

    cell = json.loads(resources.files("llmphys.app").joinpath("sizing_app.ipynb").read_text())
    assert "SizingApp.from_query(os.environ.get(\"QUERY_STRING\", \"\")).warm()" in "".join(
        cell["cells"][-1]["source"]
    )
    page = SizingApp("gemma-3-27b").warm()
    assert page._warmup.done == "gemma-3-27b"
    made: list[object] = []
    real = compiled.compile_expression
    monkeypatch.setattr(compiled, "compile_expression", lambda *a: made.append(a) or real(*a))
    page.controls["tp"].value = 2
    assert made == []
    want = F.Scenario("gemma-3-27b", "h100-sxm", tp=2).evaluate("tokens_per_second_per_user")
    assert page.views["tokens_per_second_per_user"].result.m == pytest.approx(want.m, rel=1e-12)
    assert page.warm() is page  # done already: nothing to do
    linked = SizingApp("qwen3-next-80b-a3b", tp=4).warm()  # a link's page on four GPUs
    made.clear()
    linked.controls["tp"].value = 1
    assert made == []  # its one-GPU figures were compiled before the page was shown
