"""The unit definitions file: dimensions are real, prefixes are right, traps are refused."""

from __future__ import annotations

import pint
import pytest

from llmphys.units import Q_, describe_dimension, ureg


def test_byte_plus_number_raises():
    # pint's stock registry gives 11 here; ours has a real information dimension
    with pytest.raises(pint.DimensionalityError):
        1 * ureg.byte + 3


def test_80_GB_is_74_5058_GiB():
    assert Q_(80, "GB").to("GiB").magnitude == pytest.approx(74.5058, abs=5e-5)


def test_80_GiB_is_85_9_GB():  # an "80 GB" A100 (hardware.md: 81,920 MiB)
    assert Q_(81920, "MiB").to("GB").magnitude == pytest.approx(85.899, abs=5e-4)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("byte", "FLOP"),
        ("byte", "second"),
        ("FLOP", "second"),
        ("FLOP", "FLOP/s"),
        ("byte", "byte/s"),
        ("byte", "token"),
        ("FLOP", ""),
    ],
)
def test_dimensions_are_distinct(a, b):
    with pytest.raises(pint.DimensionalityError):
        Q_(1, a).to(b)


@pytest.mark.parametrize(
    ("text", "base", "factor"),
    [
        ("GB", "byte", 1e9),
        ("GiB", "byte", 2**30),
        ("MiB", "byte", 2**20),
        ("Gb", "byte", 1e9 / 8),
        ("TFLOPS", "FLOP/s", 1e12),
        ("TFLOPs", "FLOP", 1e12),
        ("PFLOP", "FLOP", 1e15),
        ("TOPS", "FLOP/s", 1e12),
        ("ms", "s", 1e-3),
        ("min", "s", 60),
        ("h", "s", 3600),
        ("µs", "s", 1e-6),
        ("tok/s", "1/s", 1),
        ("Gb/s", "byte/s", 1.25e8),
    ],
)
def test_units_parse_to_the_right_size(text, base, factor):
    assert Q_(1, text).to(base).magnitude == pytest.approx(factor, rel=1e-15)


def test_400_Gb_per_s_link_is_50_GB_per_s():
    assert Q_(400, "Gb/s").to("GB/s").magnitude == pytest.approx(50)


def test_lowercase_flops_is_refused_not_guessed():
    with pytest.raises(pint.UndefinedUnitError):
        Q_(1, "Gflops")


def test_named_counts_are_dimensionless():
    assert Q_(10, "token/s").to("1/s").magnitude == 10
    assert describe_dimension("token") == "dimensionless"


def test_describe_dimension():
    assert describe_dimension("GB/s") == "[information] / [time]"
    assert describe_dimension("TFLOPS") == "[compute] / [time]"


def test_short_format():
    assert f"{Q_(80, 'GB').to('GiB'):.4f~P}" == "74.5058 GiB"
