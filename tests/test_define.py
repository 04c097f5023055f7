"""define(): a user formula is a normal Formula (called, lambdified, derived, solved like a
built-in), checked when defined, and kept out of the built-in registry unless asked."""

from __future__ import annotations

import doctest
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy

import llmphys as F
import llmphys.user
from llmphys.engine import Registry
from llmphys.errors import FormulaDefinitionError, UnitError, UnknownNameError, UnsafeFormulaError
from llmphys.units import Q_, ureg

BITS = {"bits_per_param": "bit/parameter"}


@pytest.fixture
def user(monkeypatch, scratch) -> Registry:
    """A fresh user registry for the test (the module-level one is never touched)."""
    monkeypatch.setattr(llmphys.user, "user_registry", scratch)
    return scratch


def weights_from_bits(registry: Registry) -> F.Formula:
    return F.define(
        "weights_from_bits",
        "params * bits_per_param * byte / (8 * bit)",
        result="byte",
        units=BITS,
        doc="Weight bytes from a precision in bits per parameter.\n\nNotes\n-----\n"
        "- 8 bits make a byte.",
        registry=registry,
    )


def test_a_user_formula_is_a_formula(scratch):
    f = weights_from_bits(scratch)
    assert isinstance(f, F.Formula)
    assert f.name == "weights_from_bits" and f.unit == ureg.byte
    assert f.input_names == ("params", "bits_per_param")
    assert f.meaning == "Weight bytes from a precision in bits per parameter"
    assert scratch["weights_from_bits"] is f


def test_call_with_numbers_and_quantities(scratch):
    f = weights_from_bits(scratch)
    assert f(params=70e9, bits_per_param=4).to("GB").magnitude == pytest.approx(35)
    q = f(params=70e9, bits_per_param=Q_(0.5, "byte/parameter"))
    assert q.to("GB").magnitude == pytest.approx(35)


def test_declared_inputs_are_checked_like_glossary_ones(scratch):
    f = weights_from_bits(scratch)
    with pytest.raises(UnitError, match="argument 'bits_per_param' to formula"):
        f(params=70e9, bits_per_param=Q_(4, "s"))
    with pytest.raises(F.InputError, match="argument 'bits_per_param' must be positive"):
        f(params=70e9, bits_per_param=-4)


def test_lambdify(scratch):
    f = weights_from_bits(scratch)
    fn = f.lambdify()
    assert fn(70e9, 4) == pytest.approx(35e9)
    grid = fn(np.array([7e9, 70e9]), 4)
    assert grid == pytest.approx([3.5e9, 35e9])


def test_derive(scratch):
    d = weights_from_bits(scratch).derive(params=70e9, bits_per_param=4.25)
    text = str(d)
    assert "weights_from_bits = 37.2 GB" in text
    assert "bits_per_param = 4.25 b/param" in text
    assert d.to_dict()["result"]["value"] == pytest.approx(37.1875e9)


def test_composite_over_builtins(scratch):
    weights_from_bits(scratch)
    vram = F.define(
        "vram_with_bit_weights",
        "weights_from_bits + kv_cache_bytes",
        result="B",
        doc="Weights in a bit precision plus the KV cache.",
        registry=scratch,
    )
    assert {p.name for p in vram.parts.values()} == {"weights_from_bits", "kv_cache_bytes"}
    values = dict(layers=80, n_kv_heads=8, head_dim=128, kv_bytes=2, seq_len=10000, batch=1)
    kv = F.kv_cache_bytes(**values)
    got = vram(params=70e9, bits_per_param=4, **values)
    assert got.to("B").magnitude == pytest.approx(35e9 + kv.to("B").magnitude)
    # a part may be given instead of its inputs, as for built-ins
    given = vram(weights_from_bits=Q_(35, "GB"), **values)
    assert given.to("B").magnitude == pytest.approx(got.to("B").magnitude)
    assert "M_KV" in str(vram.derive(params=70e9, bits_per_param=4, **values))


def test_a_sympy_expression(scratch):
    params, bits = sympy.symbols("params bits_per_param")
    byte, bit = sympy.symbols("byte bit")
    f = F.define(
        "bit_weights_sympy",
        params * bits * byte / (8 * bit),
        result="byte",
        units=BITS,
        doc="Same, from SymPy.",
        registry=scratch,
    )
    assert f(params=8, bits_per_param=4).magnitude == 4


def test_the_builtin_registry_and_glossary_are_untouched(scratch):
    before = (len(F.registry), len(F.glossary))
    weights_from_bits(scratch)
    assert "weights_from_bits" not in F.registry and "bits_per_param" not in F.glossary
    assert "bits_per_param" in scratch.glossary
    assert (len(F.registry), len(F.glossary)) == before


def test_default_registry_is_the_user_registry(user):
    f = F.define("twice_weights", "2 * weight_bytes", result="B", doc="Twice the weights.")
    assert user["twice_weights"] is f
    assert "twice_weights" not in F.registry


def test_module_level_user_registry_sees_the_builtins():
    reg = llmphys.user.user_registry
    assert reg.parent is F.registry and reg.glossary.parent is F.glossary
    assert F.user_registry is reg
    assert "kv_cache_bytes" in reg


def test_register_builtin_when_asked():
    # in a fresh interpreter: the test suite never mutates the shared built-in registry
    code = textwrap.dedent(
        """
        import llmphys as F
        f = F.define("weights_from_bits", "params * bits_per_param * byte / (8 * bit)",
                     result="byte", units={"bits_per_param": "bit/parameter"},
                     doc="Bits to bytes.", register_builtin=True)
        print(F.registry["weights_from_bits"] is f, "bits_per_param" in F.glossary)
        print(F.weights_from_bits is f)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True"]


def test_registry_and_register_builtin_together_are_refused(scratch):
    with pytest.raises(FormulaDefinitionError, match="give registry= or register_builtin=True"):
        F.define("x2", "2 * weight_bytes", result="B", registry=scratch, register_builtin=True)


def test_running_the_same_definition_again_returns_the_formula(scratch):
    first = weights_from_bits(scratch)
    assert weights_from_bits(scratch) is first  # a re-run notebook cell


def test_a_different_definition_under_a_used_name_is_refused(scratch):
    weights_from_bits(scratch)
    with pytest.raises(FormulaDefinitionError) as info:
        F.define("weights_from_bits", "params * bytes_per_param", result="B", registry=scratch)
    assert str(info.value) == (
        "formula 'weights_from_bits' is already registered; every formula is defined once"
    )


def test_a_builtin_name_is_refused(scratch):
    with pytest.raises(FormulaDefinitionError, match="'weight_bytes' is already registered"):
        F.define("weight_bytes", "2 * params * bytes_per_param", result="B", registry=scratch)


def test_a_glossary_name_is_refused(scratch):
    with pytest.raises(FormulaDefinitionError, match="has the name of the glossary symbol"):
        F.define("seq_len", "2 * prompt_len", result="token", registry=scratch)


# ------------------------------------------------------------------- units checked at definition
def test_bits_times_8_is_refused_when_defined(scratch):
    with pytest.raises(UnitError) as info:
        F.define(
            "bad_bits",
            "params * bits_per_param * 8",
            result="byte",
            units=BITS,
            doc="Bits multiplied by 8.",
            registry=scratch,
        )
    assert str(info.value) == (
        "formula 'bad_bits' is declared in B but its expression 8*params*bits_per_param is in "
        "b: same dimension [information], but 1 b = 0.125 B, so its numbers would be off by "
        "that factor"
    )


def test_bytes_plus_flops_is_refused_when_defined(scratch):
    with pytest.raises(UnitError) as info:
        F.define("bad_sum", "weight_bytes + prefill_flops", result="B", registry=scratch)
    assert str(info.value) == (
        "formula 'bad_sum': term prefill_flops is [compute] (FLOP), term weight_bytes is "
        "[information] (B): they cannot be added"
    )


def test_a_declared_rate_for_bytes_is_refused_when_defined(scratch):
    with pytest.raises(UnitError) as info:
        F.define("bad_rate", "weight_bytes", result="GB/s", registry=scratch)
    assert str(info.value) == (
        "formula 'bad_rate' is declared in GB/s ([information] / [time]) but its expression "
        "weight_bytes is in B ([information])"
    )


@pytest.mark.parametrize(
    "text, error",
    [
        ("weight_bytes + bitz", UnknownNameError),
        ("__import__('os')", UnsafeFormulaError),
        ("weight_bytes + prefill_flops", UnitError),
        ("weight_bytes +", FormulaDefinitionError),
    ],
)
def test_a_refused_definition_leaves_no_trace(scratch, text, error):
    before = (len(scratch), len(scratch.glossary))
    with pytest.raises(error):
        F.define(
            "refused",
            text,
            result="B",
            units={"extra": "B"} if "extra" in text else None,
            registry=scratch,
        )
    assert (len(scratch), len(scratch.glossary)) == before
    assert "refused" not in scratch.glossary


def test_a_refused_definition_does_not_leave_its_declared_symbols(scratch):
    with pytest.raises(UnitError):
        F.define("refused", "bits * 8", result="B", units={"bits": "bit"}, registry=scratch)
    assert "bits" not in scratch.glossary


def test_declared_symbols_with_domain_and_integer(scratch):
    f = F.define(
        "experts_bytes",
        "my_experts * my_expert_bytes * my_hit",
        result="GB",
        units={
            "my_experts": {"unit": "", "integer": True, "meaning": "routed experts"},
            "my_expert_bytes": {"unit": "GB", "meaning": "bytes of one expert"},
            "my_hit": {"unit": "", "domain": "unit_interval"},
        },
        doc="Bytes of the experts read.",
        registry=scratch,
    )
    entry = scratch.glossary["my_experts"]
    assert entry.integer and entry.meaning == "routed experts"
    assert scratch.glossary.symbol("my_experts").is_integer
    with pytest.raises(F.InputError, match="must be a whole number"):
        f(my_experts=2.5, my_expert_bytes=1, my_hit=0.5)
    assert f(my_experts=8, my_expert_bytes=1, my_hit=0) == Q_(0, "GB")
    with pytest.raises(UnitError, match="is declared in B but its expression"):
        # GB inputs give GB, not B: the scale is part of the unit check
        F.define("raw_gb", "my_expert_bytes * 1", result="B", registry=scratch)


def test_display_symbols(scratch):
    f = F.define(
        "kv_bits",
        "kv_cache_bytes * 8 * bit / byte",
        result="bit",
        latex=r"M_{\mathrm{KV,bits}}",
        text="M_KV,b",
        doc="The KV cache in bits.",
        registry=scratch,
    )
    assert f.entry.latex == r"M_{\mathrm{KV,bits}}" and f.entry.text == "M_KV,b"
    assert f.to_text().startswith("8 · M_KV")
    g = F.define("kv_bits_read", "kv_cache_bytes * 8 * bit / byte", result="bit",
                 latex=r"M_{\mathrm{KV}}^{\eta}", registry=scratch)  # fmt: skip
    assert g.entry.text == "M_KV^η"  # read from the LaTeX, as for the built-in formulas
    h = F.define("kv_bits_plain", "kv_cache_bytes * 8 * bit / byte", result="bit",
                 registry=scratch)  # fmt: skip
    assert h.entry.text == "kv_bits_plain" and h.entry.latex == r"\mathrm{kv\_bits\_plain}"


def test_without_a_docstring_the_meaning_says_user_defined(scratch):
    f = F.define("plain", "2 * weight_bytes", result="B", registry=scratch)
    assert f.meaning == "plain (user-defined formula)"
    assert f.source == "user-defined"


def test_solve_a_user_formula(scratch):
    f = weights_from_bits(scratch)
    solution = F.solve(f, "params", target=Q_(35, "GB"), bits_per_param=4)
    assert solution.value.to("").magnitude == 70e9
    assert solution.direction == "largest" and solution.method == "symbolic"
    assert "params" in solution.to_dict()["unknown"]
    assert "35 GB" in str(solution)


def test_solve_a_user_formula_for_a_declared_input(scratch):
    f = weights_from_bits(scratch)
    solution = F.solve(f, "bits_per_param", target=Q_(35, "GB"), params=70e9)
    assert solution.value.to("bit/parameter").magnitude == pytest.approx(4)


def test_solve_a_user_composite_infeasible(scratch):
    weights_from_bits(scratch)
    vram = F.define(
        "vram_with_bit_weights",
        "weights_from_bits + kv_cache_bytes",
        result="B",
        doc="Weights in a bit precision plus the KV cache.",
        registry=scratch,
    )
    values = dict(layers=80, n_kv_heads=8, head_dim=128, kv_bytes=2, batch=1)
    fits = F.solve(vram, "seq_len", target=Q_(80, "GB"), params=70e9, bits_per_param=4, **values)
    assert fits.value.magnitude == 137329  # (80e9 - 35e9) / 327680 B per token, floored
    with pytest.raises(F.InfeasibleError):
        F.solve(vram, "seq_len", target=Q_(80, "GB"), params=70e9, bits_per_param=16, **values)


def test_module_doctests(user):
    result = doctest.testmod(llmphys.user, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
    assert "weights_from_bits" in user  # the example went into the test's registry


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        # issue 16, item 6: 70.3e9 bf16 parameters are 140.6 GB, rounded up to whole GB
        ("ceil(weight_bytes / GB) * GB", "GB", 141),
        ("floor(weight_bytes / GB) * GB", "GB", 140),
        # 140.6e9 B = 130.94 GiB: whole GiB at the binary scale
        ("ceil(weight_bytes / GiB) * GiB", "GiB", 131),
        ("floor(weight_bytes / GiB) * GiB", "GiB", 130),
        # the scale of the ratio, not of the result, sets where it rounds: whole MB here
        ("ceil(weight_bytes / MB) * MB", "MB", 140_600),
    ],
)
def test_rounding_a_scaled_ratio_rounds_at_its_written_scale(scratch, text, unit, expected):
    f = F.define("rounded_weights", text, result="byte", registry=scratch)
    values = dict(params=70.3e9, bytes_per_param="bf16")
    assert f(**values).to(unit).magnitude == pytest.approx(expected, rel=1e-12)
    assert f.lambdify()(70.3e9, 2) == pytest.approx(Q_(expected, unit).to("B").magnitude)
    derived = f.derive(**values).to_dict()["result"]["value"]
    assert derived == pytest.approx(Q_(expected, unit).to("B").magnitude, rel=1e-12)


def test_a_staircase_is_solved_at_the_edge_of_its_step(scratch):
    """Rounded up to whole GB, 141 GB holds every bf16 model from 70.0e9 to 70.5e9 params: the
    largest that fits is the step's right edge, the smallest that needs it its left edge."""
    f = F.define("rounded_weights", "ceil(weight_bytes / GB) * GB", result="B", registry=scratch)
    largest = F.solve(f, "params", target=Q_(141, "GB"), bytes_per_param="bf16")
    assert largest.value.magnitude == 70_500_000_000 and largest.direction == "largest"
    assert largest.check.to("GB").magnitude == 141
    smallest = F.solve(f, "params", target=Q_(141, "GB"), bound="at_least", bytes_per_param="bf16")
    assert smallest.value.magnitude == 70_000_000_001  # 70.0e9 exactly is 140 GB
    with pytest.raises(F.NotUniqueError, match=r"exactly .*flat there"):
        F.solve(f, "params", target=Q_(141, "GB"), bound="equal", bytes_per_param="bf16")
