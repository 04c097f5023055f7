"""check_units: the unit slips found in public material are refused, each naming the
offending term with its dimension; consistent formulas give their unit."""

from __future__ import annotations

import doctest

import pint
import pytest
import sympy

import llmphys as F
from llmphys import check
from llmphys.errors import FormulaDefinitionError, InputError, UnitError, UnknownNameError
from llmphys.units import ureg

BITS = {"bits_per_param": "bit/parameter"}


@pytest.fixture(autouse=True)
def fresh_user_registry(monkeypatch, scratch):
    """check_units looks formulas up in the user registry: give each test its own."""
    import llmphys.user

    monkeypatch.setattr(llmphys.user, "user_registry", scratch)


# ------------------------------------------------------------------- acceptance: rejected
def test_bytes_added_to_flops():
    with pytest.raises(UnitError) as info:
        F.check_units("weight_bytes + 2 * FLOP * params * seq_len")
    assert str(info.value) == (
        "expression weight_bytes + 2*params*seq_len*FLOP: term weight_bytes is [information] "
        "(B), term 2*params*seq_len*FLOP is [compute] (FLOP·param·tok): they cannot be added"
    )
    assert info.value.terms == [
        ("weight_bytes", "B", "[information]"),
        ("2*params*seq_len*FLOP", "FLOP·param·tok", "[compute]"),
    ]


def test_bytes_added_to_flops_with_declared_units():
    with pytest.raises(UnitError) as info:
        F.check_units("flops + weight", units={"flops": "FLOP", "weight": "GB"})
    assert str(info.value) == (
        "expression flops + weight: term flops is [compute] (FLOP), term weight is "
        "[information] (GB): they cannot be added"
    )


def test_a_rate_added_to_a_total():
    with pytest.raises(UnitError) as info:
        F.check_units("mem_bandwidth + weight_bytes")
    assert str(info.value) == (
        "expression weight_bytes + mem_bandwidth: term mem_bandwidth is [information] / [time] "
        "(B/s), term weight_bytes is [information] (B): they cannot be added"
    )


def test_a_flop_rate_added_to_a_flop_total():
    with pytest.raises(UnitError) as info:
        F.check_units("prefill_flops + peak_flops")
    assert str(info.value) == (
        "expression prefill_flops + peak_flops: term peak_flops is [compute] / [time] "
        "(FLOP/s), term prefill_flops is [compute] (FLOP): they cannot be added"
    )


def test_bits_to_bytes_multiplied_by_8():
    with pytest.raises(UnitError) as info:
        F.check_units("params * bits_per_param * 8", units=BITS, result="byte")
    assert str(info.value) == (
        "expression 8*params*bits_per_param is in b, but the result is declared in B: same "
        "dimension [information], but 1 b = 0.125 B, so its numbers would be off by that "
        "factor; convert inside the expression (* B / (8 * b)) or declare the result in b"
    )
    assert info.value.terms == [("8*params*bits_per_param", "b", "[information]")]


def test_bits_to_bytes_divided_by_8_without_units_is_still_bits():
    # dividing the number by 8 does not make bits bytes: the unit constants must say so
    with pytest.raises(UnitError, match="is in b, but the result is declared in B"):
        F.check_units("params * bits_per_param / 8", units=BITS, result="byte")


def test_bits_to_bytes_done_right():
    unit = F.check_units("params * bits_per_param * byte / (8 * bit)", units=BITS, result="byte")
    assert unit == ureg.byte


def test_a_time_plus_a_bare_number():
    with pytest.raises(UnitError) as info:
        F.check_units("prefill_time + 80")
    assert str(info.value) == (
        "expression 80 + prefill_time: term 80 is dimensionless (dimensionless), term "
        "prefill_time is [time] (s): they cannot be added"
    )


def test_a_declared_rate_for_an_expression_in_bytes():
    with pytest.raises(UnitError) as info:
        F.check_units("weight", units={"weight": "GB"}, result="GB/s")
    assert str(info.value) == (
        "expression weight is in GB ([information]), but the result is declared in GB/s "
        "([information] / [time])"
    )
    assert info.value.terms == [("weight", "GB", "[information]")]


def test_a_declared_rate_for_a_formula_in_bytes():
    with pytest.raises(UnitError) as info:
        F.check_units("weight_bytes + kv_cache_bytes", result="GB/s")
    assert str(info.value) == (
        "expression weight_bytes + kv_cache_bytes is in B ([information]), but the result is "
        "declared in GB/s ([information] / [time])"
    )


# ------------------------------------------------------------------- more slips from the wild
def test_gb_labelled_gib():
    with pytest.raises(UnitError) as info:
        F.check_units("weight_bytes", result="GiB")
    assert str(info.value) == (
        "expression weight_bytes is in B, but the result is declared in GiB: same dimension "
        "[information], but 1 B = 9.31323e-10 GiB, so its numbers would be off by that factor; "
        "convert inside the expression (* GiB / (1.07374e+09 * B)) or declare the result in B"
    )


def test_gb_plus_gib():
    with pytest.raises(UnitError) as info:
        F.check_units("a + b", units={"a": "GB", "b": "GiB"})
    assert str(info.value) == (
        "expression a + b: term a is in GB, term b is in GiB: same dimension [information] but "
        "their scales differ (1 GiB = 1.07374 GB); convert one of them before they are added"
    )


def test_milliseconds_for_seconds_the_1000x_slip():
    with pytest.raises(UnitError) as info:
        F.check_units("prefill_flops / (peak_flops * utilization)", result="ms")
    assert str(info.value) == (
        "expression prefill_flops/(peak_flops*utilization) is in s, but the result is declared "
        "in ms: same dimension [time], but 1 s = 1000 ms, so its numbers would be off by that "
        "factor; convert inside the expression (* 1000 * ms / s) or declare the result in s"
    )


def test_a_flop_total_used_as_a_flop_rate_in_a_utilization():
    # "utilization" = FLOPs done / peak rate: a time, not a fraction (the 369% slip)
    with pytest.raises(UnitError) as info:
        F.check_units("prefill_flops / peak_flops", result="")
    assert str(info.value) == (
        "expression prefill_flops/peak_flops is in s ([time]), but the result is declared in "
        "dimensionless (dimensionless)"
    )


def test_log_of_a_quantity():
    with pytest.raises(UnitError) as info:
        F.check_units("log(weight_bytes)")
    assert str(info.value) == (
        "expression log(weight_bytes): log of weight_bytes, which is [information] (B): log "
        "needs a plain number"
    )


def test_min_of_a_rate_and_a_total():
    with pytest.raises(UnitError, match="they cannot be compared"):
        F.check_units("min(weight_bytes, mem_bandwidth)")


def test_unit_error_is_pints_dimensionality_error():
    with pytest.raises(pint.DimensionalityError):
        F.check_units("prefill_time + 80")


def test_long_expressions_are_not_printed_whole_in_the_prefix():
    names = [f"memory_{i}" for i in range(12)]
    with pytest.raises(UnitError) as info:
        F.check_units(" + ".join(names) + " + prefill_flops", units=dict.fromkeys(names, "B"))
    assert str(info.value).startswith("expression: term ")


# ------------------------------------------------------------------- consistent formulas
@pytest.mark.parametrize(
    "text, units, result, expected",
    [
        ("weight_bytes + kv_cache_bytes + workspace_bytes", None, None, "byte"),
        ("params * bytes_per_param", None, "byte", "byte"),
        ("2 * FLOP * params * seq_len", None, "FLOP", "FLOP"),
        ("prefill_flops / (peak_flops * utilization)", None, "s", "s"),
        ("weight_bytes / mem_bandwidth", None, None, "s"),
        ("prefill_flops / weight_bytes", None, "FLOP/byte", "FLOP/byte"),
        ("sqrt(weight_bytes**2 + kv_cache_bytes**2)", None, "B", "B"),
        ("max(weight_bytes, kv_cache_bytes)", None, "byte", "byte"),
        ("ceil(total_vram / gpu_memory)", None, "", ""),
        ("n * GB", {"n": ""}, "GB", "GB"),
        ("rate * 1e-3 * s / ms", {"rate": "1/s"}, None, "1/ms"),
    ],
)
def test_consistent_formulas_give_their_unit(text, units, result, expected):
    assert F.check_units(text, units=units, result=result) == ureg.Unit(expected)


def test_without_result_the_unit_is_the_expressions_own():
    assert F.check_units("2 * FLOP * params * seq_len") == ureg.Unit("FLOP * parameter * token")


def test_result_accepts_a_pint_unit():
    assert F.check_units("weight_bytes", result=ureg.byte) == ureg.byte


def test_glossary_names_need_no_declared_unit_and_may_repeat_it():
    assert F.check_units("seq_len * batch", units={"seq_len": "token"}) == ureg.Unit(
        "token * sequence"
    )


def test_a_sympy_expression_is_checked_like_text():
    params, bits = sympy.symbols("params bits_per_param")
    byte, bit = sympy.symbols("byte bit")
    good = params * bits * byte / (8 * bit)
    assert F.check_units(good, units=BITS, result="byte") == ureg.byte
    with pytest.raises(UnitError, match=r"1 b = 0\.125 B"):
        F.check_units(params * bits * 8, units=BITS, result="byte")


def test_a_sympy_expression_with_glossary_symbols():
    expr = F.glossary.symbol("params") * F.glossary.symbol("bytes_per_param")
    assert F.check_units(expr, result="B") == ureg.byte


def test_formula_names_are_parts_with_their_unit():
    analysis = check.analyse("weight_bytes + kv_cache_bytes", None, F.registry)
    assert {p.name for p in analysis.parts.values()} == {"weight_bytes", "kv_cache_bytes"}


def test_a_declared_name_shadows_a_unit():
    # 'b' is a bit when not declared; declared, it is the user's symbol
    assert F.check_units("b * 2") == ureg.bit
    assert F.check_units("b * 2", units={"b": "FLOP"}) == ureg.FLOP


def test_user_formulas_are_known_to_check_units(scratch):
    F.define("doubled", "2 * weight_bytes", result="B", doc="Twice the weights.")
    assert F.check_units("doubled + kv_cache_bytes") == ureg.byte


def test_declared_symbols_may_carry_a_domain():
    unit = F.check_units(
        "hit * weight_bytes",
        units={"hit": {"unit": "", "domain": "unit_interval", "meaning": "hit rate"}},
    )
    assert unit == ureg.byte


# ------------------------------------------------------------------- names
def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownNameError) as info:
        F.check_units("weight_byte + kv_cache_bytes")
    assert str(info.value) == (
        "unknown name 'weight_byte'; did you mean 'weight_bytes'?: not a glossary symbol, a "
        "formula or a unit; declare your own input with units={'weight_byte': 'its unit'}"
    )
    assert info.value.name == "weight_byte"


def test_unknown_name_without_anything_close():
    with pytest.raises(UnknownNameError) as info:
        F.check_units("zzz * 2")
    assert str(info.value) == (
        "unknown name 'zzz': not a glossary symbol, a formula or a unit; declare your own "
        "input with units={'zzz': 'its unit'}"
    )


def test_declaring_a_glossary_symbol_in_another_unit_is_refused():
    with pytest.raises(UnitError) as info:
        F.check_units("seq_len * 2", units={"seq_len": "byte"})
    assert str(info.value) == (
        "units['seq_len'] declares seq_len in byte ([information]), but 'seq_len' is the "
        "glossary symbol S (context length: tokens held in the KV cache per sequence) in token "
        "(dimensionless): drop it from units= or use another name"
    )


def test_declaring_a_formula_name_is_refused():
    with pytest.raises(FormulaDefinitionError) as info:
        F.check_units("weight_bytes * 2", units={"weight_bytes": "GB"})
    assert str(info.value).startswith(
        "units['weight_bytes']: 'weight_bytes' is the formula weight_bytes ("
    )
    assert str(info.value).endswith(", in B); it needs no declared unit")


def test_unused_declared_names_are_refused():
    with pytest.raises(FormulaDefinitionError) as info:
        F.check_units("params * bytes_per_param", units={"bits_per_parm": "bit/parameter"})
    assert str(info.value) == (
        "units= declares 'bits_per_parm', which the formula does not use; drop it or check "
        "the spelling"
    )


@pytest.mark.parametrize(
    "units, error, message",
    [
        ({"x": "GIB"}, UnknownNameError, "units['x']: unknown unit 'GIB'; did you mean"),
        ({"x": "9**9**9"}, InputError, "units['x']: '9**9**9' is not a unit"),
        ({"x": 3}, InputError, "units['x']: a unit must be text such as 'GB/s', got 3"),
        ({"x": {"unit": "B", "domian": "positive"}}, InputError, "units['x']: unknown key"),
        ({"x": {"meaning": "m"}}, InputError, "units['x']: give its 'unit'"),
        ({"x": {"unit": "B", "domain": "big"}}, InputError, "units['x']: unknown domain 'big'"),
        ({"_x": "B"}, FormulaDefinitionError, "units['_x']: a declared name must be"),
    ],
)
def test_bad_declarations(units, error, message):
    with pytest.raises(error) as info:
        F.check_units("x * 2", units=units)
    assert str(info.value).startswith(message)


def test_bad_result_unit():
    with pytest.raises(UnknownNameError, match="result: unknown unit 'bytez'"):
        F.check_units("weight_bytes", result="bytez")


def test_not_a_formula():
    with pytest.raises(FormulaDefinitionError, match="give a formula as text"):
        F.check_units([1, 2])


def test_numbers_alone():
    assert F.check_units(3) == ureg.Unit("")


def test_module_doctests(monkeypatch):
    result = doctest.testmod(check, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_unknown_names_carry_their_suggestions():
    with pytest.raises(UnknownNameError) as info:
        F.check_units("kv_cache_byte * 2")
    assert info.value.suggestions == ["kv_cache_bytes"]
