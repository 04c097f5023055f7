"""llmphys.widgets without a browser: set a control's value, read the result and the message."""

from __future__ import annotations

import asyncio
import doctest
import html
import math

import ipywidgets as widgets
import pytest

import llmphys as F
import llmphys.widgets as W
from llmphys.controls import KEY_STEP, LogSlider, set_log_value
from llmphys.engine.formula import Formula
from llmphys.units import Q_

from support import defaults_for

KV = dict(layers=80, n_kv_heads=8, head_dim=128)


def panel(formula: str = "total_vram", **fixed) -> W.Explorer:
    """A panel without presets (the preset tests give theirs)."""
    return W.explore(formula, models={}, hardware={}, **fixed)


def expected(w: W.Explorer, **changes) -> float:
    """The formula's value (a call, validated) at the panel's inputs with ``changes``."""
    return w.formula(**{**w.values, **changes}).to(w.formula.unit).magnitude


# ----------------------------------------------------------------- controls from the glossary
INPUTS = [e for e in F.glossary.inputs()]


@pytest.mark.parametrize("entry", INPUTS, ids=[e.name for e in INPUTS])
def test_every_glossary_symbol_gets_the_control_its_entry_implies(entry):
    control = W.control_for(entry)
    if entry.choices:
        assert isinstance(control, widgets.Dropdown)
        assert [v for _, v in control.options] == [*entry.choices, W.CUSTOM]
    elif entry.range is None:
        assert isinstance(control, (widgets.FloatText, widgets.IntText))
    elif entry.log_scale:
        assert isinstance(control, widgets.FloatLogSlider)
        assert 10**control.min == pytest.approx(entry.range[0])
        assert 10**control.max == pytest.approx(entry.range[1])
    elif entry.integer:
        assert isinstance(control, widgets.IntSlider)
        assert (control.min, control.max) == (round(entry.range[0]), round(entry.range[1]))
    else:
        assert isinstance(control, widgets.FloatSlider)
        assert (control.min, control.max) == pytest.approx(entry.range)
    assert entry.meaning in control.tooltip
    if entry.default is not None and not entry.choices:
        assert control.value == pytest.approx(entry.default)


def test_log_scale_rule_is_the_glossarys_two_decades():
    assert F.glossary["seq_len"].log_scale  # 1 .. 2e6
    assert not F.glossary["utilization"].log_scale  # 0.01 .. 1: two decades, not more
    assert isinstance(W.control_for(F.glossary["utilization"]), widgets.FloatSlider)
    assert isinstance(W.control_for(F.glossary["norms_per_layer"]), widgets.IntSlider)


def test_one_control_per_free_input_labelled_with_symbol_and_unit():
    w = panel()
    assert list(w.controls) == list(F.total_vram.input_names)
    row = w.controls_box.children[list(w.controls).index("seq_len")]
    label, control, typed, unit = row.children  # a log slider has its typed-value box
    assert label.value == f"${F.glossary['seq_len'].latex}$"
    assert control is w.controls["seq_len"]
    assert typed.value == "10000" and unit.value == "tok"


def test_fixed_inputs_get_no_control_and_a_given_part_replaces_its_inputs():
    w = panel(**KV)
    assert not {"layers", "n_kv_heads", "head_dim"} & set(w.controls)
    w = panel(weight_bytes=Q_(140, "GB"))
    assert "weight_bytes" not in w.controls
    assert "params" not in w.controls and "bytes_per_param" not in w.controls
    assert w.result.to("GB").magnitude == pytest.approx(expected(w) / 1e9)
    assert "M_w = 140 GB" in w.header.value


# ----------------------------------------------------------------- live result
def test_changing_a_slider_changes_the_result():
    w = panel()
    before = w.result
    w.controls["seq_len"].value = 20000
    assert w.result != before
    assert w.values["seq_len"] == 20000
    assert w.result.magnitude == pytest.approx(expected(w), rel=1e-12)
    assert w.message.value == ""
    assert "GB" in w.output.value and "GiB" in w.output.value  # memory shown both ways


def test_result_at_the_defaults_is_the_formulas():
    w = panel()
    f = F.total_vram
    assert w.result.magnitude == pytest.approx(f(**defaults_for(f)).magnitude, rel=1e-12)


def test_integer_symbol_on_a_log_slider_snaps_to_whole_numbers():
    w = panel()
    w.controls["seq_len"].value = 12345.6
    assert w.controls["seq_len"].value == 12346
    assert w.values["seq_len"] == 12346


# ----------------------------------------------------------------- log sliders and the keyboard
# (issue 22, item 4).  A browser's key press on a slider without a step grid sends the value a
# tenth of the range away (80 -> 136 layers); the slider reads that as a key press and moves by
# KEY_STEP instead.  ``press`` sends what the browser sends, through the widget's set_state.
LOG_INPUTS = [e for e in INPUTS if e.range and e.log_scale and not e.choices]


def press(slider: widgets.FloatLogSlider, keys: int = 1, origin: float | None = None) -> None:
    """What the browser sends after ``keys`` presses (negative: down; 5: Page Up) from
    ``origin`` (an exponent; default: where the slider is), stopped at the ends as there."""
    tenth = (slider.max - slider.min) / 10
    at = (math.log10(slider.value) if origin is None else origin) + keys * tenth
    slider.set_state({"value": 10 ** min(max(at, slider.min), slider.max)})


@pytest.mark.parametrize("entry", LOG_INPUTS, ids=[e.name for e in LOG_INPUTS])
def test_log_sliders_have_no_grid_and_a_small_key_step(entry):
    control = W.control_for(entry)
    assert isinstance(control, LogSlider) and control.integer == bool(entry.integer)
    # no grid (a browser would snap 70.55B onto it and send 70.8B back); a key: 2.3 %
    assert control.step is None
    assert control.key_step == KEY_STEP and 1.02 < 10**KEY_STEP < 1.05


@pytest.mark.parametrize(
    ("name", "start", "after"),
    [("layers", 80, [82, 84, 86]), ("seq_len", 10_000, [10233, 10471, 10715]),
     ("batch", 1, [2, 3, 4]), ("n_kv_heads", 8, [9, 10, 11]),
     ("params", 264e9, [264e9 * 10 ** (0.01 * k) for k in (1, 2, 3)]),
     ("mem_bandwidth", 3.35e12, [3.35e12 * 10 ** (0.01 * k) for k in (1, 2, 3)])],
)  # fmt: skip
def test_a_key_press_moves_a_log_slider_a_little(name, start, after):
    # the steps were 80 -> 136 layers and 10,000 -> 42,668 tokens
    w = panel()
    slider = w.controls[name] if name in w.controls else W.control_for(F.glossary[name])
    slider.value = start
    for expected in after:
        press(slider)
        assert slider.value == pytest.approx(expected, rel=1e-9)
        if name in w.controls:
            assert w.values[name] == pytest.approx(expected, rel=1e-9)
    for expected in [*after[-2::-1], start]:
        press(slider, -1)
        assert slider.value == pytest.approx(expected, rel=1e-9)


def test_five_presses_take_the_parameters_a_little_further_not_to_two_trillion():
    slider = panel().controls["params"]
    slider.value = 264e9
    for _ in range(5):
        press(slider)
    assert slider.value == pytest.approx(264e9 * 10**0.05, rel=1e-9)  # 296G (was 2.00T)


def test_a_count_moves_by_at_least_one_per_key():
    slider = W.control_for(F.glossary["layers"])
    slider.value = 1
    for expected in (2, 3, 4, 5):
        press(slider)
        assert slider.value == expected
    press(slider, -1)
    assert slider.value == 4


def test_page_keys_move_five_steps_and_a_key_stopped_at_an_end_moves_one():
    slider = W.control_for(F.glossary["seq_len"])
    slider.value = 10_000
    press(slider, 5)  # Page Up: half the range, stopped at the end by the browser
    assert slider.value == round(10_000 * 10**0.05)
    slider.value = 1_900_000
    press(slider)  # an arrow a tenth of the range from the end: stopped there
    assert slider.value == round(1_900_000 * 10**0.01)
    press(slider)
    assert slider.value == round(round(1_900_000 * 10**0.01) * 10**0.01)


def test_a_key_held_down_counts_from_where_the_browser_is():
    # the browser sends its next press before it has moved to the value sent back
    slider = W.control_for(F.glossary["params"])
    slider.value = 70e9
    press(slider)
    browser_at = math.log10(70e9) + (slider.max - slider.min) / 10
    press(slider, origin=browser_at)
    assert slider.value == pytest.approx(70e9 * 10**0.02, rel=1e-9)


def test_dragging_and_typing_in_the_readout_are_read_as_sent():
    slider = W.control_for(F.glossary["params"])
    slider.value = 70e9
    slider.set_state({"value": 123_456_789_012.0})  # a drag
    assert slider.value == 123_456_789_012
    slider.set_state({"value": 10**slider.max})  # dragged on to the end: the range's end
    assert slider.value == 2e12
    batch = W.control_for(F.glossary["batch"])  # 1 .. 1024: a tenth is about a factor of 2
    batch.value = 4
    batch.set_state({"value": 8.0})  # typed in the readout (the app's): 8, not 4 and a step
    assert batch.value == 8
    batch.set_state({"value": 12.4})  # a count is rounded
    assert batch.value == 12


def test_the_browser_gets_the_value_meant_and_its_echo_is_kept(monkeypatch):
    slider = W.control_for(F.glossary["layers"])
    slider.value = 80
    sent = []
    monkeypatch.setattr(slider, "send_state", lambda key=None: sent.append((key, slider.value)))
    press(slider)
    assert sent == [("value", 82)]  # its handle goes to the value the key meant
    slider.set_state({"value": 82.00000000000001})  # the browser's picture of 82
    assert sent == [("value", 82)]  # not sent again: that would go round for ever
    assert W.read_control(F.glossary["layers"], slider) == 82
    assert not W.settle_control(F.glossary["layers"], slider)


def test_a_range_is_sent_before_the_value():
    # a browser given the value before its new range clamps it to the old one
    slider = W.control_for(F.glossary["params"])
    messages = []
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(slider, "_send", lambda msg, buffers=None: messages.append(msg))
    try:
        set_log_value(slider, 40)
    finally:
        monkeypatch.undo()
    assert [list(m["state"]) for m in messages] == [["min", "value"]]
    assert slider.value == 40 and 10**slider.min < 40


def test_named_precision_dropdown_and_custom_number():
    w = panel()
    w.controls["kv_bytes"].value = "fp8"
    assert w.values["kv_bytes"] == 1.0
    assert w.custom["kv_bytes"].disabled
    w.controls["kv_bytes"].value = W.CUSTOM
    assert not w.custom["kv_bytes"].disabled
    w.custom["kv_bytes"].value = 0.75
    assert w.values["kv_bytes"] == 0.75
    assert w.result.magnitude == pytest.approx(expected(w))


def test_a_bad_custom_number_shows_the_formulas_message_and_the_panel_recovers():
    w = panel()
    w.controls["kv_bytes"].value = W.CUSTOM
    w.custom["kv_bytes"].value = -1
    assert w.result is None
    assert w.error == (
        "formula 'total_vram': argument 'kv_bytes' must be positive; got -1 B/element"
    )
    assert html.escape(w.error) in w.message.value
    w.custom["kv_bytes"].value = 2
    assert w.message.value == ""
    assert w.result is not None


def test_slider_moves_use_the_compiled_function_not_sympy(monkeypatch):
    w = panel()
    w.controls["seq_len"].value = 5000  # warm: everything compiled

    def no_sympy(*args, **kwargs):
        raise AssertionError("SymPy work on a slider move")

    monkeypatch.setattr(Formula, "expand", no_sympy)
    monkeypatch.setattr(Formula, "derive", no_sympy)
    monkeypatch.setattr("sympy.lambdify", no_sympy)
    w.controls["seq_len"].value = 50000
    w.controls["batch"].value = 4
    assert w.message.value == ""
    assert w.values["seq_len"] == 50000
    assert w.result.magnitude == pytest.approx(F.total_vram.lambdify()(**w.values), rel=1e-12)


# ----------------------------------------------------------------- solve for
def test_switching_solve_for_shows_the_solved_value():
    w = panel()
    w.solve_for.value = "seq_len"
    assert w.controls["seq_len"].disabled
    w.target.value = "300 GB"
    given = {k: v for k, v in w.values.items() if k != "seq_len"}
    solution = F.solve("total_vram", "seq_len", target=Q_(300, "GB"), **given)
    assert w.solution.value == solution.value
    assert w.solution.direction == "largest" and w.solution.rounding == "floor"
    assert f"S = {int(solution.value.magnitude)} tok" in w.output.value
    assert "largest S with M_total ≤ 300 GB" in w.output.value
    assert w.controls["seq_len"].value == solution.value.magnitude  # the slider shows it
    assert w.result == solution.check  # the formula at the answer
    assert w.message.value == ""


def test_choosing_an_unknown_prefills_the_target_with_the_current_value():
    w = panel()
    w.solve_for.value = "batch"
    assert w.target.value == "160.1 GB"
    assert w.solution.unknown == "batch"
    w.solve_for.value = W.NOTHING
    assert not w.controls["batch"].disabled
    assert w.solution is None and w.result is not None


def test_requirement_bound_gives_the_smallest_value():
    w = panel("bandwidth_conservative")
    w.solve_for.value = "batch"
    w.bound.value = "at_most"
    w.target.value = "1.2 TB/s"
    assert w.solution.direction == "smallest"
    assert w.solution.check.to("TB/s").magnitude <= 1.2
    w.solve_for.value = "throughput"
    w.bound.value = "at_least"
    w.target.value = "2 TB/s"
    assert w.solution.direction == "smallest"


def test_infeasible_target_shows_the_solvers_explanation_not_a_traceback():
    w = panel()
    w.solve_for.value = "seq_len"
    w.target.value = "10 GB"
    assert w.result is None and w.solution is None
    assert w.error == (
        "solve total_vram for seq_len: weight_bytes (M_w) = 140 GB and workspace_bytes (M_ws) "
        "= 16.8 GB already exceed 10 GB (total_vram is at least 156.8 GB for any seq_len): no "
        "seq_len fits. Lower params, bytes_per_param or workspace_fraction, or raise the budget "
        "(e.g. more GPUs)"
    )
    assert w.message.value == f'<span style="color:#b00020">{html.escape(w.error)}</span>'
    assert w.output.value == "<i>no result</i>"
    w.target.value = "300 GB"  # and the panel keeps working
    assert w.message.value == "" and w.error == ""
    assert w.solution is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "10 s",
            "solve total_vram: the target must be in units convertible to 'B' "
            "([information]); got 's' ([time])",
        ),
        (
            "eighty",
            "target: 'eighty' is not a number or a quantity (examples: 80GB, 3.35 TB/s, 32k)",
        ),
        ("80 GBB", "target: unknown unit 'GBB'; did you mean 'GB' or 'Gb'?"),
        (
            "__import__('os')",
            "target: \"__import__('os')\" is not a number or a quantity (examples: 80GB, "
            "3.35 TB/s, 32k)",
        ),
        (
            "",
            "solve total_vram for seq_len: type a target for M_total, in B or a unit "
            "convertible to it",
        ),
    ],
)
def test_bad_targets_are_explained(text, message):
    w = panel()
    w.solve_for.value = "seq_len"
    w.target.value = text
    assert w.error == message
    assert html.escape(message) in w.message.value
    assert w.result is None


def test_explore_can_start_solving():
    w = W.explore(
        "kv_cache_bytes", solve_for="batch", target="80 GiB", models={}, seq_len=32768, **KV
    )
    assert w.solution.value == Q_(8, "sequence")  # 10 GiB per 32K-token sequence
    assert w.solution.direction == "largest"
    with pytest.raises(F.InputError, match="cannot solve for 'layers'"):
        W.explore("kv_cache_bytes", solve_for="layers", target="80 GiB", models={}, **KV)


# ----------------------------------------------------------------- derivation on demand
def test_derivation_is_rendered_only_when_asked():
    w = panel()
    assert w.derivation_view.value == ""
    w.show_derivation.value = True
    assert w.derivation_view.value.startswith("$$\n\\begin{aligned}")
    derivation = w.derivation
    assert derivation.result.magnitude == pytest.approx(w.result.magnitude, rel=1e-9)
    w.controls["batch"].value = 2
    assert "B &= 2" in w.derivation_view.value
    w.show_derivation.value = False
    assert w.derivation_view.value == ""


def test_in_a_live_kernel_the_derivation_waits_for_a_pause(monkeypatch):
    monkeypatch.setattr(W, "DERIVATION_DELAY", 0.01)

    async def scenario() -> W.Explorer:
        w = panel()
        w.show_derivation.value = True
        assert w.derivation_view.value == ""  # scheduled on the event loop, not yet rendered
        w.controls["batch"].value = 2
        w.controls["batch"].value = 4
        assert w.values["batch"] == 4 and w.result is not None  # the result did not wait
        await asyncio.sleep(0.1)
        return w

    w = asyncio.run(scenario())
    assert "B &= 4" in w.derivation_view.value


def test_derivation_of_a_solve_is_the_solution():
    w = panel()
    w.show_derivation.value = True
    w.solve_for.value = "seq_len"
    w.target.value = "300 GB"
    assert w.derivation is w.solution
    assert "rearranged" in w.derivation_view.value


# ----------------------------------------------------------------- presets
def tiny_model():
    """A small Llama-style model of its own (16 layers, 4 KV heads of 64), from a config.json."""
    return F.load_hf_config(
        {
            "model_type": "llama",
            "hidden_size": 1024,
            "num_hidden_layers": 16,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "head_dim": 64,
            "intermediate_size": 4096,
            "vocab_size": 32000,
            "tie_word_embeddings": False,
        },
        name="tiny",
    )


def test_preset_dropdowns_appear_only_when_they_can_fill_an_input():
    w = W.explore("total_vram", models={"tiny": tiny_model()}, hardware=F.hardware)
    assert list(w.presets) == ["model"]  # total_vram has no hardware inputs
    w = W.explore("ridge_point", models={"tiny": tiny_model()}, hardware=F.hardware)
    assert list(w.presets) == ["hardware", "precision"]
    w = W.explore("weight_bytes", models={}, hardware={})
    assert w.presets == {}


def test_choosing_a_model_fills_the_inputs():
    w = W.explore("total_vram", models={"tiny": tiny_model()}, hardware={})
    w.presets["model"].value = "tiny"
    tiny = tiny_model()
    assert {k: w.values[k] for k in ("params", "layers", "n_kv_heads", "head_dim")} == {
        "params": tiny.values["params"],
        "layers": 16,
        "n_kv_heads": 4,
        "head_dim": 64,
    }
    assert w.result.magnitude == pytest.approx(expected(w))


def test_choosing_a_real_model_swaps_in_its_variant_and_its_inputs():
    w = W.explore("total_vram", hardware={})
    w.presets["model"].value = "deepseek-v3"
    model = F.models["deepseek-v3"]
    # its MLA cache, and its weights as released: FP8 with block scales, BF16 embeddings
    assert w.formula.replacements == {
        "kv_bytes_per_token": "kv_bytes_per_token_mla",
        "weight_bytes": "weight_bytes_mixed_moe",
    }
    assert "kv_lora_rank" in w.controls and "n_kv_heads" not in w.controls
    for name, value in model.inputs_for(w.formula).items():
        assert w.values[name] == value
    assert w.result.magnitude == pytest.approx(expected(w))
    # the header says what changed in words, not the formulas' internal names
    assert "for this model's architecture: " in w.header.value
    assert "multi-head latent attention" in w.header.value
    assert "kv_bytes_per_token_mla" not in w.header.value
    w.presets["model"].value = "llama-3.1-70b"
    assert "n_kv_heads" in w.controls and "kv_lora_rank" not in w.controls
    assert w.values["n_kv_heads"] == 8


def test_choosing_hardware_fills_peak_bandwidth_and_precision():
    w = W.explore("ridge_point", models={})
    w.presets["hardware"].value = "h100-sxm"
    h100 = F.hardware["h100-sxm"]
    assert w.values["peak_flops"] == h100.peak_flops("bf16").to("FLOP/s").magnitude
    assert w.values["mem_bandwidth"] == h100.mem_bandwidth.to("B/s").magnitude
    assert list(w.presets["precision"].options) == h100.precisions()
    w.presets["precision"].value = "fp8"
    assert w.values["peak_flops"] == h100.peak_flops("fp8").to("FLOP/s").magnitude
    w.presets["hardware"].value = "a100-80gb"  # no FP8 on an A100: back to a precision it has
    assert w.presets["precision"].value in F.hardware["a100-80gb"].precisions()
    assert w.message.value == ""


def test_a_preset_beyond_the_sliders_range_widens_it():
    w = W.explore("weight_bytes", models={}, hardware={})
    w.set_value("params", 5e12)
    assert w.values["params"] == 5e12
    assert 10 ** w.controls["params"].max >= 5e12


# ----------------------------------------------------------------- display and import
def test_displays_as_its_widget():
    w = panel()
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert repr(w) == "<Explorer total_vram: 160 GB>"


def test_unknown_formula_and_wrong_type():
    with pytest.raises(F.UnknownNameError, match="unknown formula 'total_vrm'"):
        W.explore("total_vrm")
    with pytest.raises(F.InputError, match="expected a formula or its name"):
        W.explore(3)


def test_module_doctests():
    result = doctest.testmod(W, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_no_nan_or_negative_ranges_in_log_sliders():
    for entry in INPUTS:
        control = W.control_for(entry)
        if isinstance(control, widgets.FloatLogSlider):
            assert math.isfinite(control.min) and control.max > control.min


@pytest.mark.parametrize("name", ["utilization", "mem_bandwidth", "seq_len", "throughput"])
def test_float_sliders_have_no_step_grid(name):
    # a browser snaps a slider's value to its step grid and sends it back: with a grid of
    # 400 steps, 0.4 came back as 0.40105 and 10000 tokens as 10027
    from llmphys.widgets import control_for, read_control

    entry = F.glossary[name]
    control = control_for(entry, entry.default)
    if hasattr(control, "step") and not isinstance(control.value, int):
        assert control.step is None
    assert read_control(entry, control) == entry.default
