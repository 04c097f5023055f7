"""The compiled numpy path: cached, exact to 1e-12 against SymPy over every registered formula,
float64 at extreme integer inputs, and the unit-aware path validating like a call."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import llmphys as F
from llmphys.engine.compiled import NumpyFunction, QuantityFunction, compile_expression
from llmphys.engine.glossary import Entry
from llmphys.errors import InputError, UnitError
from llmphys.units import Q_, UnitSymbol

from support import defaults_for

ALL = sorted(F.registry)
RTOL = 1e-12
EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# ---------------------------------------------------------------------- exact reference
def exact(expr: sympy.Expr, point: dict[str, float]) -> sympy.Float:
    """``expr`` at ``point`` in exact arithmetic: every float64 becomes the Rational it is
    exactly, unit constants count as 1, evaluated to 30 digits."""
    subs: dict[sympy.Basic, sympy.Basic] = {
        s: sympy.Integer(1) for s in expr.free_symbols if isinstance(s, UnitSymbol)
    }
    for s in expr.free_symbols:
        if not isinstance(s, UnitSymbol):
            subs[s] = sympy.Rational(float(point[s.name]))
    return sympy.N(expr.xreplace(subs), 30)


def assert_exact(value: float, reference: sympy.Float, where: object) -> None:
    assert math.isfinite(value), where
    error = abs(sympy.Float(value, 30) - reference)
    assert error <= RTOL * abs(reference), (where, value, reference, float(error / reference))


# ---------------------------------------------------------------------- valid random points
def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: min(hi, max(lo, 10.0**e)))


def values_of(entry: Entry) -> st.SearchStrategy[float]:
    """Valid values of one symbol: whole numbers for counts, drawn log-uniformly where the
    glossary range spans decades, with the range ends and the domain's edges (0, 1) included."""
    lo, hi = entry.range if entry.range is not None else (1e-3, 1e12)
    edges: list[float] = [lo, hi]
    if entry.domain in ("nonnegative", "unit_interval"):
        edges.append(0.0)
    if entry.domain in ("fraction", "unit_interval"):
        hi = min(hi, 1.0)
        edges.append(1.0)
    if entry.integer:
        lo_i = max(math.ceil(lo), 0 if entry.domain == "nonnegative" else 1)
        hi_i = math.floor(hi)
        edges = [float(e) for e in {lo_i, hi_i, *(e for e in edges if e == 0)}]
        inner = (
            log_uniform(max(lo_i, 1), hi_i).map(round)
            if hi_i / max(lo_i, 1) > 100
            else st.integers(lo_i, hi_i)
        ).map(float)
    else:
        lo_f = lo if lo > 0 else 1e-6
        inner = log_uniform(lo_f, hi) if entry.log_scale or lo == 0 else st.floats(lo_f, hi)
        edges = [e for e in edges if e > 0 or entry.domain in ("nonnegative", "unit_interval")]
    return st.one_of(st.sampled_from(sorted(set(edges))), inner)


# physical constraints between inputs that the glossary's per-symbol domains cannot state:
# (smaller, larger).  Outside them a formula may cancel or blow up: experts_touched's
# (1 - k/E)^B overflows when more experts are picked per token than there are.
ORDERED = [
    ("active_params", "params"),
    ("active_weight_bytes", "weight_bytes"),
    ("experts_per_token", "n_experts"),
]


def valid(point: dict[str, float]) -> dict[str, float]:
    """``point`` with each constrained pair in order (swapped where drawn the other way)."""
    point = dict(point)
    for small, large in ORDERED:
        if small in point and large in point and point[small] > point[large]:
            point[small], point[large] = point[large], point[small]
    return point


def points(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries({n: values_of(F.glossary[n]) for n in names}).map(valid)


# ---------------------------------------------------------------------- the cached function
def test_lambdify_is_cached_per_formula_and_path():
    f = F.kv_cache_bytes
    assert f.lambdify() is f.lambdify()
    assert f.lambdify(units=True) is f.lambdify(units=True)
    assert f.lambdify() is not f.lambdify(units=True)
    assert isinstance(f.lambdify(), NumpyFunction)
    assert isinstance(f.lambdify(units=True), QuantityFunction)
    assert F.total_vram.lambdify() is not f.lambdify()


@pytest.mark.parametrize("name", ALL)
def test_inputs_and_signature_follow_formula_inputs(name):
    f = F.registry[name]
    for fn in (f.lambdify(), f.lambdify(units=True)):
        assert fn.inputs == f.input_names
        assert tuple(inspect.signature(fn).parameters) == f.input_names
        assert fn.unit == f.unit


def test_positional_keyword_and_mixed_calls_agree():
    fn = F.kv_cache_bytes.lambdify()
    by_position = fn(80, 8, 128, 10000, 1, 2)
    assert by_position == 2 * 80 * 8 * 128 * 10000 * 2
    assert fn(layers=80, n_kv_heads=8, head_dim=128, seq_len=10000, batch=1, kv_bytes=2) == (
        by_position
    )
    assert fn(80, 8, 128, batch=1, kv_bytes=2, seq_len=10000) == by_position


def test_repr_names_inputs_and_unit():
    assert repr(F.kv_cache_bytes.lambdify()) == (
        "<numpy function kv_cache_bytes(layers, n_kv_heads, head_dim, seq_len, batch, kv_bytes)"
        " -> B>"
    )
    assert repr(F.weight_bytes.lambdify(units=True)) == (
        "<unit-aware function weight_bytes(params, bytes_per_param) -> B>"
    )


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (
            (1, 2, 3),
            {},
            "weight_bytes.lambdify() takes 2 inputs (params, bytes_per_param), got 3",
        ),
        (
            (1,),
            {},
            "weight_bytes.lambdify(): missing input 'bytes_per_param' "
            "(inputs: params, bytes_per_param)",
        ),
        (
            (),
            {},
            "weight_bytes.lambdify(): missing inputs 'params', 'bytes_per_param' "
            "(inputs: params, bytes_per_param)",
        ),
        (
            (1,),
            {"bytes_per_parm": 2},
            "weight_bytes.lambdify(): unknown input 'bytes_per_parm'; did you mean "
            "'bytes_per_param'? (inputs: params, bytes_per_param)",
        ),
        (
            (1, 2),
            {"params": 3},
            "weight_bytes.lambdify(): got two values for 'params' (by position and name)",
        ),
    ],
)
def test_signature_errors(args, kwargs, message):
    with pytest.raises(TypeError) as info:
        F.weight_bytes.lambdify()(*args, **kwargs)
    assert str(info.value) == message
    with pytest.raises(TypeError) as info:
        F.weight_bytes.lambdify(units=True)(*args, **kwargs)
    assert str(info.value) == message.replace(".lambdify()", ".lambdify(units=True)")


def test_scalars_give_a_float_and_arrays_broadcast_to_a_fresh_float64_array():
    fn = F.kv_cache_bytes.lambdify()
    assert type(fn(80, 8, 128, 10000, 1, 2)) is float
    assert type(fn(np.int64(80), 8, 128.0, np.float32(10000), 1, 2)) is float
    assert type(fn(np.array(80), 8, 128, 10000, 1, 2)) is float
    seq = np.array([1000, 2000, 4000])
    batch = np.array([[1], [8]])
    out = fn(80, 8, 128, seq, batch, 2)
    assert out.dtype == np.float64 and out.shape == (2, 3)
    assert out[1, 2] == 2 * 80 * 8 * 128 * 4000 * 8 * 2
    out[0, 0] = -1.0  # writable, and no input was touched
    assert seq.tolist() == [1000, 2000, 4000] and batch.tolist() == [[1], [8]]


def test_formula_equal_to_one_input_does_not_alias_it(scratch):
    from llmphys.engine import formula

    @formula(unit="token", latex="X", text="X", source="test", registry=scratch)
    def context_copy(seq_len):
        """The context length itself."""
        return seq_len

    seq = np.array([1.0, 2.0])
    out = context_copy.lambdify()(seq)
    out[0] = 5.0
    assert seq.tolist() == [1.0, 2.0]


def test_result_has_the_broadcast_shape_even_where_an_input_is_ignored():
    x, y = sympy.symbols("x y", positive=True)
    fn = compile_expression([x, y], 2 * x)
    out = fn(np.array([1.0, 2.0]), np.ones((3, 1)))
    assert out.shape == (3, 2) and out.flags.writeable


def test_min_max_and_piecewise_compile_and_broadcast():
    x, y = sympy.symbols("x y", positive=True)
    fn = compile_expression([x, y], sympy.Max(x, 2 * y) + sympy.Min(x, y))
    out = fn(np.array([1.0, 5.0]), np.array([[1.0], [3.0]]))
    assert out.tolist() == [[3.0, 6.0], [7.0, 9.0]]
    assert fn(1.0, 3.0) == 7.0
    fn = compile_expression([x, y], sympy.Piecewise((x, x < y), (y, True)))
    assert fn(np.array([1.0, 5.0]), 3.0).tolist() == [1.0, 3.0]


# ---------------------------------------------------------------------- exactness
@pytest.mark.parametrize("name", ALL)
def test_lambdified_equals_exact_sympy_at_random_valid_points(name):
    f = F.registry[name]
    fn = f.lambdify()

    @EXAMPLES
    @given(points(fn.inputs))
    def check(point):
        value = fn(**point)
        assert type(value) is float
        assert_exact(value, exact(f.expanded, point), (name, point))

    check()


@pytest.mark.parametrize("name", [n for n in ALL if F.registry[n].overridable_parts()])
def test_compiled_with_parts_given_equals_exact_sympy(name):
    # a part given directly (total_vram(weight_bytes=...)) compiles its own function; the
    # part's value is drawn consistently: the part evaluated at a valid random point
    f = F.registry[name]
    parts = f.overridable_parts()
    # a given part can bring back an input that cancelled in the whole formula (the hybrid
    # stage share L_stage / L of L_attn layers): draw its parts' inputs too
    names = sorted(set(f.input_names).union(*(p.input_names for p in parts.values())))

    @EXAMPLES
    @given(st.sets(st.sampled_from(sorted(parts)), min_size=1), points(tuple(names)))
    def check(given_parts, leaf):
        keep = frozenset(given_parts)
        fn, names = f.numeric(keep)
        point = dict(leaf)
        for part in keep:
            point[part] = float(exact(parts[part].expanded, leaf))
        value = fn(*(point[n] for n in names))
        assert_exact(value, exact(f.expand(keep), point), (name, keep, point))

    check()


# ---------------------------------------------------------------------- extreme integers
# contexts of 10^7 tokens, 10^12 parameters, batch 10^4, the widest architectures
EXTREMES = {
    "params": 10**12,
    "active_params": 10**12,
    "seq_len": 10**7,
    "prompt_len": 10**7,
    "tokens": 10**7,
    "query_tokens": 10**7,
    "new_tokens": 10**7,
    "batch": 10**4,
    "layers": 200,
    "hidden": 65536,
    "n_heads": 256,
    "n_kv_heads": 256,
    "head_dim": 512,
    "n_gpus": 1024,
}


def extreme_inputs(f) -> dict[str, np.ndarray | float]:
    """int64 arrays [default, extreme] for whole-number inputs, defaults for the rest."""
    values: dict[str, np.ndarray | float] = {}
    for sym in f.inputs:
        entry = F.glossary[sym.name]
        if entry.integer:
            top = EXTREMES.get(sym.name, int(entry.range[1]))
            values[sym.name] = np.array([int(entry.default), top, 1], dtype=np.int64)
        else:
            values[sym.name] = entry.default
    return values


WITH_COUNTS = [n for n in ALL if any(F.glossary[s.name].integer for s in F.registry[n].inputs)]


@pytest.mark.parametrize("name", WITH_COUNTS)
def test_integer_arrays_at_extremes_stay_exact_in_float64(name):
    f = F.registry[name]
    values = extreme_inputs(f)
    raw = f.lambdify()(**values)
    aware = f.lambdify(units=True)(**values)
    called = f(**values)
    for out in (raw, aware.magnitude, called.magnitude):
        assert out.dtype == np.float64 and out.shape == (3,)
    for i in range(3):
        point = {n: (v[i] if isinstance(v, np.ndarray) else v) for n, v in values.items()}
        reference = exact(f.expanded, point)
        for out in (raw, aware.magnitude, called.magnitude):
            assert_exact(float(out[i]), reference, (name, i))


def test_the_extremes_would_overflow_int64_without_the_float64_cast():
    # the test above has teeth: evaluated in int64, S^2 terms wrap around
    f = F.prefill_flops
    values = extreme_inputs(f)
    args = [values[n] for n in f.input_names]
    unit_constants = {s: 1 for s in f.expanded.free_symbols if isinstance(s, UnitSymbol)}
    bare = sympy.lambdify(list(f.inputs), f.expanded.xreplace(unit_constants), "numpy")
    wrapped = bare(*[np.asarray(a) if isinstance(a, np.ndarray) else int(a) for a in args])
    assert wrapped.dtype == np.int64
    point = {n: (v[1] if isinstance(v, np.ndarray) else v) for n, v in values.items()}
    reference = float(exact(f.expanded, point))
    assert float(wrapped[1]) != pytest.approx(reference, rel=1e-3)
    assert float(f.lambdify()(*args)[1]) == pytest.approx(reference, rel=RTOL)


def test_python_integers_beyond_int64_are_read_as_floats():
    assert F.weight_bytes.lambdify()(10**20, 2) == 2e20
    assert F.weight_bytes.lambdify(units=True)(10**20, 2).magnitude == 2e20


# ---------------------------------------------------------------------- unit-aware path
# glossary defaults (the seed's running example) written in other units
IN_OTHER_UNITS = {
    "params": Q_(70, "Gparam"),
    "active_params": Q_(70, "Gparam"),
    "prompt_len": Q_(10, "ktoken"),
    "peak_flops": Q_(312, "TFLOPS"),
    "mem_bandwidth": Q_(2.039, "TB/s"),
    "overhead": Q_(80, "ms"),
    "gpu_memory": Q_(80, "GiB"),
}


def test_unit_aware_path_converts_quantities_and_returns_the_declared_unit():
    fq = F.kv_cache_bytes.lambdify(units=True)
    q = fq(80, 8, 128, Q_(32, "kibitoken"), 1, "BF16")
    assert q.units == F.kv_cache_bytes.unit
    assert q.to("GiB").magnitude == pytest.approx(10.0, rel=RTOL)
    f = F.ttft
    values = defaults_for(f)
    converted = {n: IN_OTHER_UNITS.get(n, v) for n, v in values.items()}
    assert sum(isinstance(v, type(Q_(1))) for v in converted.values()) >= 3
    t = f.lambdify(units=True)(**converted)
    assert t.units == f.unit
    assert t.magnitude == pytest.approx(f.lambdify()(**values), rel=RTOL)


@pytest.mark.parametrize("name", ALL)
def test_unit_aware_path_equals_raw_path_and_call(name):
    f = F.registry[name]
    defaults = defaults_for(f)
    quantities = {n: Q_(v, F.glossary[n].unit) for n, v in defaults.items()}
    raw = f.lambdify()(**defaults)
    for q in (f.lambdify(units=True)(**quantities), f.lambdify(units=True)(**defaults)):
        assert q.units == f.unit
        assert q.magnitude == pytest.approx(raw, rel=RTOL)
    assert f(**quantities).magnitude == pytest.approx(raw, rel=RTOL)


def test_unit_aware_arrays_of_quantities_and_caller_arrays_untouched():
    fq = F.weight_bytes.lambdify(units=True)
    params = Q_(np.array([7.0, 70.0, 405.0]), "Gparam")
    out = fq(params, "int4")
    assert out.to("GB").magnitude.tolist() == pytest.approx([3.5, 35.0, 202.5], rel=RTOL)
    assert params.magnitude.tolist() == [7.0, 70.0, 405.0]


def test_repeated_units_give_the_same_numbers_as_pint():
    fq = F.memory_per_gpu.lambdify(units=True)
    values = defaults_for(F.memory_per_gpu)
    values["params"] = Q_(70, "Gparam")
    first = fq(**values)
    second = fq(**values)
    by_pint = F.memory_per_gpu(**{**values, "params": Q_(70, "Gparam").to("param").magnitude})
    assert first.magnitude == second.magnitude == pytest.approx(by_pint.magnitude, rel=RTOL)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"seq_len": Q_(3, "GB")}, UnitError),
        ({"seq_len": Q_(-3, "ktoken")}, InputError),
        ({"batch": Q_(2.5, "sequence")}, InputError),
        ({"batch": 0}, InputError),
        ({"kv_bytes": "bf61"}, InputError),
        ({"kv_bytes": True}, InputError),
        ({"seq_len": Q_(np.array([10.0, math.nan]), "token")}, InputError),
    ],
)
def test_unit_aware_path_refuses_what_a_call_refuses_word_for_word(changes, error):
    values = {**defaults_for(F.kv_cache_bytes), **changes}
    with pytest.raises(error) as by_call:
        F.kv_cache_bytes(**values)
    with pytest.raises(error) as by_function:
        F.kv_cache_bytes.lambdify(units=True)(**values)
    assert str(by_function.value) == str(by_call.value)


def test_unit_aware_path_message_for_a_wrong_dimension():
    values = {**defaults_for(F.kv_cache_bytes), "seq_len": Q_(3, "GB")}
    with pytest.raises(UnitError) as info:
        F.kv_cache_bytes.lambdify(units=True)(**values)
    assert str(info.value) == (
        "argument 'seq_len' to formula 'kv_cache_bytes' must be in units convertible to "
        "'token' (dimensionless); got 'GB' ([information])"
    )


def test_variants_get_their_own_cached_function():
    variant = F.total_vram.with_parts(kv_cache_bytes=F.kv_cache_bytes)
    assert variant.lambdify() is variant.lambdify()
    assert variant.lambdify() is not F.total_vram.lambdify()
    values = defaults_for(F.total_vram)
    assert variant.lambdify()(**values) == F.total_vram.lambdify()(**values)


def test_module_examples_run():
    import doctest

    import llmphys.engine.compiled as numeric
    import llmphys.engine.sweeps as sweeps

    result = doctest.testmod(numeric, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 4
    result = doctest.testmod(sweeps, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 3
