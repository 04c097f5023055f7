"""Scenario: one deployment (model, hardware, precisions, layout, workload, assumptions), every
figure of it with the provenance of each input (issue 15)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmphys as F
from llmphys.errors import ConfigError, InputError, UnknownNameError
from llmphys.scenario import DEFAULTS, FIGURES
from llmphys.sizing.layouts import decode_throughput

SEED_TTFT = dict(  # seed, Total Prefill FLOPs: "1.66e15 / 200e12 = 8.3 seconds" + 80 ms
    assumptions="seed", prompt_len=10000, active_params=70e9, effective_flops=200e12
)


def test_layout_decode_speed_is_the_parallel_formulas_value_and_follows_tp():
    common = dict(batch=1, prompt_len=4096, output_len=1024)
    one = F.Scenario("llama-3.1-70b", "h100-sxm", tp=1, **common)
    two = F.Scenario("llama-3.1-70b", "h100-sxm", tp=2, **common)
    # the same figure from the parallel formulas through parallel_sizing's own resolver
    kw = dict(
        bytes_per_param="bf16", kv_bytes="bf16", act_bytes="bf16", batch=1, prompt_len=4096,
        new_tokens=1024, n_microbatches=1, comm_overlap=0,
    )  # fmt: skip
    expected = decode_throughput("llama-3.1-70b", "h100-sxm", "nvlink-4", tp=2, **kw)
    got = two.evaluate("tokens_per_second_per_user")
    assert got.magnitude == pytest.approx(expected.to("token/second").magnitude, rel=1e-12)
    assert "layout" in two.features and "layout" not in one.features
    # twice the GPUs read half the weights each: faster, but not twice (all-reduces, and the
    # efficiency model's fixed cost per layer, which a second GPU does not halve)
    ratio = got / one.evaluate("tokens_per_second_per_user")
    assert 1.5 < ratio.magnitude < 2.0
    bound = got / two.bound().evaluate("tokens_per_second_per_user")
    assert bound.magnitude < 1
    # per GPU: the batch's tokens shared by the layout's two GPUs
    assert two.evaluate("tokens_per_second_per_gpu").magnitude == pytest.approx(got.magnitude / 2)
    # on several GPUs, memory per GPU is the layout's (replicated parts counted on each GPU)
    assert two.formula("memory_per_gpu") is F.registry["vram_per_gpu"]
    assert one.formula("memory_per_gpu") is F.registry["memory_per_gpu"]
    # the layout's decode step, inside the efficiency model's (typical)
    assert two.formula("tpot").replacements["decode_step_time"] == "decode_step_time_calibrated"
    assert two.bound().formula("tpot").replacements["decode_step_time"] == (
        "decode_step_time_parallel"
    )


def test_the_layout_variants_equal_the_single_gpu_formulas_on_one_gpu():
    s = F.Scenario("gemma-3-27b", "h100-sxm", batch=4)
    swept = s.sweep(*FIGURES, tp=[1])  # a tp axis uses the layout variants
    for name in FIGURES:
        assert float(swept[name][0]) == pytest.approx(s.evaluate(name).magnitude, rel=1e-12)


def test_seed_assumptions_reproduce_the_seed_ttft():
    s = F.Scenario("llama-3.1-70b", "a100-80gb", **SEED_TTFT)
    assert round(s.evaluate("ttft").to("s").magnitude, 2) == 8.39
    assert s.source("effective_flops") == "user"
    assert s.source("overhead").startswith("assumptions seed (seed: Formula Summary / TTFT")


def test_the_assumption_sets_carry_a_source_for_every_value():
    names = set(F.assumption_sets["ideal"].values)
    for name in ("ideal", "seed", "typical"):
        a = F.assumption_sets[name]
        assert set(a.values) == names and all(a.sources[k] for k in names)
    ideal = F.assumption_sets["ideal"].values
    assert ideal["utilization"] == ideal["bw_utilization"] == 1 and ideal["overhead"] == 0
    seed = F.assumption_sets["seed"].values
    # the seed's own numbers (seed: Validation Examples, Workspace, TTFT, Optimistic Bandwidth)
    assert (seed["utilization"], seed["bw_utilization"], seed["workspace_fraction"]) == (
        0.4, 0.6, 0.12,
    )  # fmt: skip
    assert (seed["overhead"], seed["cache_hit"], seed["causal_factor"]) == (0.08, 0.8, 1)
    # the bound is the fastest: ideal beats typical beats seed on every time
    times = {
        n: F.Scenario("llama-3.1-8b", "h100-sxm", assumptions=n, batch=8).evaluate("e2e_latency")
        for n in ("ideal", "typical", "seed")
    }
    assert times["ideal"] < times["typical"] < times["seed"]


def test_assumptions_as_a_dict_change_only_what_is_given():
    s = F.Scenario(assumptions={"utilization": 0.7, "base": "ideal"})
    assert s.value("utilization") == 0.7 and s.value("bw_utilization") == 1
    assert s.source("utilization") == "assumptions ideal+custom (user)"
    with pytest.raises(ConfigError, match="'utilisation' is not an input symbol; did you mean"):
        F.Scenario(assumptions={"utilisation": 0.7})
    with pytest.raises(UnknownNameError, match="unknown assumption set 'typcal'; did you mean"):
        F.Scenario(assumptions="typcal")


def test_every_input_has_a_provenance_and_derivations_show_it():
    s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=4, batch=32)
    table = s.inputs()
    assert len(table.rows) == len(s._values) > 40
    kinds = {source.split(" ", 1)[0].rstrip(":") for source in table.sources.values()}
    assert kinds == {
        "model", "hardware", "interconnect", "assumptions", "precision", "workload", "layout",
        "default",
    }  # fmt: skip
    assert table.sources["bytes_per_param"] == "precision fp8"
    assert table.sources["peak_flops"].endswith("dense bf16")
    assert table.sources["link_bandwidth"].startswith("interconnect NVLink 4")
    assert table.sources["seq_len"].startswith("workload: prompt_len + output_len")
    # a figure's own inputs, and its derivation, say where each value came from
    d = s.derive("tpot")
    values = {v["name"]: v["source"] for v in d.to_dict()["values"]}
    assert values["layers"] == "model Llama-3.1-70B (config.json)"
    assert values["tp"] == "layout" and all(values.values())
    assert "[precision fp8]" in str(d) and "Where the values come from" in d._repr_markdown_()
    assert d.result.magnitude == pytest.approx(s.evaluate("tpot").magnitude, rel=1e-9)


def test_overrides_win_and_parts_may_be_given_by_value():
    s = F.Scenario(seq_len=32768, utilization=0.6)
    assert s.value("seq_len") == 32768 and s.source("seq_len") == "user"
    t = s.replace(effective_flops=F.Q_(300, "TFLOPS"))
    assert t.values_for("prefill_time")["effective_flops"] == 300e12
    with pytest.raises(UnknownNameError, match="'utilisation' is neither an input nor a formula"):
        F.Scenario(utilisation=0.6)


def test_replace_and_with_values_reuse_the_compiled_figures():
    s = F.Scenario(batch=8)
    s.evaluate("tpot")
    t = s.replace(batch=16)
    assert t._compiled is s._compiled and t.value("batch") == 16 and s.value("batch") == 8
    u = s.with_values(batch=32)
    assert u.evaluate("tpot") == s.replace(batch=32).evaluate("tpot")
    assert u.source("batch") == "user" and s.value("batch") == 8
    with pytest.raises(InputError, match="'tp' is not a plain input here; use replace"):
        s.with_values(tp=2)
    assert s.replace(tp=2)._compiled is not s._compiled  # other formulas: the layout's


def test_arguments_rebuild_the_deployment():
    s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=2, utilization=0.6)
    s = s.with_values(batch=4)
    args = s.arguments()
    assert args["weights"] == "fp8" and args["tp"] == 2 and args["assumptions"] is s.assumptions
    assert args["utilization"] == 0.6 and args["batch"] == 4  # overrides and changed values
    again = F.Scenario(s.model, s.hardware, **args)
    assert again.features == s.features
    for name in FIGURES:
        assert again.evaluate(name) == s.evaluate(name), name


def test_compiled_gives_the_figure_as_a_function_of_plain_numbers():
    s = F.Scenario("deepseek-v3", "h200", weights="fp8", tp=8, batch=4)
    found = s.compiled("tpot")
    assert found.formula is s.formula("tpot") and found.formula is not F.registry["tpot"]
    assert found.names == tuple(s.values_for("tpot"))
    value = found.function(*[s.value(n) for n in found.names])
    assert F.Q_(value, found.formula.unit) == s.evaluate("tpot")
    assert s.with_values(batch=8).compiled("tpot") is found  # compiled once
    with pytest.raises(UnknownNameError):
        s.compiled("ttfd")


def test_code_from_a_scenario_reads_only_its_public_api():
    import inspect

    import llmphys.calibration
    import llmphys.compare
    import llmphys.scenario_answers
    import llmphys.scenario_code
    import llmphys.scenario_report

    for module in (llmphys.calibration, llmphys.scenario_code, llmphys.scenario_answers,
                   llmphys.scenario_report, llmphys.compare):  # fmt: skip
        source = inspect.getsource(module)
        assert "._args" not in source and "._overrides" not in source, module.__name__
        assert "._compile" not in source and "._values" not in source, module.__name__


def test_compare_lists_what_differs():
    h100 = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=2, batch=16)
    h200 = h100.replace(hardware="h200")
    c = h100.compare(h200)
    names = [k for k, _, _ in c.figures]
    assert "weight_bytes" not in names and "tpot" in names
    # memory-bound decode: the bandwidth ratio at the bound; expected, the fixed costs (which
    # more bandwidth does not shorten) bring it closer to 1
    bound = h100.bound().compare(h200.bound())
    assert bound.ratio("tpot") == pytest.approx(3.35 / 4.8, rel=0.05)
    assert bound.ratio("tpot") < c.ratio("tpot") < 1
    assert {k for k, _, _ in c.inputs} >= {"mem_bandwidth", "gpu_memory"}
    assert "right / left" in str(c)


def test_summary_answers_the_deployment_questions():
    s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=4, batch=32)
    summary = s.summary()
    # 70.6 GB of FP8 weights + 8.5 GB workspace + 32 x 5,120 tokens x 328 kB of KV: 2 GPUs
    assert summary.fits and summary["fewest_gpus"] == 2
    assert not s.replace(tp=1).summary().fits
    assert summary["largest_batch"].magnitude >= 32
    assert summary["tokens_per_second_per_gpu"].magnitude == pytest.approx(
        s.evaluate("tokens_per_second_per_gpu").magnitude
    )
    data = json.loads(json.dumps(s.to_dict()))
    assert data["figures"]["memory_per_gpu"]["value"]["unit"] == "B" or data["fits"]
    assert "<table>" in s._repr_html_() and "memory per GPU" in str(summary)
    big = F.Scenario("deepseek-v3", "h100-sxm", weights="fp8", compute="fp8")
    assert not big.summary().fits and big.summary()["largest_context"] is None


def test_fewest_gpus_layout_matches_parallel_sizing():
    from llmphys.sizing import fewest_gpus_layout
    from llmphys.sizing.layouts import fewest_gpus

    s = F.Scenario("deepseek-v3", "h100-sxm", weights="bf16", assumptions="seed", prompt_len=32768,
                   output_len=0)  # fmt: skip
    best = fewest_gpus_layout(s)
    old = fewest_gpus(
        "deepseek-v3", "h100-sxm", bytes_per_param="bf16", kv_bytes="bf16", seq_len=32768,
        batch=1, workspace_fraction=0.12,
    )  # fmt: skip
    assert (best.n_gpus, best.value("tp"), best.value("pp")) == (old.n_gpus, old.tp, old.pp)


def test_sweep_over_batch_and_layout():
    s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8")
    ds = s.sweep("tokens_per_second_per_user", "memory_per_gpu", batch=[1, 8, 64], tp=[1, 2, 4])
    assert ds["tokens_per_second_per_user"].dims == ("batch", "tp")
    for b in (1, 8, 64):
        for tp in (1, 2, 4):
            point = s.replace(batch=b, tp=tp)
            got = ds["tokens_per_second_per_user"].sel(batch=b, tp=tp)
            assert float(got) == pytest.approx(
                point.evaluate("tokens_per_second_per_user").magnitude, rel=1e-12
            )
    assert ds["memory_per_gpu"].attrs["units"] == "B"
    with pytest.raises(UnknownNameError, match="'bacth' is not an input; did you mean 'batch'"):
        s.sweep(bacth=[1, 2])


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 256),
    prompt=st.integers(1, 131072),
    out=st.integers(0, 8192),
    tp=st.sampled_from([1, 2, 4, 8]),
)
def test_property_sweep_point_equals_scalar_scenario(batch, prompt, out, tp):
    s = F.Scenario("mixtral-8x7b", "h100-sxm", tp=tp)
    ds = s.sweep("tpot", "ttft", batch=[batch], prompt_len=[prompt], output_len=[out])
    point = s.replace(batch=batch, prompt_len=prompt, output_len=out)
    for name in ("tpot", "ttft"):
        assert float(ds[name].values.flat[0]) == pytest.approx(
            point.evaluate(name).magnitude, rel=1e-12
        )


@settings(max_examples=25, deadline=None)
@given(prompt=st.integers(128, 65536), batch=st.integers(1, 64))
def test_property_largest_context_round_trip(prompt, batch):
    s = F.Scenario("llama-3.1-8b", "a100-80gb", batch=batch, prompt_len=prompt)
    try:
        solved = s.solve("seq_len")
    except F.InfeasibleError:
        return
    n = solved.value.magnitude
    s = s.replace(prompt_len=min(prompt, n))  # a context of n tokens holds at most n prompt ones
    assert s.replace(seq_len=n).evaluate("memory_per_gpu") <= s.capacity
    assert s.replace(seq_len=n + 1).evaluate("memory_per_gpu") > s.capacity


def test_solve_a_figure_for_an_input():
    s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=2)
    longest = s.solve("prompt_len", "2 s", of="ttft")
    assert s.replace(prompt_len=longest.value.magnitude).evaluate("ttft") <= F.Q_(2, "s")
    assert s.replace(prompt_len=longest.value.magnitude + 1).evaluate("ttft") > F.Q_(2, "s")
    fast = s.solve("batch", "20 tok/s", of="tokens_per_second_per_user")
    assert fast.direction == "largest"  # at least 20 tok/s per user: the largest batch
    assert s.replace(batch=fast.value.magnitude).evaluate("tokens_per_second_per_user") >= F.Q_(
        20, "token/s"
    )
    with pytest.raises(UnknownNameError, match="'batc' is not an input of ttft here"):
        s.solve("batc", "2 s", of="ttft")


def test_bad_scenarios_are_refused_with_a_reason():
    with pytest.raises(UnknownNameError, match="unknown model 'llama-70b'; did you mean"):
        F.Scenario("llama-70b")
    with pytest.raises(InputError, match="has no fp8 tensor cores"):
        F.Scenario("llama-3.1-8b", "a100-80gb", compute="fp8")
    with pytest.raises(InputError, match="'batch' must be positive; got -1"):
        F.Scenario(batch=-1)
    with pytest.raises(InputError, match="n_PP = 100 is more than the 80 layers"):
        F.Scenario(pp=100)
    unlinked = dataclasses.replace(F.hardware["mi300x"], interconnect=None)  # a custom board
    with pytest.raises(InputError, match="MI300X has no usual interconnect on record"):
        F.Scenario("llama-3.1-70b", unlinked, tp=2)
    assert F.Scenario("llama-3.1-70b", unlinked, tp=2, interconnect="pcie-gen5-x16").n_gpus == 2
    with pytest.raises(InputError, match="output_len="):
        F.Scenario(new_tokens=5)
    with pytest.raises(InputError, match=r"'sliding_window'.*Llama-3\.1-8B"):
        F.Scenario("llama-3.1-8b").evaluate("windowed_seq_len")


def test_a_layout_the_model_cannot_take_is_refused():
    with pytest.raises(InputError) as info:
        F.Scenario("llama-3.1-70b", tp=3)
    assert str(info.value) == (
        "Scenario: n_TP = 3 does not split the 64 query heads and 8 KV heads of Llama-3.1-70B "
        "evenly (n_TP up to 8 it allows: 1, 2, 4, 8)"
    )
    assert F.Scenario("llama-3.1-70b", tp=16).n_gpus == 16  # KV heads replicated: allowed
    with pytest.raises(InputError, match=r"n_EP = 2, but Llama-3\.1-8B has no experts to spread"):
        F.Scenario("llama-3.1-8b", ep=2)
    with pytest.raises(InputError, match="n_EP = 3 does not divide the 8 routed experts"):
        F.Scenario("mixtral-8x7b", ep=3)
    assert F.Scenario("deepseek-v3", "h100-sxm", tp=8, ep=32).n_gpus == 32


def test_a_config_json_makes_a_scenario(tmp_path):
    from support import config_fixture

    config = config_fixture("llama")
    s = F.Scenario(config, "l40s")
    assert s.value("layers") == 32
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert F.Scenario(str(path), "l40s").evaluate("weight_bytes") == s.evaluate("weight_bytes")


def test_an_uneven_pipeline_loads_the_largest_stage():
    s = F.Scenario("llama-3.1-70b", "a100-80gb", pp=3)
    assert s.value("layers_per_stage") == math.ceil(80 / 3)
    assert s.source("layers_per_stage").startswith("layout: ceil")


def test_defaults_are_documented_and_used():
    s = F.Scenario()
    assert s.model.name == DEFAULTS["model"] and s.hardware.name == DEFAULTS["hardware"]
    assert s.value("prompt_len") == DEFAULTS["prompt_len"]
    unchosen = F.Scenario(None, None, compute=None)  # what a widget or plot has not picked
    assert (unchosen.model, unchosen.hardware, unchosen.compute) == (
        s.model, s.hardware, DEFAULTS["compute"],
    )  # fmt: skip
    assert np.isfinite(s.evaluate("e2e_latency").magnitude)


@pytest.mark.parametrize(
    "module",
    ["llmphys.scenario", "llmphys.presets.assumptions", "llmphys.sizing", "llmphys.engine.binding"],
)
def test_module_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_variant_is_declared_with_its_feature_and_checked():
    from llmphys.engine.formula import Registry, formula
    from llmphys.engine.glossary import glossary
    from llmphys.errors import FormulaDefinitionError, UnitError

    child = Registry(glossary, parent=F.registry)
    with pytest.raises(FormulaDefinitionError, match="unknown feature 'mlaa'; did you mean 'mla'"):

        @formula(unit="byte", latex="x", text="x", source="t", registry=child,
                 replaces="kv_cache_bytes", feature="mlaa")  # fmt: skip
        def kv_cache_bytes_test(kv_cache_bytes):
            """A test variant."""
            return kv_cache_bytes

    with pytest.raises(UnitError, match="replaces 'kv_cache_bytes' but is in s"):

        @formula(unit="second", latex="x", text="x", source="t", registry=child,
                 replaces="kv_cache_bytes", feature="mla")  # fmt: skip
        def kv_time_test(overhead):
            """A test variant."""
            return overhead

    with pytest.raises(FormulaDefinitionError, match="names both what it replaces"):

        @formula(unit="byte", latex="x", text="x", source="t", registry=child,
                 replaces="kv_cache_bytes")  # fmt: skip
        def kv_cache_bytes_test2(kv_cache_bytes):
            """A test variant."""
            return kv_cache_bytes

    # every declared variant of the built-in registry, by feature (no string table elsewhere)
    from llmphys.engine.variants import variants_for

    assert variants_for("mla", F.registry)["kv_bytes_per_token"] == "kv_bytes_per_token_mla"
    assert variants_for("layout", F.registry) == {
        "memory_per_gpu": "vram_per_gpu",
        "decode_step_time": "decode_step_time_parallel",
        "tokens_per_second_per_gpu": "tokens_per_second_per_gpu_parallel",
        "prefill_tokens_per_second_per_gpu": "prefill_tokens_per_second_per_gpu_parallel",
        "prefill_step_time": "prefill_step_time_parallel",
    }


def test_derivations_and_solutions_render_through_one_renderer():
    from llmphys.engine import render

    s = F.Scenario("llama-3.1-8b", "h100-sxm", batch=4)
    d, sol = s.derive("tpot"), s.solve("batch")
    for doc in (d, sol):
        latex = doc.latex()
        assert latex.startswith("\\begin{aligned}\n") and latex.endswith("\n\\end{aligned}")
        assert f"$$\n{latex}\n$$" in doc._repr_markdown_()
        assert f"$$\n{latex}\n$$" in doc._repr_html_()
    assert render.aligned([[("a", "1")], [], [("b", "2"), ("c", "3")]]) == (
        "\\begin{aligned}\na &= 1 \\\\[6pt]\nb &= 2 \\\\\nc &= 3\n\\end{aligned}"
    )
    assert "Where the values come from" in d._repr_html_()  # the provenance, in HTML too
    assert "answer: B = " in sol._repr_html_()


@settings(max_examples=30, deadline=None)
@given(
    target=st.floats(min_value=5, max_value=200),
    tp=st.sampled_from([1, 2, 4, 8]),
    prompt=st.integers(128, 32768),
)
def test_property_largest_batch_for_a_speed_is_tight(target, tp, prompt):
    # the largest batch with at least `target` tok/s per user: it meets the bound, one more
    # sequence does not (a layout's step has max() and ceilings: roots found numerically)
    s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=tp, prompt_len=prompt)
    try:
        answer = s.solve("batch", F.Q_(target, "token/s"), of="tokens_per_second_per_user")
    except F.InfeasibleError:
        assert s.evaluate("tokens_per_second_per_user").magnitude < target
        return
    b = answer.value.magnitude
    speed = s.replace(batch=b).evaluate("tokens_per_second_per_user").magnitude
    assert answer.direction == "largest" and speed >= target
    assert s.replace(batch=b + 1).evaluate("tokens_per_second_per_user").magnitude < target


def test_from_values_takes_glossary_names_and_refuses_both_names():
    s = F.Scenario.from_values("llama-3.1-8b", new_tokens=256, prompt_len=1000)
    assert s.value("new_tokens") == 256 and s.value("seq_len") == 1256
    assert s.source("seq_len") == F.scenario.DERIVED["seq_len"][2]
    with pytest.raises(InputError, match="give new_tokens or output_len, not both"):
        F.Scenario.from_values("llama-3.1-8b", new_tokens=256, output_len=128)
    with pytest.raises(InputError, match="output_len="):  # the constructor keeps its names
        F.Scenario(new_tokens=5)
    assert F.Scenario("llama-3.1-70b", pp=3).stage_layers == 27  # ceil(80 / 3)
