"""Inverse sizing: solve any formula for any input, in the right direction, with safe
rounding, clear infeasibility, symbolic answers and sensitivities."""

from __future__ import annotations

import json
import math

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import llmphys as F
from llmphys.engine import formula
from llmphys.engine.glossary import WIDEST_ELEMENT
from llmphys.errors import InfeasibleError, InputError, UnitError, UnknownNameError
from llmphys.units import Q_

from support import time_limit

# the seed's Llama 3.1 70B with its multi-head KV figures (KV width = hidden = 64 x 128)
SEED_70B = dict(
    params=70e9,
    layers=80,
    n_kv_heads=64,
    head_dim=128,
    kv_bytes="bf16",
    batch=1,
    workspace_fraction=0.12,
)


# ----------------------------------------------------------------- property: round trip
def _value(entry, draw):
    if entry.integer and entry.domain == "unit_interval":
        return float(draw(st.sampled_from([0, 1])))  # a switch
    lo, hi = entry.range
    lo = max(lo, 1.0) if entry.integer else max(lo, 1e-3)
    if entry.domain in ("fraction", "unit_interval"):
        lo, hi = max(lo, 0.01), min(hi, 1.0)
        if entry.domain == "unit_interval":
            hi = min(hi, 0.99)  # a cold fraction of 1 makes the active params drop out
    if hi / lo > 100:
        x = 10 ** draw(st.floats(math.log10(lo), math.log10(hi)))
    else:
        x = draw(st.floats(lo, hi))
    return float(round(x)) if entry.integer else x


@st.composite
def problems(draw):
    name = draw(st.sampled_from(sorted(F.registry)))
    f = F.registry[name]
    unknown = draw(st.sampled_from(f.input_names))
    values = {s: _value(F.glossary[s], draw) for s in f.input_names}
    if values.get("experts_per_token", 0) > values.get("n_experts", math.inf):
        # a token goes to at most every expert: contradicting inputs are an error, not a value
        values["experts_per_token"] = values["n_experts"]
    nudge = draw(st.sampled_from([1.0, 1.0 + 1e-3, 1.0 - 1e-3, 1.37, 0.71]))
    bound = draw(st.sampled_from(["at_most", "at_least"]))
    return f, unknown, values, nudge, bound


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solve_then_evaluate_gives_the_target_back(problem):
    f, unknown, values, nudge, bound = problem
    try:
        target = f(**values).magnitude * nudge
    except F.InputError as exc:  # independent draws that contradict each other (a model's
        assert "contradict" in str(exc)  # classes of weights larger than all its parameters)
        assume(False)
    assume(target > 0)  # some counts are zero by construction (a tied embedding's extra table)
    given_values = {k: v for k, v in values.items() if k != unknown}
    try:
        s = F.solve(f, unknown, target=Q_(target, f.unit), bound=bound, **given_values)
    except InfeasibleError:
        # a nudged target can fall outside what the formula reaches (a fraction above 1, a
        # whole number below 1, a limit); only the exact target must always be reachable
        assume(nudge != 1.0)
        return
    # before rounding: the target comes back
    entry = F.glossary[unknown]
    # an answer at a precision's widest element (8 B) may cross past it: checked on the raw
    # function (a call refuses the crossing, 20 B/param, as a precision)
    outside = entry.choices is not None and s.exact.magnitude > WIDEST_ELEMENT
    at_exact = (
        f(**given_values, **{unknown: s.exact.magnitude})
        if not entry.integer and not outside
        else None
    )
    if at_exact is not None:
        assert at_exact.magnitude == pytest.approx(target, rel=1e-9)
    else:
        fn = f.lambdify()
        args = {**given_values, unknown: s.exact.magnitude}
        raw = fn(**{k: _num(F.glossary[k], v) for k, v in args.items()})
        assert raw == pytest.approx(target, rel=1e-9)
    # after rounding: never on the wrong side of the budget or requirement
    got = s.check.magnitude
    if bound == "at_most":
        assert got <= target * (1 + 1e-9)
    else:
        assert got >= target * (1 - 1e-9)
    # the whole answer is the tight one: the next whole value past it misses the bound (an
    # inexact root of a nearly flat formula may sit a whole step from it: 115.00002 for 115)
    if s.rounding in ("floor", "ceil"):
        assert s.direction == ("largest" if s.rounding == "floor" else "smallest")
        beyond = s.value.magnitude + (1 if s.rounding == "floor" else -1)
        if beyond >= 1:
            try:
                past = f(**given_values, **{unknown: beyond}).magnitude
            except F.InputError as exc:  # past it the inputs contradict (pp > layers):
                assert "contradict" in str(exc)  # the answer is the end of what is allowed
                return
            assert past > target if bound == "at_most" else past < target


def _num(entry, value):
    return F.PRECISIONS[value] if isinstance(value, str) else value


# ----------------------------------------------------------------- worked questions
def test_llama_70b_bf16_in_80_GB_is_infeasible_with_the_reason():
    with pytest.raises(InfeasibleError) as info:
        F.solve("total_vram", "seq_len", target=Q_(80, "GB"), bytes_per_param="bf16", **SEED_70B)
    assert str(info.value) == (
        "solve total_vram for seq_len: weight_bytes (M_w) = 140 GB and workspace_bytes (M_ws) "
        "= 16.8 GB already exceed 80 GB (total_vram is at least 156.8 GB for any seq_len): no "
        "seq_len fits. Lower params, bytes_per_param or workspace_fraction, or raise the budget "
        "(e.g. more GPUs)"
    )


def test_llama_70b_int4_in_80_GB_fits_a_context():
    s = F.solve("total_vram", "seq_len", target=Q_(80, "GB"), bytes_per_param="int4", **SEED_70B)
    # (80e9 - 35e9 - 4.2e9) / 2,621,440 B per token = 15,563.96 tokens
    assert s.exact.magnitude == pytest.approx(40.8e9 / 2621440, rel=1e-12)
    assert s.value.magnitude == 15563 and s.rounding == "floor" and s.direction == "largest"
    assert s.method == "symbolic" and s.monotonic == "increasing"
    text = str(s)
    assert text.startswith("solve total_vram for seq_len: largest S with M_total ≤ 80 GB")
    rearranged = "= (M_total - N · b_w - N · b_w · f_ws)/(2 · L · n_kv · d_h · B · b_kv)"
    assert f"{rearranged}    (rearranged, symbolic)" in text
    assert "(rounded down: the largest whole S that keeps the bound)" in text
    assert text.endswith("answer: S = 15563 tok")
    json.dumps(s.to_dict())


def test_smallest_batch_for_the_seed_bandwidth_at_10_tok_s():
    # seed, Validation / Llama 3.1 70B / Bandwidth: 1660 GB/s needed at batch 1, the A100
    # gives 2039 x 0.6 = 1223 GB/s ("close, might need batch")
    s = F.solve(
        "bandwidth_conservative",
        "batch",
        target=Q_(2039 * 0.6, "GB/s"),
        active_params=70e9,
        bytes_per_param="bf16",
        layers=80,
        n_kv_heads=64,
        head_dim=128,
        kv_bytes="bf16",
        avg_seq_len=10000,
        throughput=10,
    )
    assert s.direction == "smallest" and s.rounding == "ceil" and s.monotonic == "decreasing"
    assert s.exact.magnitude == pytest.approx(1.4565, abs=1e-4)
    assert s.value.magnitude == 2
    assert s.check.to("GB/s").magnitude == pytest.approx(962.17, abs=0.01)


def test_critical_batch_h100_bf16_is_the_ridge_point():
    # hardware.md: H100 SXM 989 TFLOPS dense BF16, 3.35 TB/s -> ridge 295.2 FLOP/byte; at a
    # negligible context decode does ~1 FLOP per byte per sequence, so B_crit ~ ridge
    ridge = F.ridge_point(peak_flops=989e12, mem_bandwidth=3.35e12).magnitude
    s = F.solve(
        "arithmetic_intensity",
        "batch",
        target=F.ridge_point(peak_flops=989e12, mem_bandwidth=3.35e12),
        bound="at_least",
        active_params=70e9,
        bytes_per_param="bf16",
        layers=80,
        n_kv_heads=8,
        head_dim=128,
        kv_bytes="bf16",
        hidden=8192,
        avg_seq_len=1,
    )
    assert ridge == pytest.approx(295.2, abs=0.05)
    assert s.exact.magnitude == pytest.approx(ridge, rel=0.01)
    assert s.value.magnitude == math.ceil(s.exact.magnitude) and s.direction == "smallest"


def test_critical_batch_unreachable_at_long_context_says_why():
    with pytest.raises(InfeasibleError) as info:
        F.solve(
            "arithmetic_intensity",
            "batch",
            target=F.ridge_point(peak_flops=989e12, mem_bandwidth=3.35e12),
            bound="at_least",
            active_params=70e9,
            bytes_per_param="bf16",
            layers=80,
            n_kv_heads=8,
            head_dim=128,
            kv_bytes="bf16",
            hidden=8192,
            avg_seq_len=10000,
        )
    assert str(info.value) == (
        "solve arithmetic_intensity for batch: no positive batch gives arithmetic_intensity ≥ "
        "295.2 FLOP/B: even as batch goes to infinity, arithmetic_intensity only reaches 50.72 "
        "FLOP/B, below the target; avg_seq_len (S_avg) = 10000 tok and kv_traffic (D_KV) = "
        "3.28 GB/tok do not change with batch. Lower avg_seq_len, layers, n_kv_heads, "
        "head_dim or kv_bytes, or lower the target"
    )


def test_quadratic_unknown_returns_the_positive_root():
    s = F.solve(
        "prefill_flops",
        "prompt_len",
        target=Q_(1.66, "PFLOP"),
        active_params=70e9,
        layers=80,
        hidden=8192,
        causal_factor=1,
    )
    a, b, c = 4 * 80 * 8192, 2 * 70e9, -1.66e15
    positive = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    assert s.exact.magnitude == pytest.approx(positive, rel=1e-12)
    assert s.value.magnitude == 9988
    assert "sqrt(" in s.to_dict()["rearranged"]["text"]


def test_numeric_path_when_there_is_no_closed_form(scratch):
    @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
    def capped_cache(kv_bytes_per_token, seq_len, prompt_len, batch):
        """A cache whose second half is capped at the prompt length (a window)."""
        return kv_bytes_per_token * (seq_len + sympy.Min(seq_len, prompt_len)) * batch

    kv = dict(layers=80, n_kv_heads=8, head_dim=128, kv_bytes=2, batch=1, prompt_len=1000)
    s = F.solve(capped_cache, "seq_len", target=Q_(10, "GB"), **kv)
    assert s.method == "numeric" and s.rearranged is None
    # above the cap: m_kv (S + 1000) = 10 GB
    assert s.exact.magnitude == pytest.approx(10e9 / 327680 - 1000, rel=1e-12)
    assert "no closed form: bracketed numeric root" in str(s)


def test_equal_bound_rounds_to_nearest():
    s = F.solve(
        "kv_cache_bytes",
        "seq_len",
        target=F.weight_bytes(params=70e9, bytes_per_param=2),
        bound="equal",
        layers=80,
        n_kv_heads=8,
        head_dim=128,
        kv_bytes=2,
        batch=1,
    )
    assert s.direction == "exact" and s.rounding == "nearest"
    assert s.value.magnitude == round(140e9 / 327680)


def test_fewest_gpus_rounds_up():
    s = F.solve("memory_per_gpu", "n_gpus", target=Q_(80, "GiB"), total_vram=Q_(183, "GB"))
    assert s.value.magnitude == 3 and s.rounding == "ceil"


def test_fraction_above_one_is_infeasible():
    with pytest.raises(
        InfeasibleError,
        match=r"it would need utilization = 1\.5, but utilization "
        r"is a fraction in \(0, 1\]",
    ):
        F.solve(
            "effective_flops",
            "utilization",
            target=Q_(1.5 * 312, "TFLOPS"),
            bound="at_least",
            peak_flops=312e12,
        )


# ----------------------------------------------------------------- symbolic answers
def test_symbolic_answer_in_the_free_inputs_and_its_frontier():
    s = F.solve(
        "total_vram",
        "seq_len",
        target=Q_(80, "GB"),
        bytes_per_param="int4",
        **{k: v for k, v in SEED_70B.items() if k != "batch"},
    )
    assert s.is_symbolic and s.free == ["batch"]
    B = F.glossary.symbol("batch")
    assert sympy.simplify(s.expression - (40.8e9 / 2621440) / B) == 0
    frontier = s.lambdify()
    assert frontier(4) == pytest.approx(40.8e9 / 2621440 / 4, rel=1e-12)
    with pytest.raises(InputError, match="the answer is symbolic in batch"):
        s.magnitude  # noqa: B018


def test_fully_symbolic_rearrangement():
    s = F.solve("kv_cache_bytes", "seq_len")
    M, m, B = (F.kv_cache_bytes.symbol, *(F.glossary.symbol(n) for n in ("layers", "batch")))
    assert s.free[-1] == "kv_cache_bytes"
    assert s.expression.has(M) and s.expression.has(B) and s.expression.has(m)


# ----------------------------------------------------------------- bad questions
def test_unknown_that_is_not_an_input():
    with pytest.raises(UnknownNameError) as info:
        F.solve("kv_cache_bytes", "hidden", target=Q_(1, "GB"))
    assert str(info.value) == (
        "solve kv_cache_bytes: 'hidden' is not an input of kv_cache_bytes (inputs: layers, "
        "n_kv_heads, head_dim, seq_len, batch, kv_bytes)"
    )
    with pytest.raises(UnknownNameError, match="did you mean 'seq_len'"):
        F.solve("kv_cache_bytes", "seqlen", target=Q_(1, "GB"))


def test_target_of_the_wrong_dimension():
    with pytest.raises(UnitError) as info:
        F.solve("kv_cache_bytes", "seq_len", target=Q_(1, "GB/s"), layers=80)
    assert str(info.value) == (
        "solve kv_cache_bytes: the target must be in units convertible to 'B' ([information]); "
        "got 'GB/s' ([information] / [time])"
    )


@pytest.mark.parametrize("bad", [Q_(-1, "GB"), Q_(0, "GB"), -5])
def test_negative_or_zero_target(bad):
    with pytest.raises(InputError, match="solve kv_cache_bytes: the target must be positive"):
        F.solve("kv_cache_bytes", "seq_len", target=bad, layers=80)


def test_nan_target_and_unknown_also_given():
    with pytest.raises(InputError, match="the target is nan; give a finite value"):
        F.solve("kv_cache_bytes", "seq_len", target=math.nan)
    with pytest.raises(InputError, match="'seq_len' is the unknown; do not also give its value"):
        F.solve("kv_cache_bytes", "seq_len", target=Q_(1, "GB"), seq_len=10)
    with pytest.raises(InputError, match="bound must be one of at_most, at_least, equal"):
        F.solve("kv_cache_bytes", "seq_len", target=Q_(1, "GB"), bound="below")


# ----------------------------------------------------------------- sensitivities
def test_elasticities_match_finite_differences():
    values = dict(
        params=70e9,
        bytes_per_param=2,
        layers=80,
        n_kv_heads=8,
        head_dim=128,
        kv_bytes=2,
        seq_len=200_000,
        batch=8,
        workspace_fraction=0.12,
    )
    e = F.elasticities("total_vram", **values)
    base = F.total_vram(**values).magnitude
    for name, elasticity in e.items():
        bumped = dict(values, **{name: values[name] * (1 + 1e-6)})
        if F.glossary[name].integer:
            continue
        numeric = (F.total_vram(**bumped).magnitude / base - 1) / 1e-6
        assert elasticity == pytest.approx(numeric, rel=1e-4)
    # the KV cache is most of it at 200K tokens x 8 sequences (524 GB vs 157 GB of weights and
    # workspace): the KV inputs matter most
    assert next(iter(e)) in ("seq_len", "batch", "layers", "kv_bytes", "n_kv_heads", "head_dim")
    assert e["seq_len"] == pytest.approx(524.288 / (524.288 + 156.8), rel=1e-9)
    assert e["seq_len"] == pytest.approx(e["batch"])


def test_a_max_settled_by_the_given_values_still_gives_a_closed_form():
    # max(n_kv/n_TP, 1) is a number once tp is given: the batch is linear in the budget
    m, h100 = F.models["llama-3.1-70b"], F.hardware["h100-sxm"]
    s = F.sizing.layouts.largest_batch(
        m,
        h100,
        tp=8,
        pp=1,
        bytes_per_param="bf16",
        kv_bytes="bf16",
        seq_len=32768,
        workspace_fraction=0.12,
    )
    assert s.method == "symbolic" and s.rearranged is not None
    assert s.value.magnitude == math.floor(s.exact.magnitude)


@settings(max_examples=200, deadline=None)
@given(target=st.floats(min_value=1e3, max_value=1e18, allow_nan=False, allow_infinity=False))
def test_property_whole_answers_meet_the_budget_exactly_at_every_magnitude(target):
    # issue 16 (1): 140,000,000,001.3 B answered 70,000,000,001 params = 140,000,000,002 B
    from fractions import Fraction

    s = F.solve("weight_bytes", "params", target=F.Q_(target, "B"), bytes_per_param="bf16")
    n = int(s.value.magnitude)
    assert 2 * n <= Fraction(target)  # exact: integers and the float target as a rational
    assert 2 * (n + 1) > Fraction(target)  # and tight: one more does not fit


@pytest.mark.parametrize("name", ["prefill_bytes", "prefill_memory_time"])
def test_a_closed_form_singular_at_the_given_values_falls_back_to_the_root(name):
    # issue 16 (3): with FlashAttention (phi_FA = 1) the closed form divides by zero, and
    # prompt_len = 8192 (143.8 GB under 145 GB) was called infeasible
    m = F.models["llama-3.1-70b"]
    f = m.formula(name)
    values = {
        **m.inputs_for(f),
        "bytes_per_param": 2,
        "kv_bytes": 2,
        "batch": 1,
        "act_bytes": 2,
        "causal_factor": 0.5,
        "flash_attention": 1,
        "mem_bandwidth": 2e12,
        "bw_utilization": 1,
    }
    values = {k: v for k, v in values.items() if k in f.input_names and k != "prompt_len"}
    target = F.Q_(145, "GB") if name == "prefill_bytes" else F.Q_(72.5, "ms")
    s = F.solve(f, "prompt_len", target=target, **values)
    n = s.value.magnitude
    assert n > 8192 and f(**values, prompt_len=n) <= target < f(**values, prompt_len=n + 1)


# the roofline at fixed utilizations, communication not overlapped (no efficiency model)
ROOFLINE = {"base": "ideal", "utilization": 0.5, "bw_utilization": 0.69, "comm_overlap": 0}


def test_a_formula_not_monotonic_in_the_unknown_says_the_answer_is_not_unique():
    # issue 16 (2): a layout's decode throughput rises then falls with n_PP (more stages read
    # less each, until the pipeline's trip dominates); "equal" answered one crossing only
    s = F.Scenario("llama-3.1-70b", "h100-sxm", tp=2, pp=2, batch=8, assumptions=ROOFLINE)
    f = s.formula("decode_throughput_parallel")
    given = {k: v for k, v in s.values_for("decode_throughput_parallel").items() if k != "pp"}
    with pytest.raises(F.NotUniqueError) as info:
        F.solve(f, "pp", target=F.Q_(200, "token/s"), bound="equal", **given)
    message = str(info.value)
    assert "the answer is not unique: decode_throughput_parallel is not monotonic in pp" in message
    assert "for pp in 1 to 2; 19 to 20" in message
    for pp in (1, 2, 19, 20):  # the crossings the message names are real
        assert f(**given, pp=pp).magnitude != pytest.approx(200, rel=1e-3)
    assert (f(**given, pp=1).magnitude - 200) * (f(**given, pp=2).magnitude - 200) < 0
    assert (f(**given, pp=19).magnitude - 200) * (f(**given, pp=20).magnitude - 200) < 0
    assert isinstance(info.value, F.InfeasibleError)  # no single answer: the CLI exits 1


def test_an_infeasible_message_says_above_or_below_as_it_is():
    # issue 16 (2): "even tp = 1 gives 130.5 tok/s, below 13.55 tok/s" contradicted itself
    s = F.Scenario("llama-3.1-70b", "h100-sxm", tp=2, pp=2, batch=8, assumptions=ROOFLINE)
    f = s.formula("decode_throughput_parallel")
    given = {k: v for k, v in s.values_for("decode_throughput_parallel").items() if k != "pp"}
    with pytest.raises(F.InfeasibleError) as info:
        F.solve(f, "pp", target=F.Q_(40, "token/s"), bound="equal", **given)
    # 40 tok/s is crossed only at pp = 370.9, past the model's 80 layers (relations.py)
    assert str(info.value).endswith(
        "it would need pp = 370.9, but pp is at most layers = 80 (each pipeline stage holds at "
        "least one layer)"
    )
    assert all(f(**given, pp=pp).magnitude > 40 for pp in (1, 2, 40, 80))


def test_a_high_power_of_the_unknown_is_solved_numerically_not_by_factoring():
    # (1 - k/E)^B at B = 999 is a polynomial of degree 999 in k: SymPy would factor it for
    # hours (issue 16, item 8); the root finder answers instead.  A 20 s limit marks a hang.
    with time_limit(20, "solve"):
        s = F.solve("experts_touched", "experts_per_token", target=Q_(240, ""), bound="equal",
                    n_experts=256, batch=999)  # fmt: skip
    raw = F.experts_touched.lambdify()
    assert raw(n_experts=256, experts_per_token=s.exact.magnitude, batch=999) == pytest.approx(240)


def test_a_time_budget_ends_runaway_work_and_keeps_an_outer_limit():
    import signal
    import time

    from llmphys.engine.budget import OverBudget, time_budget

    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    signal.setitimer(signal.ITIMER_REAL, 5.0)  # a caller's own limit
    try:
        with pytest.raises(OverBudget), time_budget(0.2):
            while True:
                time.sleep(0.01)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 4.0 < left < 5.0 and not fired  # the outer timer runs on, not reset
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_zero_is_an_answer_where_zero_is_allowed():
    # issue 16 (3): answers of 0 were never returned for inputs allowed to be 0
    f = F.registry["exposed_comm_time"]
    values = dict(layers=80, batch=1, hidden=8192, act_bytes=2, tp=2, pp=2, ep=2,
                  n_microbatches=1, link_bandwidth=300e9, link_latency=6e-7)  # fmt: skip
    whole = f(**values, comm_overlap=0)
    s = F.solve(f, "comm_overlap", target=whole, **values)
    assert s.value.magnitude == 0 and s.direction == "smallest"  # no overlap needed
    g = F.registry["logit_positions"]
    s = F.solve(g, "prompt_logprobs", target=Q_(1, "token"), prompt_len=34)
    assert s.value.magnitude == 0 and s.direction == "largest"  # the last position only


def test_an_inexact_root_gives_the_tight_whole_answer():
    # issue 16 (3): stage_comm_time for hidden answered 355 when 354 meets the bound
    f = F.registry["stage_comm_time"]
    values = {k: v for k, v in (f.takes(F.Scenario("llama-3.1-70b", "h100-sxm", tp=2, pp=2)
              .values_for("stage_comm_time"))).items() if k != "hidden"}  # fmt: skip
    target = f(**values, hidden=354)
    s = F.solve(f, "hidden", target=target, **values)
    assert s.value.magnitude == 354 and s.direction == "largest"
    assert f(**values, hidden=355).magnitude > target.magnitude
