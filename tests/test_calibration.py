"""The efficiency model fitted to published measurements: the fit is what the ``typical``
assumption set carries, and its error held out by source stays within the stated limits."""

from __future__ import annotations

import doctest
import re

import numpy as np
import pytest

import llmphys as F
import llmphys.calibration as C
import llmphys.efficiency as E
from llmphys.validation import measurements

FIT = C.fit()
SUMMARY = C.error_summary()


def test_cross_validated_median_error_is_at_most_20_percent_for_ttft_and_for_decode():
    # computed here from a leave-one-source-out cross-validation, not typed in
    assert SUMMARY["prefill"]["median"] <= 0.20
    assert SUMMARY["decode"]["median"] <= 0.20
    assert SUMMARY["prefill"]["rows"] + SUMMARY["decode"]["rows"] == len(measurements())


def test_every_row_is_held_out_once_by_a_fit_that_did_not_see_its_publisher():
    folds = C.cross_validate()
    assert [f.measurement.id for f in folds] == [m.id for m in measurements()]
    by_group: dict[str, set] = {}
    for f in folds:
        by_group.setdefault(f.measurement.publisher, set()).add(tuple(f.parameters.values()))
    assert all(len(fits) == 1 for fits in by_group.values())  # one fit per publisher left out
    assert len({v for fits in by_group.values() for v in fits}) == len(by_group) >= 5
    # one harness is one publisher: gpt-fast's two READMEs are held out together
    gpt_fast = {m.source for m in measurements() if m.publisher == "PyTorch (gpt-fast)"}
    assert len(gpt_fast) == 2
    fold = C.held_out(folds[0].measurement.id)
    assert fold.predicted > 0 and np.isfinite(fold.error)


def test_the_typical_assumption_set_carries_the_fit():
    typical = F.assumption_sets["typical"]
    assert "efficiency" in typical.features
    for name, value in FIT.items():
        stored = (
            typical.by_compute["fp8"]["utilization"][0]
            if name == "utilization_fp8"
            else typical.values[name]
        )
        # stored at 3 significant digits; a value at its lower bound stored as 0
        assert stored == pytest.approx(value, rel=0.01, abs=1e-6), name
        source = (
            typical.by_compute["fp8"]["utilization"][1]
            if name == "utilization_fp8"
            else typical.sources[name]
        )
        count = re.search(r"fit to the (\d+) published measurements", source)
        assert count and int(count.group(1)) == len(measurements())


def test_fitted_parameters_are_physical():
    assert 0.5 < FIT["bw_utilization"] <= 1  # a large read reaches most of the bandwidth
    assert FIT["utilization_fp8"] < FIT["utilization"] <= 1  # FP8 reaches less of its peak
    assert 0 < FIT["mfu_half_tokens"] < 2048
    assert 0 < FIT["layer_overhead"] < 1e-3  # tens of microseconds per layer


def test_excluding_a_publisher_changes_the_fit():
    assert C.fit(exclude=[measurements()[0].publisher]) != FIT


def test_the_per_pass_cost_is_not_fitted_and_typical_keeps_it_at_0():
    # only the layer count varies between the rows' passes: a cost per pass and one per layer
    # cannot be told apart, so the fit takes the per-layer one alone
    assert "step_overhead" not in C.PARAMETERS
    assert F.assumption_sets["typical"].values["step_overhead"] == 0


def test_typical_predicts_each_row_as_the_full_fit_does():
    # the table's expected values (typical) against the fit's own predictions
    from llmphys.validation import predict

    m = next(x for x in measurements() if x.metric == "ttft")
    row = C._rows()[list(measurements()).index(m)]
    theta = np.array([FIT[p] for p in C.PARAMETERS])
    assert float(predict(m).expected.magnitude) == pytest.approx(row.predict(theta), rel=0.02)


def test_the_efficiency_model_reduces_to_the_roofline_at_ideal_values():
    s = F.Scenario("llama-3.1-8b", "h100-sxm", prompt_len=2048, assumptions="typical")
    flat = s.with_values(mfu_half_tokens=0, layer_overhead=0, step_overhead=0, overhead=0)
    plain = F.Scenario("llama-3.1-8b", "h100-sxm", prompt_len=2048,
                       assumptions={"base": "ideal", "utilization": s.value("utilization"),
                                    "bw_utilization": s.value("bw_utilization")})  # fmt: skip
    assert flat.evaluate("ttft").magnitude == pytest.approx(plain.evaluate("ttft").magnitude)
    assert flat.evaluate("inter_token_latency").magnitude == pytest.approx(
        plain.evaluate("inter_token_latency").magnitude
    )


def test_typical_derivations_show_the_efficiency_terms():
    text = str(F.Scenario("llama-3.1-70b", "h100-sxm", tp=4).derive("ttft"))
    assert "t_prefill,step^eff" in text and "η_F(n)" in text and "t_layer" in text
    assert "t_prefill,step^par" in text  # the layout's step inside the efficiency model's
    ideal = str(F.Scenario("llama-3.1-70b", "h100-sxm", tp=4, assumptions="ideal").derive("ttft"))
    assert "t_layer" not in ideal


def test_fp8_compute_takes_its_own_utilization():
    fp8 = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", compute="fp8", tp=2)
    bf16 = F.Scenario("llama-3.1-70b", "h100-sxm", tp=2)
    assert fp8.value("utilization") == pytest.approx(FIT["utilization_fp8"], rel=0.01)
    assert bf16.value("utilization") == pytest.approx(FIT["utilization"], rel=0.01)
    assert "at fp8 compute" in fp8.source("utilization")


def test_the_summary_prints_each_regime_and_metric():
    table = C.format_summary()
    for key in ("prefill", "decode", "ttft", "itl"):
        assert key in table


@pytest.mark.parametrize("module", [C, E])
def test_module_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_scenario_bound_is_the_same_deployment_at_ideal():
    s = F.Scenario("llama-3.1-70b", "h100-sxm", tp=4, batch=8, prompt_len=2048,
                   assumptions={"utilization": 0.3})  # fmt: skip
    b = s.bound()
    assert b.assumptions.name == "ideal" and b.value("utilization") == 1
    assert (b.value("tp"), b.value("batch"), b.value("prompt_len")) == (4, 8, 2048)
    assert "efficiency" not in b.features and "efficiency" in s.features
    assert b.bound() is b
    assert b.ttft < s.ttft and b.tokens_per_second_per_user > s.tokens_per_second_per_user


def test_the_summary_shows_expected_beside_the_bound():
    s = F.Scenario("llama-3.1-8b", "h100-sxm")
    summary = s.summary()
    text = str(summary)
    assert "expected" in text and "bound (ideal)" in text
    row = next(r for r in summary.rows if r.key == "ttft")
    assert row.bound == s.bound().ttft.to(row.bound.units)
    data = summary.to_dict()["figures"]["tpot"]
    assert data["bound"]["value"] < data["value"]["value"]
    assert "bound (ideal)" in summary._repr_html_() and "bound (ideal)" in (
        summary._repr_markdown_()
    )
    ideal = str(F.Scenario("llama-3.1-8b", "h100-sxm", assumptions="ideal").summary())
    assert "bound (ideal)" not in ideal


def test_an_assumption_set_refuses_an_unknown_compute_precision_or_feature():
    from llmphys.errors import ConfigError
    from llmphys.presets.assumptions import _build

    base = {"description": "d", "values": {"utilization": [0.5, "s"]}}
    with pytest.raises(ConfigError, match=r"\[compute\.fp9\] is not a precision"):
        _build("x", {**base, "compute": {"fp9": {"utilization": [0.4, "s"]}}})
    with pytest.raises(ConfigError, match="features must be a list of declared features"):
        _build("x", {**base, "features": ["warp_drive"]})


def test_mi300x_layouts_use_the_infinity_fabric_preset():
    link = F.interconnects["infinity-fabric-mi300x"]
    # the datasheet's 896 GB/s counts both directions: 448 GB/s each way
    assert link.values()["link_bandwidth"].to("GB/s").magnitude == pytest.approx(448)
    s = F.Scenario("llama-3.1-405b", "mi300x", weights="fp8", compute="fp8", tp=8)
    assert s.link is link
