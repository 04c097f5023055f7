"""Readable numbers and units: significant figures, prefixes, GB vs GiB, named counts."""

from __future__ import annotations

import pytest

from llmphys.engine.formatting import format_quantity, latex_number, text_number
from llmphys.units import Q_


@pytest.mark.parametrize(
    ("q", "decimal", "binary"),
    [
        (Q_(80, "GB"), "80 GB", "74.5 GiB"),
        (Q_(81920, "MiB"), "85.9 GB", "80 GiB"),
        (Q_(3.35, "TB/s"), "3.35 TB/s", "3.35 TB/s"),  # bandwidths stay decimal
        (Q_(166e9, "FLOP/token"), "166 GFLOP/tok", "166 GFLOP/tok"),
        (Q_(17.5, "GB/token"), "17.5 GB/tok", "16.3 GiB/tok"),
        (Q_(327680, "byte/token"), "328 kB/tok", "320 KiB/tok"),
        (Q_(2, "byte/parameter"), "2 B/param", "2 B/param"),
        (Q_(1.2e12, "FLOP/s"), "1.2 TFLOP/s", "1.2 TFLOP/s"),
        (Q_(0.0703, "s"), "70.3 ms", "70.3 ms"),
        (Q_(8.38, "s"), "8.38 s", "8.38 s"),
        (Q_(7200, "s"), "2 h", "2 h"),
    ],
)
def test_format_quantity(q, decimal, binary):
    assert format_quantity(q) == decimal
    assert format_quantity(q, binary=True) == binary


@pytest.mark.parametrize(
    ("x", "sig", "exact", "text"),
    [
        (1.66214e15, 3, False, "1.66e15"),
        (2.62144e14, 3, False, "2.62e14"),
        (8.311, 3, False, "8.31"),
        (12345.6, 3, False, "12346"),
        (15563.9648, 8, False, "15563.965"),
        (123565.4418, 8, False, "123565.44"),
        (123565.4418, 3, False, "1.24e5"),
        (70e9, 3, True, "70e9"),
        (2.039e12, 3, True, "2039e9"),
        (10000, 3, True, "10000"),
        (0.12, 3, True, "0.12"),
        (1024.0, 3, False, "1024"),
        (262144.0, 3, False, "262144"),
        (2621440.0, 3, False, "2.62e6"),
    ],
)
def test_text_number(x, sig, exact, text):
    assert text_number(x, sig, exact=exact) == text


def test_latex_number():
    assert latex_number(1.66e15) == r"1.66 \times 10^{15}"
    assert latex_number(1e12) == "10^{12}"
    assert latex_number(70e9, exact=True) == r"70 \times 10^{9}"
