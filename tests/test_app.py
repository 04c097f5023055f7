"""The sizing app (``llmphys.app``) without a browser: drive the widgets, read the figures.

Every figure is compared with the Python API computed here, independently of the app's code
(``model.evaluate`` and :mod:`llmphys.sizing` at the same inputs).  The browser test
(``test_app_browser.py``) reuses :func:`api_figures` for the page served by Voilà.
"""

from __future__ import annotations

import datetime
import doctest
import html
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest

import llmphys as F
from llmphys.app.figures import ASSUMPTIONS

from support import config_fixture

ROOT = Path(__file__).resolve().parents[1]
LLAMA_8B = config_fixture("llama")  # Llama-3.1-8B

# the settings the page starts with: the Scenario's defaults and the `typical` assumptions
START = dict(
    bytes_per_param=None,  # "as released": the model's own precisions (weights=None)
    kv_bytes=2.0,
    prompt_len=4096.0,
    new_tokens=1024.0,
    batch=1.0,
    tp=1.0,
    pp=1.0,
    ep=1.0,
    price_per_gpu_hour=2.0,  # the glossary's example price
    act_bytes=2.0,
    # the `typical` set's values (at 16-bit compute): the page's assumptions start there
    **{
        n: F.assumption_sets["typical"].values[n]
        for n in ASSUMPTIONS
        if n != "act_bytes"  # a precision, not a value of the set
    },
)
#: accelerators whose link the tests choose: the page and the API are given this one
LINKS = {"mi300x": "pcie-gen5-x16"}


# ----------------------------------------------------------------------------- the API side
def scenario(model: Any, accelerator: str, precision: str = "bf16",
             assumptions: str = "typical", **changes: float):  # fmt: skip
    """The deployment the page should show, built with the Python API (not the app's code)."""
    at_compute = F.assumption_sets[assumptions].at(precision)[0]  # FP8 has its own utilization
    s = {**START, **{n: v for n, v in at_compute.items() if n in START}, **changes}
    s["assumptions"] = assumptions
    return F.Scenario(
        model,
        accelerator,
        weights=s.pop("bytes_per_param"),
        kv=s.pop("kv_bytes"),
        act=s.pop("act_bytes"),
        compute=precision,
        tp=int(s.pop("tp")),
        pp=int(s.pop("pp")),
        ep=int(s.pop("ep")),
        batch=s.pop("batch"),
        prompt_len=s.pop("prompt_len"),
        output_len=s.pop("new_tokens"),
        interconnect=LINKS.get(accelerator),
        **s,
    )


def api_figures(model: Any, accelerator: str, precision: str = "bf16",
                assumptions: str = "typical", **changes: float):  # fmt: skip
    """Every figure of the page, by the Python API (a Scenario and llmphys.sizing), for
    ``model`` (a preset name or a Model) on ``accelerator`` with the start settings of the
    assumption set ``assumptions`` and ``changes``."""
    from llmphys.sizing import fewest_gpus_layout

    s = scenario(model, accelerator, precision, assumptions, **changes)

    def ask(unknown):
        try:
            return s.solve(unknown).value.magnitude
        except F.InfeasibleError:
            return None

    try:
        fewest = fewest_gpus_layout(s).n_gpus
    except F.InfeasibleError:
        fewest = None
    values = {
        k: s.evaluate(k)
        for k in ("weight_bytes", "kv_cache_bytes", "workspace_bytes", "total_vram",
                  "memory_per_gpu")
    }  # fmt: skip
    try:  # memory's answer capped at the model's own limit (max_position_embeddings)
        context = s.largest_context().value.magnitude
    except F.InfeasibleError:
        context = None
    values |= {"largest_context": context, "largest_batch": ask("batch")}
    values["fewest_gpus"] = fewest
    values |= {
        k: s.evaluate(k)
        for k in ("tokens_per_second_per_user", "tokens_per_second_per_gpu", "ttft", "tpot",
                  "e2e_latency", "cost_per_million_tokens", "cost_per_million_input_tokens",
                  "energy_per_token")
    }  # fmt: skip
    return values


def numbers(figures: dict[str, Any]) -> dict[str, float | None]:
    """Plain numbers in each formula's unit (what ``data-value`` holds); None if infeasible."""
    out: dict[str, float | None] = {}
    for key, q in figures.items():
        if q is None or isinstance(q, (int, float)):
            out[key] = None if q is None else float(q)
        else:
            out[key] = float(q.to(F.registry[_formula_of(key)].unit).magnitude)
    return out


def _formula_of(key: str) -> str:
    from llmphys.app.figures import FIGURES

    return FIGURES[key].formula


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def app():
    """One page for the module (building it builds every model preset); each test sets the
    inputs it relies on."""
    from llmphys.app import SizingApp

    return SizingApp()


def shown(app: Any) -> dict[str, float | None]:
    return {key: view.number for key, view in app.views.items()}


def hook_value(app: Any, key: str) -> float | None:
    """The number in the figure's DOM hook (what the browser test reads)."""
    from llmphys.app.page import hook

    text = app.views[key].value.value
    marker = f'<span class="{hook(key)}" data-value="'
    if marker not in text:
        return None
    return float(text.split(marker, 1)[1].split('"', 1)[0])


def set_inputs(app: Any, model: str, accelerator: str, **settings: Any) -> None:
    app.model.value = model
    app.hardware.value = accelerator
    app.interconnect.value = LINKS.get(accelerator, "")
    app.assumption_set.value = "typical"
    for name, value in {**START, **settings}.items():
        control = app.controls[name]
        entry = F.glossary[name]
        if entry.choices:
            control.value = (
                "released" if value is None
                else value if isinstance(value, str) else _choice(entry, value)
            )  # fmt: skip
        elif isinstance(control, widgets.Checkbox):  # a yes/no setting
            control.value = bool(value)
        else:
            control.value = value


def _choice(entry: Any, value: float) -> str:
    return next(name for name, v in entry.choices.items() if v == value)


def expect(app: Any, expected: dict[str, Any]) -> None:
    want = numbers(expected)
    assert shown(app) == {
        k: None if v is None else pytest.approx(v, rel=1e-12) for k, v in want.items()
    }
    for key, value in want.items():
        assert hook_value(app, key) == (None if value is None else pytest.approx(value, rel=1e-15))


# ----------------------------------------------------------------------------- the notebook
def test_the_notebook_is_the_packaged_one_and_only_builds_the_app():
    from llmphys.app import NOTEBOOK, notebook_path

    packaged = notebook_path()
    assert packaged == ROOT / "formulas" / "app" / NOTEBOOK
    assert (ROOT / "notebooks" / NOTEBOOK).read_bytes() == packaged.read_bytes()
    nb = json.loads(packaged.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert ["".join(c["source"]) for c in code] == [
        "import os\n\nfrom llmphys.app import SizingApp\n\n"
        "# served by `llmphys app`: the link's query string (?model=...&tp=4) gives the state; "
        "the\n# page compiles what a first layout change needs before it is shown\n"
        'SizingApp.from_query(os.environ.get("QUERY_STRING", "")).warm()'
    ]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def test_the_notebook_is_package_data():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "sizing_app.ipynb" in config["tool"]["setuptools"]["package-data"]["llmphys.app"]


def test_import_llmphys_does_not_load_the_app_and_the_app_package_is_light():
    code = (
        "import sys, llmphys\n"
        "print('llmphys.app' in sys.modules)\n"
        "import llmphys.app\n"
        "print([m for m in ('ipywidgets', 'llmphys.app.page') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["False", "[]"]


def test_doctests():
    import llmphys.app.figures
    import llmphys.app.server

    for module in (llmphys.app.server, llmphys.app.figures):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__


# ----------------------------------------------------------------------------- figures
def test_the_page_starts_with_the_api_figures(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm")
    expect(app, api_figures("llama-3.1-70b", "h100-sxm"))
    assert app.message.value == ""


PAIRS = [
    ("llama-3.1-8b", "rtx-4090"),
    ("llama-3.1-405b", "b200"),
    ("gemma-3-27b", "l40s"),
    ("mixtral-8x7b", "a100-80gb"),
    ("qwen3-235b-a22b", "h200"),
    ("deepseek-v3", "mi300x"),
    ("gpt-oss-120b", "h100-pcie"),
    ("llama-3.1-70b", "a100-40gb"),
]


@pytest.mark.parametrize(("model", "accelerator"), PAIRS)
def test_every_model_variant_gives_the_api_figures(app, model, accelerator):
    settings = dict(prompt_len=32768, batch=4, tp=8, bytes_per_param=1.0)
    set_inputs(app, model, accelerator, **settings)
    expect(app, api_figures(model, accelerator, **settings))


def test_every_control_moves_the_figures_as_the_api_says(app):
    settings = dict(
        bytes_per_param=0.5,
        kv_bytes=1.0,
        prompt_len=131072,
        new_tokens=2048,
        batch=16,
        tp=4,
        workspace_fraction=0.1,
        utilization=0.5,
        bw_utilization=0.8,
        overhead=0.05,
        flash_attention=1,
        causal_factor=0.5,
        act_bytes=1.0,
    )
    set_inputs(app, "llama-3.1-70b", "h200", **settings)
    expect(app, api_figures("llama-3.1-70b", "h200", **settings))


def test_compute_precision_picks_the_accelerators_peak(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm")
    app.precision.value = "fp8"
    expect(app, api_figures("llama-3.1-70b", "h100-sxm", precision="fp8"))
    app.hardware.value = "a100-80gb"  # no FP8 tensor cores: the precision falls back
    assert app.precision.value == "bf16"
    assert list(app.precision.options) == F.hardware["a100-80gb"].precisions()


def test_custom_precision_reads_its_number_box(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    assert app.custom["bytes_per_param"].disabled
    app.controls["bytes_per_param"].value = "custom"
    assert not app.custom["bytes_per_param"].disabled
    app.custom["bytes_per_param"].value = 0.75
    expect(app, api_figures("llama-3.1-8b", "h100-sxm", bytes_per_param=0.75))


def test_whole_number_sliders_snap_and_typed_values_are_kept_exactly(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    assert app.controls["tp"].step == 1  # a short linear range: whole GPUs
    for name in ("prompt_len", "batch"):
        control = app.controls[name]
        assert control.step is None  # a browser would otherwise move 10000 to 10027
        control.value = 7.6
        assert control.value == 8
    app.controls["prompt_len"].value = 32768
    assert app.scenario.value("prompt_len") == 32768


def test_inputs_in_use_are_listed_with_their_hooks(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm", prompt_len=4000, utilization=0.6)
    text = app.inputs_used.value
    assert '<span class="llmphys-input" data-name="prompt_len" data-value="4000.0" ' in text
    assert 'data-name="tp" data-value="1.0" title="layout"' in text
    # each with where it came from: the set's value keeps its source, a changed one is yours
    assert 'data-name="utilization" data-value="0.6" title="user"' in text
    bw = F.assumption_sets["typical"].values["bw_utilization"]
    assert f'data-name="bw_utilization" data-value="{bw!r}" title="assumptions typical (' in text


def test_memory_bar_splits_each_part_per_gpu(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=4)
    weights = scenario("llama-3.1-70b", "h100-sxm", tp=4).evaluate("weights_per_gpu")
    assert f"weights: {html.escape(_text(weights))} per GPU" in app.bar.value
    assert "capacity of one accelerator: 79.65 GiB" in app.bar.value
    assert 'data-value="true"' in app.fits.value and "fits" in app.fits.value
    set_inputs(app, "llama-3.1-405b", "h100-sxm", tp=1)
    assert 'data-value="false"' in app.fits.value and "does not fit" in app.fits.value


def _text(q: Any) -> str:
    from llmphys.engine.formatting import format_quantity

    return f"{format_quantity(q)} = {format_quantity(q, binary=True)}"


def test_infeasible_limits_show_the_solvers_reason(app):
    set_inputs(app, "llama-3.1-405b", "rtx-4090", tp=1)
    view = app.views["largest_context"]
    assert view.result is None and view.number is None
    assert "already exceed" in view.error and "no seq_len fits" in view.error
    assert "llmphys-figure-error" in view.value.value
    assert html.escape(view.error) in view.value.value
    assert (
        app.views["fewest_gpus"].number
        == api_figures("llama-3.1-405b", "rtx-4090", tp=1)["fewest_gpus"]
    )


def test_a_setting_out_of_its_domain_is_a_message_not_a_traceback(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    app.controls["utilization"].value = 0.01
    app.controls["bytes_per_param"].value = "custom"
    app.custom["bytes_per_param"].value = -1
    assert "bytes_per_param" in app.message.value and "positive" in app.message.value
    assert all(view.result is None for view in app.views.values())
    app.custom["bytes_per_param"].value = 2
    assert app.message.value == ""
    assert app.views["total_vram"].result is not None


def test_an_unexpected_error_is_shown_in_the_page(app, monkeypatch):
    from llmphys.scenario import Scenario

    set_inputs(app, "llama-3.1-8b", "h100-sxm")

    def broken(self, name):
        raise RuntimeError("boom")

    monkeypatch.setattr(Scenario, "evaluate", broken)
    app.controls["batch"].value = 3  # no exception reaches the caller
    assert "unexpected error (RuntimeError): boom" in app.message.value


# ----------------------------------------------------------------------------- derivations
def test_derivations_render_on_demand(app):
    set_inputs(app, "gemma-3-27b", "h100-sxm", prompt_len=32768)
    view = app.views["kv_cache_bytes"]
    assert view.derivation.value == "" and view.derivation.layout.display == "none"
    view.toggle.value = True  # no event loop here: rendered at once
    expected = scenario("gemma-3-27b", "h100-sxm", prompt_len=32768).derive("kv_cache_bytes")
    assert view.derivation.value == expected._repr_latex_()
    assert view.derivation.layout.display is None
    app.controls["batch"].value = 2  # follows the inputs while shown
    again = scenario("gemma-3-27b", "h100-sxm", prompt_len=32768, batch=2)
    assert view.derivation.value == again.derive("kv_cache_bytes")._repr_latex_()
    view.toggle.value = False
    assert view.derivation.value == ""

    limit = app.views["largest_batch"]
    limit.toggle.value = True
    assert limit.derivation.value == (
        "<b>largest B with M_per_GPU ≤ 85.5 GB</b>" + limit.result._repr_latex_()
    )
    limit.toggle.value = False


# ----------------------------------------------------------------------------- uploads
def upload(app: Any, name: str, content: bytes) -> None:
    """As the browser does: the FileUpload's value becomes the file."""
    app.upload.value = (
        {
            "name": name,
            "type": "application/json",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime.datetime.now(datetime.UTC),
        },
    )


BAD_CONFIGS = [
    ("config.json", b'{"model_type": "llama",', "'config.json' is not valid JSON (Expecting"),
    ("list.json", b"[1, 2]", "'list.json' holds a JSON list, not an object"),
    ("latin.json", b'{"a": "\xe9"}', "'latin.json' is not UTF-8 text"),
    ("deep.json", b"[" * 100_000, "'deep.json' is nested too deeply"),
    ("big.json", b" " * 1_000_001, "'big.json' is 1,000,001 bytes: too large for a config.json"),
    ("gpt2.json", b'{"model_type": "gpt2"}', "gpt2.json: config: unsupported model_type 'gpt2'"),
    ("short.json", b'{"model_type": "llama"}', "short.json: llama config: missing field"),
    ("zero.json", json.dumps({**LLAMA_8B, "num_hidden_layers": 0}).encode(), "must be a positive"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS]
)
def test_a_bad_config_says_why_and_keeps_the_model(app, name, content, message):
    set_inputs(app, "mixtral-8x7b", "h100-sxm")
    before = shown(app)
    upload(app, name, content)
    text = html.unescape(app.upload_message.value)
    assert message in text
    assert f"({F.models['mixtral-8x7b'].display_name} stays selected)" in text
    assert app.model.value == "mixtral-8x7b" and shown(app) == before
    assert app.upload.value == ()  # the same file can be chosen again
    assert app.message.value == ""


def test_an_uploaded_config_becomes_the_model_in_use(app):
    set_inputs(app, "mixtral-8x7b", "h100-sxm")
    upload(app, "my-llama.json", json.dumps(LLAMA_8B).encode())
    first = app.model.value
    assert first.startswith("upload:") and first.endswith(":my-llama.json")
    # named after the config's _name_or_path
    assert "read my-llama.json: meta-llama/Llama-3.1-8B" in app.upload_message.value
    label = dict((v, k) for k, v in app.model.options)[first]
    assert label.startswith("meta-llama/Llama-3.1-8B (upload ") and label.endswith(
        ", my-llama.json)"
    )
    assert "assumed: head_dim not given" in app.model_info.value
    expect(app, api_figures(F.load_hf_config(LLAMA_8B), "h100-sxm"))

    # a second file of the same name is a second model: both stay (every HF config is
    # called config.json); presets are still there
    upload(app, "my-llama.json", json.dumps({**LLAMA_8B, "num_hidden_layers": 16}).encode())
    second = app.model.value
    keys = [k for _, k in app.model.options]
    assert second != first and first in keys and second in keys
    expect(app, api_figures(F.load_hf_config({**LLAMA_8B, "num_hidden_layers": 16}), "h100-sxm"))
    app.model.value = first
    expect(app, api_figures(F.load_hf_config(LLAMA_8B), "h100-sxm"))
    app.model.value = "llama-3.1-8b"


def test_a_config_without_a_name_is_named_by_architecture_and_size(app):
    from llmphys.app.figures import read_config

    unnamed = {k: v for k, v in LLAMA_8B.items() if k != "_name_or_path"}
    model = read_config("config.json", json.dumps(unnamed).encode())
    assert model.display_name == "LlamaForCausalLM 8.03B"
    expect(app, api_figures("llama-3.1-8b", "h100-sxm"))


@pytest.mark.parametrize("fixture", ["nemotron_h_nano", "deepseek_v32", "llama4_scout", "mamba2"])
def test_an_uploaded_hybrid_dsa_or_llama4_config_shows_the_api_figures(app, fixture):
    # issue 18: a hybrid (Mamba-2 state), a sparse-attention (DSA) and a Llama 4 config,
    # uploaded, give every figure the Python API gives for the same Model
    from support import real_config

    config = real_config(fixture)
    set_inputs(app, "mixtral-8x7b", "h100-sxm")
    upload(app, f"{fixture}.json", json.dumps(config).encode())
    assert app.model.value.endswith(f":{fixture}.json")
    expect(app, api_figures(F.load_hf_config(config), "h100-sxm"))
    app.model.value = "llama-3.1-8b"


# ----------------------------------------------------------------------------- solve for
def test_solve_for_answers_as_llmphys_solve(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm")
    app.solve_question.value = "ttft"
    assert app.solve_for.value == "prompt_len" and app.solve_bound.value == "at_most"
    assert app.solve_target.value == "2 s"
    s = scenario("llama-3.1-70b", "h100-sxm")
    given = {k: v for k, v in s.values_for("ttft").items() if k != "prompt_len"}
    answer = F.solve(s.formula("ttft"), "prompt_len", target=F.Q_(2, "s"), **given)
    assert app.solution.value == answer.value
    assert f'data-value="{float(answer.value.magnitude)!r}"' in app.solve_answer.value
    assert "largest S_p with t_TTFT ≤ 2 s" in app.solve_answer.value

    app.solve_toggle.value = True
    assert app.solve_derivation.value.endswith(app.solution._repr_latex_())
    assert app.solve_derivation.value.startswith("<b>largest S_p with t_TTFT ≤ 2 s</b>")
    app.solve_toggle.value = False
    assert app.solve_derivation.value == ""

    # the answer follows the inputs
    app.controls["batch"].value = 2
    again = scenario("llama-3.1-70b", "h100-sxm", batch=2).solve("prompt_len", "2 s", of="ttft")
    assert app.solution.value == again.value


def test_solve_for_decode_speed_and_memory(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    app.solve_question.value = "tokens_per_second_per_user"
    assert app.solve_for.value == "batch" and app.solve_bound.value == "at_least"
    app.solve_target.value = "100 tok/s"
    s = scenario("llama-3.1-8b", "h100-sxm")
    answer = s.solve("batch", "100 tok/s", of="tokens_per_second_per_user", bound="at_least")
    assert app.solution.value == answer.value
    assert answer.direction == "largest"  # at least 100 tok/s each: the most sequences

    app.solve_question.value = "memory_per_gpu"
    assert app.solve_for.value == "seq_len"
    assert app.solve_target.value == "81559 MiB"  # the capacity exactly
    # "solve for" answers memory alone; the figure caps it at the model's 131,072 tokens
    context = app.views["largest_context"].result
    assert app.solution.value == context.memory.value > context.value
    assert context.binds == "model" and context.value.magnitude == 131072
    names = [n for _, n in app.solve_for.options]
    # one GPU: memory_per_gpu is the total over n_GPU (the layout's own formula above one)
    assert names == [
        "bytes_per_param",
        "kv_bytes",
        "batch",
        "seq_len",
        "workspace_fraction",
        "params",
        "layers",
        "n_kv_heads",
        "head_dim",
        "n_gpus",
    ]
    app.controls["tp"].value = 2
    names = [n for _, n in app.solve_for.options]
    # the page's settings first (the layout's degrees among them), then the context
    assert names[:5] == ["bytes_per_param", "kv_bytes", "batch", "tp", "pp"]
    assert "seq_len" in names and names.index("seq_len") > names.index("pp")
    assert "pp" in names and "n_gpus" not in names


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("1 GB", "already exceed"),
        ("", "type a target"),
        ("lots", "'lots' is not a number or a quantity"),
        ("2 s", "must be in units convertible to 'B'"),
    ],
)
def test_solve_for_problems_are_messages(app, target, message):
    set_inputs(app, "llama-3.1-70b", "h100-sxm")
    app.solve_question.value = "memory_per_gpu"
    app.solve_target.value = target
    assert app.solution is None
    assert message in html.unescape(app.solve_message.value)
    assert app.solve_answer.value == ""
    app.solve_question.value = ""


def test_scenario_refuses_unknown_settings():
    from llmphys.app.figures import scenario_of

    with pytest.raises(F.InputError, match="'seq_length' is not a setting"):
        scenario_of(F.models["llama-3.1-8b"], F.hardware["h100-sxm"], seq_length=1)


def test_the_page_follows_the_layout(app):
    # issue 15: Llama-3.1-70B on 2 x H100 decoded at one GPU's speed (14.1 tok/s)
    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=1)
    one = app.views["tokens_per_second_per_user"].number
    app.controls["tp"].value = 2
    two = app.views["tokens_per_second_per_user"].number
    assert two == pytest.approx(
        scenario("llama-3.1-70b", "h100-sxm", tp=2).evaluate("decode_throughput_parallel")
        .magnitude, rel=1e-12
    )  # fmt: skip
    assert 1.8 < two / one < 2.0
    assert (
        app.views["fewest_gpus"].number == 2 and "n_TP = 2" in app.views["fewest_gpus"].value.value
    )


def test_the_assumption_set_resets_its_controls(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    app.assumption_set.value = "seed"
    assert app.controls["utilization"].value == 0.4 and app.controls["overhead"].value == 0.08
    assert app.scenario.source("utilization").startswith("assumptions seed (")
    expect(app, api_figures("llama-3.1-8b", "h100-sxm", assumptions="seed"))
    app.assumption_set.value = "typical"


# ----------------------------------------------------------------------------- app 2.0 (issue 21)
def test_speed_and_cost_figures_show_the_bound_beside_the_expected_value(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=4, batch=8)
    bound = scenario("llama-3.1-70b", "h100-sxm", tp=4, batch=8).bound()
    for key in ("ttft", "tpot", "tokens_per_second_per_user", "cost_per_million_tokens",
                "energy_per_token"):  # fmt: skip
        text = app.views[key].value.value
        want = bound.evaluate(key).to(F.registry[key].unit).magnitude
        got = float(text.split(f'class="llmphys-bound-{key.replace("_", "-")}" data-value="')[1]
                    .split('"')[0])  # fmt: skip
        assert got == pytest.approx(want, rel=1e-12), key
        assert "expected · bound" in text and "(ideal)" in text


def test_a_layout_moves_the_speed_figures_to_the_parallel_formulas(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=4, pp=2)
    expect(app, api_figures("llama-3.1-70b", "h100-sxm", tp=4, pp=2))
    assert "layout" in app.scenario.features and app.scenario.n_gpus == 8


def test_cost_per_million_tokens_follows_the_price_typed(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm", batch=32, price_per_gpu_hour=3.5)
    expect(app, api_figures("llama-3.1-8b", "h100-sxm", batch=32, price_per_gpu_hour=3.5))
    per_gpu = hook_value(app, "tokens_per_second_per_gpu")
    # $3.50 an hour over the tokens one GPU decodes in that hour
    assert hook_value(app, "cost_per_million_tokens") == pytest.approx(3.5 / (per_gpu * 3600) * 1e6)


def test_yes_no_settings_are_check_boxes(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    assert isinstance(app.controls["flash_attention"], widgets.Checkbox)
    app.controls["flash_attention"].value = False
    assert app.scenario.value("flash_attention") == 0
    app.controls["flash_attention"].value = True
    assert app.scenario.value("flash_attention") == 1


def test_a_derivation_toggle_says_what_it_will_do(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    toggle = app.views["ttft"].toggle
    assert toggle.description == "show derivation"
    toggle.value = True
    assert toggle.description == "hide derivation"
    toggle.value = False
    assert toggle.description == "show derivation"


def test_invalid_inputs_clear_the_last_answer_of_solve_for(app):
    set_inputs(app, "llama-3.1-8b", "h100-sxm")
    app.solve_question.value = "memory_per_gpu"
    app.update()
    assert "llmphys-solve-value" in app.solve_answer.value
    app.controls["bytes_per_param"].value = "custom"
    app.custom["bytes_per_param"].value = -1
    app.update()
    assert app.solve_answer.value == "" and "no answer" in app.solve_message.value
    app.controls["bytes_per_param"].value = "bf16"
    app.solve_question.value = ""


def test_the_default_memory_target_is_the_exact_capacity(app):
    # a rounded capacity ("79.6475 GiB") moved the answer by one token against "largest context"
    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=4)
    app.solve_question.value = "memory_per_gpu"
    app.update()
    assert app.solve_target.value == "81559 MiB"
    assert app.solve_for.value == "seq_len"
    solved = float(app.solve_answer.value.split('data-value="')[1].split('"')[0])
    assert solved == pytest.approx(app.scenario.solve("seq_len").value.magnitude)
    # the answer reads with thousands separators, its rounding without a contradiction
    assert "," in app.solve_answer.value
    app.solve_question.value = ""


def test_a_picked_figure_opens_on_an_answer_not_a_refusal(app):
    # 70B in BF16 on one H100: no context fits; the question opens on the bytes per weight
    set_inputs(app, "llama-3.1-70b", "h100-sxm")
    app.solve_question.value = "memory_per_gpu"
    app.update()
    assert app.solve_for.value == "bytes_per_param"
    assert "llmphys-solve-value" in app.solve_answer.value and app.solve_message.value == ""
    app.solve_question.value = ""


def test_page_numbers_have_separators_and_no_mixed_notation():
    from llmphys.app.views import page_number

    assert page_number(2685244, exact=True) == "2,685,244"
    assert page_number(2685244.3, exact=True) == "2,685,244.3"
    assert page_number(300102.9, exact=True) == "300,102.9"  # never "rounded from 300103"
    assert page_number(12345.678) == "12,346"
    assert page_number(0.012345) == "0.01235"


def test_copy_as_python_and_as_cli_give_the_pages_numbers(app):
    import shlex
    from contextlib import redirect_stdout
    from io import StringIO

    from llmphys.cli import main as cli_main

    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=4, batch=16, utilization=0.55)
    app.export.selected_index = 0  # opening the section builds it
    python = html.unescape(app.export_python.value.split(">", 1)[1].rsplit("</pre>", 1)[0])
    namespace: dict = {}
    exec(python.replace("print(s.summary())", ""), namespace)
    rebuilt = namespace["s"]
    for key in ("ttft", "tpot", "tokens_per_second_per_gpu", "memory_per_gpu"):
        want = rebuilt.evaluate(key).to(F.registry[key].unit).magnitude
        assert hook_value(app, key) == pytest.approx(want, rel=1e-12), key
    command = html.unescape(app.export_cli.value.split(">", 1)[1].rsplit("</pre>", 1)[0])
    out = StringIO()
    with redirect_stdout(out):
        assert cli_main(["--json", *shlex.split(command.replace("\\\n", " "))[1:]]) == 0
    ttft = json.loads(out.getvalue())["figures"]["ttft"]["value"]
    assert F.Q_(ttft["value"], ttft["unit"]).to("s").magnitude == pytest.approx(
        hook_value(app, "ttft"), rel=1e-3
    )
    assert 'download="llmphys-scenario.json"' in app.export_links.value
    assert 'download="llmphys-scenario.csv"' in app.export_links.value
    app.export.selected_index = None


def test_an_infeasible_limit_is_a_short_message_with_the_details_on_demand(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm")  # 141 GB of weights on one 80 GB GPU
    text = app.views["largest_context"].value.value
    summary, details = text.split("<summary>", 1)[1].split("</summary>", 1)
    assert "already exceed" in details and len(html.unescape(summary)) < 200
    assert not summary.split(">", 2)[-1].startswith("solve ")  # no internal prefix in the row


def test_a_target_without_a_unit_says_how_it_was_read(app):
    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=4)
    app.solve_question.value = "ttft"
    app.solve_target.value = "2"
    app.update()
    assert "target read as 2 s" in app.solve_answer.value
    app.solve_target.value = "2 s"
    app.update()
    assert "read as" not in app.solve_answer.value
    app.solve_question.value = ""


def test_the_frontier_chart_points_are_the_apis(app):
    import re

    from llmphys.app.frontier_panel import BATCHES

    set_inputs(app, "llama-3.1-70b", "h100-sxm", tp=4, batch=8)
    api = F.frontier(scenario("llama-3.1-70b", "h100-sxm", tp=4, batch=8),
                     over={"batch": list(BATCHES)}).points  # fmt: skip
    svg = app.frontier.chart.value
    found = re.findall(r'data-batch="([^"]+)" data-user="([^"]+)" data-gpu="([^"]+)" '
                       r'data-fits="(true|false)"', svg)  # fmt: skip
    assert len(found) == len(BATCHES)
    for (b, u, g, fit), (_, row) in zip(found, api.iterrows(), strict=True):
        assert float(b) == row["batch"]
        assert float(u) == pytest.approx(row["tokens_per_second_per_user"], rel=1e-12)
        assert float(g) == pytest.approx(row["tokens_per_second_per_gpu"], rel=1e-12)
        assert (fit == "true") == bool(row["fits"])
    assert 'r="6"' in svg  # the batch in use is ringed
    # the question: the largest batch with at least 30 tok/s per user that fits
    app.frontier.floor.value = 30
    best = api[api["fits"] & (api["tokens_per_second_per_user"] >= 30)].iloc[-1]
    shown = float(app.frontier.answer.value.split('data-value="')[1].split('"')[0])
    assert shown == best["batch"]
    app.frontier.floor.value = 1e5  # faster than any batch gives: a message, not a number
    assert "llmphys-message" in app.frontier.answer.value
    app.frontier.floor.value = 20
