"""Wrong definitions are refused when defined, naming the formula, the term and both
dimensions; composites are built from parts, never re-typed."""

from __future__ import annotations

import pytest
import sympy

import llmphys as F
from llmphys.engine import formula
from llmphys.errors import FormulaDefinitionError, UnitError
from llmphys.units import unit_symbol

FLOP = unit_symbol("FLOP")


def test_bytes_plus_flops_refused(scratch):
    with pytest.raises(UnitError) as info:

        @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
        def bad_sum(weight_bytes, active_params, tokens):
            """Bytes plus FLOPs."""
            return weight_bytes + 2 * FLOP * active_params * tokens

    assert str(info.value) == (
        "formula 'bad_sum': term weight_bytes is [information] (B), "
        "term 2*active_params*tokens*FLOP is [compute] (FLOP·param·tok): they cannot be added"
    )
    assert "bad_sum" not in scratch


def test_flop_total_declared_as_rate_refused(scratch):
    with pytest.raises(UnitError) as info:

        @formula(unit="FLOP/second", latex="X", text="X", source="test", registry=scratch)
        def bad_rate(prefill_flops):
            """A FLOP total declared as a FLOP rate."""
            return prefill_flops

    assert str(info.value) == (
        "formula 'bad_rate' is declared in FLOP/s ([compute] / [time]) but its expression "
        "prefill_flops is in FLOP ([compute])"
    )


def test_time_plus_bare_number_refused(scratch):
    with pytest.raises(UnitError) as info:

        @formula(unit="second", latex="X", text="X", source="test", registry=scratch)
        def bad_time(prefill_time):
            """Time plus a bare number (the seed's '* 1000 + 80' taken literally)."""
            return prefill_time + 80

    assert str(info.value) == (
        "formula 'bad_time': term 80 is dimensionless (dimensionless), "
        "term prefill_time is [time] (s): they cannot be added"
    )


def test_bandwidth_plus_capacity_refused(scratch):
    with pytest.raises(UnitError) as info:

        @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
        def bad_mix(mem_bandwidth, weight_bytes):
            """A bandwidth added to a capacity."""
            return mem_bandwidth + weight_bytes

    msg = str(info.value)
    assert msg.startswith("formula 'bad_mix': term ")
    assert "[information] / [time] (B/s)" in msg and "[information] (B)" in msg
    assert msg.endswith("they cannot be added")


def test_scale_mismatch_refused(scratch):
    GiB = unit_symbol("GiB")
    with pytest.raises(UnitError) as info:

        @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
        def bad_scale(weight_bytes):
            """Bytes plus GiB: same dimension, different scale."""
            return weight_bytes + 2 * GiB

    assert "same dimension [information] but their scales differ (1 GiB = 1.07374e+09 B)" in str(
        info.value
    )


def test_declared_result_scale_mismatch_refused(scratch):
    with pytest.raises(UnitError) as info:

        @formula(unit="GB", latex="X", text="X", source="test", registry=scratch)
        def bad_gb(params, bytes_per_param):
            """Bytes declared as GB."""
            return params * bytes_per_param

    assert str(info.value) == (
        "formula 'bad_gb' is declared in GB but its expression params*bytes_per_param is in "
        "B: same dimension [information], but 1 B = 1e-09 GB, so its numbers would be off by "
        "that factor"
    )


def test_unknown_parameter_refused_with_suggestion(scratch):
    with pytest.raises(FormulaDefinitionError) as info:

        @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
        def typo(weight_byte):
            """Typo."""
            return weight_byte

    assert str(info.value) == (
        "formula 'typo': parameter 'weight_byte' is neither a glossary symbol nor a registered "
        "formula; did you mean 'weight_bytes'?"
    )


def test_at_with_a_non_input_refused(scratch):
    with pytest.raises(FormulaDefinitionError) as info:

        @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
        def bad_at(weight_bytes, seq_len):
            """Substitutes a symbol weight_bytes does not have."""
            return weight_bytes.at(seq_len=seq_len)

    assert "weight_bytes.at() got 'seq_len', which is not an input of weight_bytes" in str(
        info.value
    )


def test_leaf_names_are_the_inputs_read_without_expanding():
    """The .at() check reads a part's inputs from its parts (Formula.leaf_names) instead of
    expanding it (which took a third of the import's own time): every input is there, and a
    name more only where terms cancel in the expansion (kv_bytes_per_token_mha's head_dim is
    hidden / n_heads, times n_heads KV heads)."""
    for f in F.registry.values():
        assert {s.name for s in f.inputs} <= f.leaf_names(), f.name
    mha = F.registry["kv_bytes_per_token_mha"]
    assert mha.leaf_names() - {s.name for s in mha.inputs} == {"n_heads"}
    assert "n_heads" not in {s.name for s in mha.expand().free_symbols}
    ssm = F.registry["kv_cache_per_gpu_ssm"]  # .at() parts, and a cancelling layer count
    assert ssm.leaf_names() == {s.name for s in ssm.inputs} | {"layers"}


def test_at_with_wrong_unit_refused(scratch):
    with pytest.raises(UnitError) as info:

        @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
        def bad_at_unit(weight_bytes, overhead):
            """Puts a time where a parameter count goes."""
            return weight_bytes.at(params=overhead)

    assert "gives params a value in 's' ([time])" in str(info.value)


def test_names_are_defined_once(scratch):
    with pytest.raises(FormulaDefinitionError, match="already registered"):

        @formula(unit="byte", latex="X", text="X", source="test", registry=scratch)
        def weight_bytes(params, bytes_per_param):
            """Again."""
            return params * bytes_per_param


def test_scratch_definitions_do_not_touch_the_builtin_registry(scratch):
    @formula(unit="byte", latex="Y", text="Y", source="test", registry=scratch)
    def doubled_weights(weight_bytes):
        """Twice the weights."""
        return 2 * weight_bytes

    assert "doubled_weights" in scratch and "doubled_weights" not in F.registry
    assert "doubled_weights" not in F.glossary
    assert doubled_weights(params=1e9, bytes_per_param=2).to("GB").magnitude == 4


def test_composites_reference_parts_not_retyped():
    # total_vram's own expression is over its three parts, not their inputs
    t = F.total_vram
    assert {s.name for s in t.expr.free_symbols} == {
        "weight_bytes",
        "kv_cache_bytes",
        "workspace_bytes",
    }
    # and its expansion is exactly the parts' expansions added
    expected = F.weight_bytes.expanded + F.kv_cache_bytes.expanded + F.workspace_bytes.expanded
    assert sympy.simplify(t.expanded - expected) == 0


def test_decode_uses_dense_at_one_token_and_attention_at_one_query():
    d = F.decode_flops.expanded
    N_a, L, d_model, S_p, S_new = (
        F.glossary.symbol(n)
        for n in ["active_params", "layers", "hidden", "prompt_len", "new_tokens"]
    )
    expected = 2 * N_a + 4 * L * (S_p + S_new / 2) * d_model
    assert sympy.simplify(d.subs(FLOP, 1) - expected) == 0


def test_with_parts_swaps_a_part_at_any_depth(scratch):
    @formula(unit="byte/token", latex="m'", text="m'", source="test", registry=scratch)
    def kv_per_token_halved(layers, n_kv_heads, head_dim, kv_bytes):
        """Half the KV per token (a stand-in variant)."""
        return layers * n_kv_heads * head_dim * kv_bytes

    variant = F.total_vram.with_parts(kv_bytes_per_token=kv_per_token_halved)
    values = dict(
        params=70e9,
        bytes_per_param=2,
        layers=80,
        n_kv_heads=8,
        head_dim=128,
        kv_bytes=2,
        seq_len=10000,
        batch=1,
        workspace_fraction=0.12,
    )
    kv_full = F.kv_cache_bytes(**{k: values[k] for k in F.kv_cache_bytes.input_names})
    assert (F.total_vram(**values) - variant(**values)).to("B").magnitude == pytest.approx(
        kv_full.to("B").magnitude / 2
    )
    assert variant.variant_of is F.total_vram and "total_vram" in F.registry
    assert F.registry["total_vram"] is not variant
    assert "kv_bytes_per_token -> kv_per_token_halved" in repr(variant)


def test_with_parts_refuses_wrong_unit_and_unknown_part():
    with pytest.raises(UnitError, match="part 'kv_cache_bytes' is in B"):
        F.total_vram.with_parts(kv_cache_bytes=F.prefill_flops)
    with pytest.raises(KeyError, match="'kv_cach' is not a part of it"):
        F.total_vram.with_parts(kv_cach=F.weight_bytes)


def test_a_formulas_text_is_read_from_its_latex_unless_given(scratch):
    """The display symbol is declared once, in LaTeX; its plain text is read from it
    (engine.printing.plain_symbol), or given where the plain reading differs."""
    import doctest

    import llmphys.engine.printing as printing
    from llmphys.engine.printing import plain_symbol

    @formula(unit="byte", latex=r"M_{\mathrm{x}}^{\eta}", source="test", registry=scratch)
    def read_text(weight_bytes):
        """Weights, renamed."""
        return weight_bytes

    @formula(unit="byte", latex=r"M_{\mathrm{per\,y}}", text="M_per_y", source="test",
             registry=scratch)  # fmt: skip
    def given_text(weight_bytes):
        """Weights, renamed again."""
        return weight_bytes

    assert scratch.glossary["read_text"].text == "M_x^η"
    assert scratch.glossary["given_text"].text == "M_per_y"
    assert F.glossary["kv_transfer_time"].text == "t_KV,xfer"  # given: the comma is its own
    assert F.glossary["ttft"].text == plain_symbol(F.glossary["ttft"].latex) == "t_TTFT"
    assert doctest.testmod(printing).failed == 0
