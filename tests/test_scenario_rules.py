"""A scenario's derived inputs follow what changes them, however the change is made.

The constructor derives the context (``seq_len`` = prompt + output), the micro-batches and the
model's parameter counts (``param_count`` and ``active_param_count`` of its architecture);
``replace``, ``with_values`` and ``sweep`` must agree with it, and no path may accept inputs
that contradict the model (engine/relations.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmphys as F
from llmphys.errors import InputError

FIGURES = ("kv_cache_bytes", "memory_per_gpu", "weight_read", "tpot", "ttft", "e2e_latency")


def _model_with(name: str, **changed: float) -> Any:
    """The preset ``name`` with some architecture values changed: its counts computed by the
    Model from scratch, the path independent of the Scenario's rules."""
    m = F.models[name]
    values = {k: v for k, v in m.values.items() if k not in ("params", "active_params")}
    return type(m)(name=m.name, family=m.family, values={**values, **changed},
                   features=m.features, display_name=m.display_name)  # fmt: skip


@settings(max_examples=8, deadline=None)
@given(k=st.integers(1, 8))
def test_active_parameters_follow_the_experts_per_token(k):
    # Mixtral 8x7B routes each token to 2 of 8 experts (config.json num_experts_per_tok); a
    # scenario told another k counts the active parameters the Model counts for that config
    expected = _model_with("mixtral-8x7b", experts_per_token=k).values["active_params"]
    s = F.Scenario("mixtral-8x7b", "h100-sxm")
    made = F.Scenario("mixtral-8x7b", "h100-sxm", experts_per_token=k)
    assert made.value("active_params") == expected
    assert s.replace(experts_per_token=k).value("active_params") == expected
    assert s.with_values(experts_per_token=k).value("active_params") == expected
    for path in (s.replace(experts_per_token=k), s.with_values(experts_per_token=k)):
        for name in FIGURES:
            assert path.evaluate(name) == made.evaluate(name), name
    swept = s.sweep("tpot", "weight_read", experts_per_token=[k])
    assert swept["tpot"].values[0] == pytest.approx(made.tpot.magnitude, rel=1e-12)
    assert swept["weight_read"].values[0] == pytest.approx(made.weight_read.magnitude, rel=1e-12)
    if k != 2:  # the released k: the config's own counts, from the config
        assert made.source("active_params") == (
            "model Mixtral-8x7B-v0.1 (active_param_count at the changed experts_per_token)"
        )


def test_a_changed_width_changes_both_counts_and_a_given_count_wins():
    expected = _model_with("llama-3.1-8b", hidden=2048).values
    s = F.Scenario("llama-3.1-8b", "h100-sxm", hidden=2048)
    assert s.value("params") == expected["params"] < F.models["llama-3.1-8b"].values["params"]
    assert s.value("active_params") == expected["active_params"]
    given_count = F.Scenario("llama-3.1-8b", "h100-sxm", hidden=2048, params=8e9)
    assert given_count.value("params") == 8e9 and given_count.source("params") == "user"
    # unchanged architecture: the config's counts, with their provenance
    plain = F.Scenario("llama-3.1-8b", "h100-sxm", batch=4)
    assert plain.source("params") == "model Llama-3.1-8B (param_count of its config.json)"


@settings(max_examples=10, deadline=None)
@given(prompt=st.integers(1, 131072 - 2048), batch=st.integers(1, 64))
def test_with_values_derives_the_context_as_the_constructor_does(prompt, batch):
    # seq_len = prompt + output: a KV cache at the changed prompt, not at the old one
    s = F.Scenario("llama-3.1-70b", "h100-sxm", tp=2, pp=2, batch=8)
    quick, full = s.with_values(prompt_len=prompt, batch=batch), s.replace(
        prompt_len=prompt, batch=batch
    )
    assert quick.value("seq_len") == full.value("seq_len") == prompt + 1024
    assert quick.value("n_microbatches") == full.value("n_microbatches") == min(2, batch)
    for name in FIGURES:
        assert quick.evaluate(name) == full.evaluate(name), name


def test_with_values_keeps_a_context_the_user_gave():
    s = F.Scenario("llama-3.1-8b", "h100-sxm", seq_len=50000)
    assert s.with_values(prompt_len=1000).value("seq_len") == 50000


def test_contradicting_inputs_are_refused_on_every_path():
    why = "exceeds n_experts=8, but a token is routed to at most every expert"
    where = r"model 'Mixtral-8x7B-v0\.1'"  # the model as changed is checked as a config is
    with pytest.raises(InputError, match=f"{where}: experts_per_token=16 {why}"):
        F.Scenario("mixtral-8x7b", experts_per_token=16)
    s = F.Scenario("mixtral-8x7b")
    with pytest.raises(InputError, match=f"experts_per_token=9 {why}"):
        s.with_values(experts_per_token=9)
    with pytest.raises(InputError, match=f"Scenario.sweep: experts_per_token=16 {why}"):
        s.sweep("tpot", experts_per_token=[1, 2, 16])
    with pytest.raises(InputError, match="n_kv_heads=64 exceeds n_heads=32"):
        F.Scenario("llama-3.1-8b", n_kv_heads=64)
    # the derived micro-batches follow a swept batch: no false contradiction
    deep = F.Scenario("llama-3.1-70b", "h100-sxm", pp=4, batch=8)
    assert deep.sweep("tpot", batch=[1, 2, 8])["tpot"].shape == (3,)


def test_solve_follows_what_the_unknown_sets():
    # Mixtral at batch 8: TPOT rises with k (more experts read), so only k = 1 meets 30 ms; a
    # solve holding the config's 12.7B active parameters answered k = 5 (38.9 ms)
    mix = F.Scenario("mixtral-8x7b", "h100-sxm", batch=8)
    k = mix.solve("experts_per_token", "30 ms", of="tpot")
    assert k.value.magnitude == 1 and k.check == mix.replace(experts_per_token=1).tpot
    assert mix.replace(experts_per_token=2).tpot > F.Q_(30, "ms")
    assert "also sets active_params" in k.note
    # layers set both counts: 27 layers meet a 3 s TTFT, 28 do not (held counts: "infeasible")
    deep = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=4, batch=32)
    n = int(deep.solve("layers", "3 s", of="ttft").value.magnitude)
    assert deep.replace(layers=n).ttft <= F.Q_(3, "s") < deep.replace(layers=n + 1).ttft
    # a batch sets the pipeline's micro-batches, min(n_PP, B): the answers are tight
    piped = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", pp=4, batch=2)
    b = int(piped.solve("batch", "200 tok/s", of="tokens_per_second_per_gpu").value.magnitude)
    rate = F.Q_(200, "token/s")
    assert piped.replace(batch=b).tokens_per_second_per_gpu >= rate
    assert piped.replace(batch=b - 1).tokens_per_second_per_gpu < rate
    small = piped.replace(batch=8).solve("batch", "10 tok/s", of="tokens_per_second_per_gpu")
    assert small.value.magnitude == 2  # batch 2 already gives 14.9 tok/s; 1 gives 7.5
    with pytest.raises(F.InfeasibleError, match="even experts_per_token = 1"):
        mix.solve("experts_per_token", "1 ms", of="tpot")
    # no search for an exact value: refused, never answered with the count held fixed
    with pytest.raises(InputError, match="experts_per_token also sets active_params"):
        mix.solve("experts_per_token", "30 ms", of="tpot", bound="equal")


def test_with_values_of_a_precision_is_the_constructors():
    mix = F.Scenario("mixtral-8x7b", "h100-sxm")
    mixed = F.Scenario("mixtral-8x7b", "h100-sxm", expert_bytes=0.5)
    assert mix.with_values(expert_bytes=0.5).weight_bytes == mixed.weight_bytes
    assert mixed.weight_bytes < mix.weight_bytes / 3  # experts are 96 % of Mixtral's weights
    # gpt-oss as released: MXFP4 experts; bytes_per_param sets every class not given
    oss = F.Scenario("gpt-oss-120b", "h100-sxm")
    one = oss.with_values(bytes_per_param=1)
    given = F.Scenario("gpt-oss-120b", "h100-sxm", bytes_per_param=1)
    assert one.weight_bytes == given.weight_bytes
    assert one.source("expert_bytes") == "user (bytes_per_param: all weights)"


def test_the_layout_is_checked_against_the_model_as_changed():
    s = F.Scenario("llama-3.1-70b", "h100-sxm", pp=3, layers=40)
    assert s.stage_layers == 14 and s.parts["layers_per_stage"] == 14  # ceil(40 / 3), not 27
    with pytest.raises(InputError, match="does not split the 12 query heads"):
        F.Scenario("llama-3.1-70b", "h100-sxm", tp=8, n_heads=12)
    F.Scenario("llama-3.1-70b", "h100-sxm", tp=3, n_heads=48, n_kv_heads=6)  # 3 divides both
    with pytest.raises(InputError, match="does not divide the 12 routed experts"):
        F.Scenario("mixtral-8x7b", "h100-sxm", ep=8, n_experts=12)


def test_a_layout_sweep_is_the_layouts_own_scenario():
    # 80 layers over 3 stages: the most loaded holds 27, not 26.7, whichever way it is asked
    s = F.Scenario("llama-3.1-70b", "h100-sxm", pp=3, batch=8)
    for name in ("tpot", "memory_per_gpu"):
        assert s.sweep(name, tp=[1])[name].values[0] == pytest.approx(
            s.evaluate(name).magnitude, rel=1e-12
        )
        swept = s.sweep(name, pp=[1, 3, 7])[name].values
        for got, pp in zip(swept, (1, 3, 7), strict=True):
            assert got == pytest.approx(s.replace(pp=pp).evaluate(name).magnitude, rel=1e-12)
    with pytest.raises(InputError, match=r"Scenario\.sweep: n_TP = 3 does not split the 64"):
        s.sweep("tpot", tp=[1, 3])
    with pytest.raises(InputError, match=r"Scenario\.sweep: n_EP = 2, but Llama-3\.1-8B has no"):
        F.Scenario("llama-3.1-8b", "h100-sxm").sweep("tpot", ep=[1, 2])


def test_an_output_length_changed_by_with_values_rebuilds():
    s = F.Scenario("llama-3.1-8b", "h100-sxm").with_values(new_tokens=2000)
    assert s.arguments()["output_len"] == 2000 and "new_tokens" not in s.arguments()
    assert s.replace(batch=2).value("new_tokens") == 2000
    assert s.bound().value("new_tokens") == 2000


def test_values_the_layout_and_workload_fix_are_not_choices():
    with pytest.raises(InputError, match=r"n_gpus=8 contradicts the layout \(n_TP = 1, n_PP = 1"):
        F.Scenario("llama-3.1-70b", "h100-sxm", n_gpus=8)
    assert F.Scenario("llama-3.1-70b", "h100-sxm", tp=2, n_gpus=2).n_gpus == 2
    with pytest.raises(InputError, match="prompt_len=4096 exceeds seq_len=100, but the context"):
        F.Scenario("llama-3.1-70b", "h100-sxm", seq_len=100)


def test_the_cli_takes_a_value_that_sets_what_the_figure_uses():
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "llmphys", "derive", "ttft", "--model", "mixtral-8x7b",
         "--set", "experts_per_token=1"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    one = F.Scenario("mixtral-8x7b", "h100-sxm", experts_per_token=1).ttft
    assert run.stdout.rstrip().endswith(f"t_TTFT = {one.to('ms').magnitude:.3g} ms")
    assert one < F.Scenario("mixtral-8x7b", "h100-sxm").ttft


def test_layer_counts_change_together():
    # Qwen3-Next's 48 layers are 12 full-attention and 36 Gated DeltaNet ones, each with an
    # expert layer (config.json full_attention_interval 4): 96 layers alone changed nothing
    with pytest.raises(InputError, match="= 48 must equal layers = 96, as in its config"):
        F.Scenario("qwen3-next-80b-a3b", layers=96)
    with pytest.raises(InputError, match="moe_layers = 29 must equal layers = 48"):
        F.Scenario("qwen3-next-80b-a3b", moe_layers=29)
    # DeepSeek-V3: 3 dense and 58 expert layers (first_k_dense_replace 3)
    with pytest.raises(InputError, match=r"dense_layers \+ moe_layers = 32 must equal layers"):
        F.Scenario("deepseek-v3", moe_layers=29)
    twice = F.Scenario("qwen3-next-80b-a3b", layers=96, attention_layers=24, ssm_layers=72,
                       moe_layers=96)  # fmt: skip
    base = F.Scenario("qwen3-next-80b-a3b")
    v = base.values()
    embeddings = v["embedding_matrices"] * v["vocab_size"] * v["hidden"]  # not per layer
    grown = twice.value("params") - embeddings
    assert grown == pytest.approx(2 * (base.value("params") - embeddings), rel=1e-3)
    assert twice.model.values["params"] == twice.value("params")  # the model counted again
