"""Roofline predictions against published measurements (reference/measurements.md): a bound
is never slower than the measurement, and each measurement implies a utilization."""

from __future__ import annotations

import doctest

import pytest

import llmphys.validation as V
from llmphys.units import Q_

ROWS = {r.measurement.id: r for r in V.validation_table()}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_bound_holds_and_implies_a_utilization_in_0_1(name):
    row = ROWS[name]
    assert row.holds
    assert 0 < row.implied_utilization <= 1
    m = row.measurement
    if m.phase == "decode":  # a bound on a rate is at least the measured rate
        assert row.predicted >= m.measured and row.ratio >= 1
    else:  # a bound on a time is at most the measured time
        assert row.predicted <= m.measured and row.ratio <= 1


def test_batch_one_decode_of_llama_8b_on_a100_implies_a_plausible_mbu():
    row = ROWS["gpt-fast/llama-3.1-8b/bf16"]
    assert row.bound == "memory" and row.resource == "MBU"
    assert 0.5 < row.implied_utilization < 0.95


@pytest.mark.parametrize("name", ["gpt-fast/llama-3.1-8b/bf16", "gpt-fast/llama-3.1-8b/int8"])
def test_bytes_per_token_agree_with_gpt_fast(name):
    # gpt-fast's bandwidth counts every parameter and buffer except the input embedding table,
    # times tokens/s: reported GB/s / tok/s is its bytes per token (measurements.md)
    row = ROWS[name]
    m = row.measurement
    theirs = (m.reported_bandwidth / m.measured).to("GB/token").magnitude
    ours = row.bytes_per_token.to("GB/token").magnitude
    assert ours == pytest.approx(theirs, rel=0.01)


def test_long_prefills_are_compute_bound_and_short_ones_memory_bound():
    assert ROWS["trt-llm-0.5/llama-2-7b/2048"].bound == "compute"
    assert ROWS["trt-llm-0.5/llama-2-7b/128"].bound == "memory"
    assert ROWS["trt-llm-0.5/llama-2-70b/2048-tp4"].bound == "compute"


def test_llama_2_architectures_come_from_their_configs():
    m = next(x for x in V.measurements() if x.id == "trt-llm-0.5/llama-2-7b/2048")
    model = m.architecture()
    # the well-known count of Llama-2-7B, derived by the parameter-count formulas
    assert model.values["params"] == 6_738_415_616


def test_the_table_prints_every_measurement():
    table = V.format_table()
    for name, row in ROWS.items():
        assert name in table
        assert f"{row.resource} {row.implied_utilization:.2f}" in table
    assert table.splitlines()[0].split() == [
        "measurement",
        "measured",
        "roofline",
        "bound",
        "bound",
        "by",
        "predicted/measured",
        "implied",
    ]


def test_every_measurement_names_the_assumption_behind_its_gap():
    for m in V.measurements():
        assert m.gap and m.source and m.setting
        assert m.measured > Q_(0, m.measured.units)


def test_module_doctest():
    assert doctest.testmod(V).failed == 0
