"""Predictions against published measurements (formulas/validation/measurements.json): the
roofline bound is never beaten, each measurement implies a utilization, and every row names
its source, unit and metric."""

from __future__ import annotations

import doctest
import re

import pytest

import llmphys.validation as V
from llmphys.units import Q_, ureg

ROWS = {r.measurement.id: r for r in V.validation_table()}


def test_the_dataset_has_at_least_40_rows_from_several_sources():
    rows = V.measurements()
    assert len(rows) >= 40
    assert len({m.source for m in rows}) >= 5
    assert len({m.id for m in rows}) == len(rows)  # ids are unique


@pytest.mark.parametrize("m", V.measurements(), ids=lambda m: m.id)
def test_every_row_has_a_source_a_unit_and_a_defined_metric(m):
    assert m.source and m.citation and m.publisher and m.engine and m.engine_version
    assert m.metric_definition and m.setting and m.gap
    unit, _, _ = V.METRICS[m.metric]
    assert m.measured.units != ureg.dimensionless
    assert m.measured.check(Q_(1, unit).dimensionality)  # a time or a rate, as the metric
    assert m.measured.magnitude > 0
    assert m.batch >= 1 and m.prompt_len >= 1 and m.gpus >= m.tp >= 1
    # a commit, a version or a dated document pins every source
    assert re.search(r"@[0-9a-f]{7}|v\d|\d{4}|builds/\d+", m.source + m.citation)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_no_row_beats_its_ideal_bound(name):
    row = ROWS[name]
    assert row.holds
    assert 0 < row.implied_utilization <= 1
    m = row.measurement
    if m.is_rate:  # a bound on a rate is at least the measured rate
        assert row.predicted >= m.measured and row.ratio >= 1
    else:  # a bound on a time is at most the measured time
        assert row.predicted <= m.measured and row.ratio <= 1


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_expected_value_is_never_faster_than_the_bound(name):
    row = ROWS[name]
    if row.measurement.is_rate:
        assert row.expected <= row.predicted
    else:
        assert row.expected >= row.predicted


def test_batch_one_decode_of_llama_8b_on_a100_implies_a_plausible_mbu():
    row = ROWS["gpt-fast/llama-3.1-8b/bf16/1gpu"]
    assert row.bound == "memory" and row.resource == "MBU"
    assert 0.5 < row.implied_utilization < 0.95


@pytest.mark.parametrize("name", ["gpt-fast/llama-3.1-8b/bf16/1gpu",
                                  "gpt-fast/llama-3.1-8b/int8/1gpu"])  # fmt: skip
def test_bytes_per_token_agree_with_gpt_fast(name):
    # gpt-fast's bandwidth counts every parameter and buffer except the input embedding table,
    # times tokens/s: reported GB/s / tok/s is its bytes per token (its README at 32971d3)
    row = ROWS[name]
    m = row.measurement
    theirs = (m.reported_bandwidth / m.measured).to("GB/token").magnitude
    ours = row.bytes_per_token.to("GB/token").magnitude
    assert ours == pytest.approx(theirs, rel=0.01)


def test_long_prefills_are_compute_bound_and_short_ones_memory_bound():
    assert ROWS["trtllm-0.5/llama-2-7b/a100-80gb/fp16/ttft-tp1-2048"].bound == "compute"
    assert ROWS["trtllm-0.5/llama-2-7b/a100-80gb/fp16/ttft-tp1-128"].bound == "memory"
    assert ROWS["trtllm-0.5/llama-2-70b/a100-80gb/fp16/ttft-tp4-2048"].bound == "compute"


@pytest.mark.parametrize(
    ("name", "params"),
    [
        # the well-known counts of the Llama-2 checkpoints (their model cards: 7B, 13B, 70B)
        ("trtllm-0.5/llama-2-7b/a100-80gb/fp16/ttft-tp1-2048", 6_738_415_616),
        ("lmdeploy/llama-2-13b/a100-80gb/tp1/b1/p128/o128/ttft", 13_015_864_320),
        ("trtllm-0.5/llama-2-70b/a100-80gb/fp16/ttft-tp4-2048", 68_976_648_192),
    ],
)
def test_llama_2_architectures_come_from_their_configs(name, params):
    m = next(x for x in V.measurements() if x.id == name)
    assert m.architecture().values["params"] == params


def test_gpt_fast_int4_is_stored_with_its_group_scales():
    # quantize.py at 32971d3: a bfloat16 scale and zero per group of 32 int4 weights
    m = next(x for x in V.measurements() if x.id == "gpt-fast/llama-2-7b/int4-g32/1gpu")
    s = V.scenario(m, "typical")
    assert s.value("bytes_per_param") == pytest.approx(0.5 + 4 / 32)


def test_the_table_prints_every_measurement_with_its_expected_value_and_bound():
    table = V.format_table()
    for name, row in ROWS.items():
        assert name in table
        assert f"{row.resource} {row.implied_utilization:.2f}" in table
    assert table.splitlines()[0].split() == [
        "measurement", "metric", "measured", "expected", "error", "bound", "implied",
    ]  # fmt: skip


def test_module_doctest():
    assert doctest.testmod(V).failed == 0


@pytest.mark.parametrize("m", V.measurements(), ids=lambda m: m.id)
def test_no_row_beats_the_roofline_of_its_own_layout(m):
    # Scenario.bound(): the ideal set on the row's layout, its prefill all-reduces counted
    bound = V.figure(V.scenario(m, "typical").bound(), m)
    if m.is_rate:
        assert bound >= m.measured
    else:
        assert bound <= m.measured
