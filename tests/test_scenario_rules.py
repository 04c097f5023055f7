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
    where = r"Scenario\(Mixtral-8x7B-v0.1\)"
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
