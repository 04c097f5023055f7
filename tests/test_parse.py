"""Formula text is parsed through an AST whitelist: what is allowed becomes SymPy, everything
else is refused naming the construct, and nothing in the text is ever executed."""

from __future__ import annotations

import ast
import builtins
import doctest
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy

import llmphys as F
from llmphys.engine import parse
from llmphys.engine.parse import MAX_DEPTH, MAX_LENGTH, parse_formula, parse_unit, parse_value
from llmphys.errors import FormulaDefinitionError, InputError, UnknownNameError, UnsafeFormulaError

ALLOWED = (
    "(allowed: numbers, names, + - * / **, parentheses, sqrt, log, exp, ceil, floor, min, max)"
)

x, y = sympy.symbols("x y", positive=True)
NAMES = {"x": x, "y": y}


def p(text: str) -> sympy.Expr:
    return parse_formula(text, NAMES.__getitem__)


# ------------------------------------------------------------------------------ accepted
@pytest.mark.parametrize(
    "text, expected",
    [
        ("x + y", x + y),
        ("x - y", x - y),
        ("2 * x * y", 2 * x * y),
        ("x / y", x / y),
        ("x ** 2", x**2),
        ("-x", -x),
        ("+x", x),
        ("(x + y) * 2", 2 * (x + y)),
        ("2 ** 3 * x", 8 * x),
        ("sqrt(x)", sympy.sqrt(x)),
        ("log(x)", sympy.log(x)),
        ("log(x, 2)", sympy.log(x) / sympy.log(2)),
        ("exp(x)", sympy.exp(x)),
        ("ceil(x)", sympy.ceiling(x)),
        ("floor(x / y)", sympy.floor(x / y)),
        ("min(x, y)", sympy.Min(x, y)),
        ("max(x, y, 2)", sympy.Max(x, y, 2)),
        ("x * 10_000", 10000 * x),
    ],
)
def test_whitelisted_text_builds_the_expression(text, expected):
    assert p(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("70e9", sympy.Integer(70_000_000_000)),  # an integral float literal stays exact
        ("1e30", sympy.Integer(10**30)),
        ("8", sympy.Integer(8)),
        ("0x10", sympy.Integer(16)),
    ],
)
def test_integral_literals_are_exact_integers(text, expected):
    value = p(text)
    assert value == expected and value.is_Integer


def test_decimal_literals_keep_their_written_digits():
    value = p("3.35")
    assert isinstance(value, sympy.Float)
    assert value == sympy.Float("3.35") and float(value) == 3.35


def test_whitespace_around_the_text_is_ignored():
    assert p("  x * 2\n") == 2 * x


# ------------------------------------------------------------------------------ refused
@pytest.mark.parametrize(
    "text, construct",
    [
        ("__import__('os').system('echo x')", "dunder name '__import__'"),
        ("().__class__", "attribute access '().__class__' (dunder name '__class__')"),
        ("x.__class__.__mro__", "attribute access 'x.__class__.__mro__' (dunder name '__mro__')"),
        ("lambda: 1", "lambda"),
        ("open('f')", "call of 'open'"),
        ("eval('1')", "call of 'eval'"),
        ("a.b", "attribute access 'a.b'"),
        ("x[0]", "subscript 'x[0]'"),
        ("'text'", "string literal 'text'"),
        ("b'raw'", "bytes literal b'raw'"),
        ("f'{x}'", "f-string 'f'{x}''"),
        ("x.real()", "attribute access 'x.real'"),
        ("(lambda: 1)()", "lambda"),
        ("x(1)", "call of 'x'"),
        ("(x + y)(1)", "call of 'x + y'"),
        ("x < y", "comparison 'x < y'"),
        ("x and y", "boolean operator 'x and y'"),
        ("not x", "operator 'not' in 'not x'"),
        ("~x", "operator '~' in '~x'"),
        ("x if y else 1", "conditional expression 'x if y else 1'"),
        ("(x := 1)", "assignment expression 'x := 1'"),
        ("[x]", "list '[x]'"),
        ("(x, y)", "tuple '(x, y)'"),
        ("{x: y}", "dict '{x: y}'"),
        ("{x}", "set '{x}'"),
        ("[i for i in x]", "list comprehension '[i for i in x]'"),
        ("(i for i in x)", "generator expression '(i for i in x)'"),
        ("x % 2", "operator '%' in 'x % 2'"),
        ("x // 2", "operator '//' in 'x // 2'"),
        ("x ^ 2", "operator '^' (bitwise xor; write a power as **) in 'x ^ 2'"),
        ("x @ y", "operator '@' in 'x @ y'"),
        ("x | y", "operator '|' in 'x | y'"),
        ("True", "boolean constant True"),
        ("None", "constant None"),
        ("...", "constant ..."),
        ("1j", "complex literal 1j"),
        ("sqrt(x=1)", "keyword argument in 'sqrt(x=1)'"),
        ("max(*x)", "starred expression '*x'"),
        ("await x", "await 'await x'"),
    ],
)
def test_constructs_outside_the_whitelist_are_refused_by_name(text, construct):
    with pytest.raises(UnsafeFormulaError) as info:
        p(text)
    assert str(info.value) == (
        f"{construct} is not allowed in formula text {ALLOWED}; nothing was evaluated"
    )


def test_unsafe_error_is_a_value_error_and_an_llmphys_error():
    with pytest.raises(ValueError):
        p("a.b")
    with pytest.raises(F.LlmphysError):
        p("a.b")


@pytest.mark.parametrize(
    "text, message",
    [
        ("x +", "formula text 'x +' is not a formula: invalid syntax"),
        ("", "formula text is empty"),
        ("   ", "formula text is empty"),
        ("min(x)", "formula text: min() takes at least 2 arguments, got 1 in 'min(x)'"),
        ("sqrt(x, y)", "formula text: sqrt() takes 1 argument, got 2 in 'sqrt(x, y)'"),
        ("log(x, y, 2)", "formula text: log() takes 1 to 2 arguments, got 3 in 'log(x, y, 2)'"),
        ("1e400 * x", "formula text: the number 1e400 is too large for a float64"),
        ("import os", "formula text 'import os' is not a formula: invalid syntax"),
    ],
)
def test_text_that_is_not_a_formula_is_refused(text, message):
    with pytest.raises(FormulaDefinitionError) as info:
        p(text)
    assert str(info.value).startswith(message)


def test_text_must_be_a_string():
    with pytest.raises(FormulaDefinitionError, match="formula text must be a string, got int"):
        parse_formula(3, NAMES.__getitem__)


def test_names_are_resolved_by_the_caller_and_its_errors_propagate():
    with pytest.raises(KeyError):
        p("x + z")


# ------------------------------------------------------------------------------ limits
def test_text_length_is_limited():
    text = "x" + " + x" * MAX_LENGTH
    with pytest.raises(UnsafeFormulaError) as info:
        p(text)
    assert str(info.value) == (
        f"formula text is {len(text)} characters long; at most {MAX_LENGTH} are accepted; "
        "nothing was evaluated"
    )


@pytest.mark.parametrize("text", ["-" * 500 + "x", "x" + "**x" * 300, "(" * 250 + "x" + ")" * 250])
def test_nesting_depth_is_limited(text):
    with pytest.raises((UnsafeFormulaError, FormulaDefinitionError)) as info:
        p(text)
    assert "nests deeper than" in str(info.value) or "too many nested" in str(info.value)


def test_nesting_limit_message():
    with pytest.raises(UnsafeFormulaError) as info:
        p("-" * (MAX_DEPTH + 5) + "x")
    assert str(info.value) == (
        f"formula text nests deeper than {MAX_DEPTH} levels; nothing was evaluated"
    )


def test_a_huge_power_of_numbers_is_refused_before_sympy_computes_it():
    with pytest.raises(UnsafeFormulaError) as info:
        p("9**9**9**9")
    assert str(info.value) == (
        "the power 9**9**9 in formula text is too large to compute (more than 400 digits); "
        "nothing was evaluated"
    )


def test_a_huge_exponent_of_a_symbol_is_refused():
    with pytest.raises(UnsafeFormulaError, match=r"the exponent in x\*\*1000 is larger than 100"):
        p("x**1000")


def test_reasonable_powers_are_fine():
    assert p("2**-10 * x") == x / 1024
    assert p("10**30 * x") == 10**30 * x
    assert p("x**0.5") == x ** sympy.Float(0.5)


# ------------------------------------------------------------------------------ nothing runs
HOSTILE = [
    "__import__('os').system('echo x')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    "open('f')",
    "a.b",
    "x[0]",
    "exec('import os')",
    "eval('1+1')",
    "compile('1', 'f', 'eval')",
    "getattr(x, 'real')",
    "globals()",
    "breakpoint()",
    "(lambda: __import__('os'))()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
]


@pytest.fixture
def warm() -> None:
    """Run the whole check once first: lazy imports (and dataclasses, which build their
    ``__init__`` with exec) happen before the builtins are watched."""
    F.check_units("max(weight_bytes, x * byte) + sqrt(kv_cache_bytes**2)", units={"x": ""})
    with pytest.raises(UnsafeFormulaError):
        F.check_units("a.b")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_refused_without_calling_anything(text, monkeypatch, tmp_path, warm):
    calls: list[str] = []
    real_import = builtins.__import__

    def counting_import(name, *args, **kwargs):
        if name in ("os", "subprocess", "shutil"):
            calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    def forbidden(name, real):
        def fn(*args, **kwargs):
            # the import system runs module code objects with exec: only text counts
            if name in ("open", "breakpoint") or (args and isinstance(args[0], str)):
                calls.append(name)
                raise AssertionError(f"{name} was called")
            return real(*args, **kwargs)

        return fn

    monkeypatch.setattr(builtins, "__import__", counting_import)
    for name in ("open", "eval", "exec", "breakpoint"):
        monkeypatch.setattr(builtins, name, forbidden(name, getattr(builtins, name)))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeFormulaError):
        F.check_units(text)
    monkeypatch.undo()
    assert calls == []
    assert list(tmp_path.iterdir()) == []  # open('f') created nothing


def test_hostile_text_has_no_side_effect_in_a_fresh_interpreter(tmp_path):
    marker = tmp_path / "pwned"
    texts = [
        f"__import__('os').system('echo pwned > {marker}')",
        f"open('{marker}', 'w')",
        f"__import__('pathlib').Path('{marker}').touch()",
        "__import__('os').system('echo pwned')",
        "print('pwned')",
    ]
    code = textwrap.dedent(
        f"""
        import llmphys as F
        for text in {texts!r}:
            try:
                F.check_units(text)
            except F.UnsafeFormulaError:
                pass
            else:
                raise SystemExit('accepted: ' + text)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""  # nothing echoed, nothing printed
    assert not marker.exists()


def test_the_parser_never_evaluates_or_sympifies_text():
    """No eval, exec, sympify, parse_expr or lambdify anywhere on the text's path."""
    forbidden = {"eval", "exec", "sympify", "parse_expr", "lambdify"}
    root = Path(parse.__file__).parent.parent
    for path in [root / "engine" / "parse.py", root / "check.py", root / "cli.py"]:
        tree = ast.parse(path.read_text())
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not forbidden & used, (path.name, forbidden & used)


def test_builtins_eval_and_exec_are_not_used_while_parsing(monkeypatch, warm):
    def guard(real):
        def fn(source, *args, **kwargs):
            # the import system runs module code objects with exec: only text counts
            assert not isinstance(source, str), f"{real.__name__} called on {source!r}"
            return real(source, *args, **kwargs)

        return fn

    monkeypatch.setattr(builtins, "eval", guard(builtins.eval))
    monkeypatch.setattr(builtins, "exec", guard(builtins.exec))
    unit = F.check_units(
        "params * bits_per_param * byte / (8 * bit) + max(kv_cache_bytes, 2 * weight_bytes)",
        units={"bits_per_param": "bit/parameter"},
        result="byte",
    )
    assert unit == F.ureg.byte


# ------------------------------------------------------------------------------ units
@pytest.mark.parametrize(
    "text, unit",
    [
        ("GB", "gigabyte"),
        ("TB/s", "terabyte / second"),
        ("byte / parameter", "byte / parameter"),
        ("B**2", "byte ** 2"),
        ("B^-1", "1 / byte"),
        ("(B/s)**2", "byte ** 2 / second ** 2"),
        ("1/s", "1 / second"),
        ("FLOP·s", "FLOP * second"),
        ("", "dimensionless"),
    ],
)
def test_unit_text(text, unit):
    assert parse_unit(text) == F.ureg.Unit(unit)


@pytest.mark.parametrize("text", ["B**9**9**9", "9**9", "**2", "1**9", "B**999", "B; import os"])
def test_unit_text_outside_the_grammar_is_refused_before_pint_sees_it(text):
    with pytest.raises(InputError) as info:
        parse_unit(text, "--result")
    assert str(info.value).startswith(f"--result: {text!r} is not a unit")


def test_unknown_unit_suggests_close_names():
    with pytest.raises(UnknownNameError) as info:
        parse_unit("GIB/s", "--result")
    assert str(info.value) == "--result: unknown unit 'GIB'; did you mean 'GiB' or 'Gib'?"


# ------------------------------------------------------------------------------ values
@pytest.mark.parametrize(
    "symbol, text, expected",
    [
        # token counts are quoted as context lengths are: Llama 3.1's "128K" is 131,072
        ("seq_len", "32k", 32_768.0),
        ("seq_len", "128K", 131_072.0),
        ("prompt_len", "1M", 1_048_576.0),
        ("seq_len", "2B", 2e9),  # the other suffixes stay decimal
        ("params", "32k", 32_000.0),  # other counts keep SI
        ("params", "32K", 32_000.0),
        ("seq_len", "32Ki", 32_768.0),
        ("seq_len", "128 Ki", 131_072.0),
        ("params", "70B", 70e9),
        ("params", "1.5M", 1.5e6),
        ("params", "70e9", 70e9),
        ("seq_len", "10_000", 10_000.0),
        ("utilization", "0.4", 0.4),
        ("bytes_per_param", "bf16", "bf16"),
        ("bytes_per_param", "BF16", "BF16"),
    ],
)
def test_values_numbers_counts_and_names(symbol, text, expected):
    assert parse_value(text, F.glossary[symbol]) == expected


@pytest.mark.parametrize(
    "symbol, text, quantity",
    [
        ("gpu_memory", "80GiB", (80, "GiB")),
        ("gpu_memory", "80 GB", (80, "GB")),
        ("gpu_memory", "70B", (70, "B")),  # bytes: B is a byte, not a billion
        ("mem_bandwidth", "3.35 TB/s", (3.35, "TB/s")),
        ("seq_len", "10000 tokens", (10000, "token")),
        ("overhead", "80ms", (80, "ms")),
    ],
)
def test_values_with_units_are_quantities(symbol, text, quantity):
    assert parse_value(text, F.glossary[symbol]) == F.Q_(*quantity)


@pytest.mark.parametrize(
    "symbol, text, error, message",
    [
        (
            "bytes_per_param",
            "bf61",
            InputError,
            "bytes_per_param: unknown name 'bf61'; did you mean 'bf16'? (give a number in "
            "byte/parameter or one of fp32, bf16, fp16, fp8_block128, fp8, int8, mxfp4, "
            "int4_g32, int4_g128, int4)",
        ),
        (
            "seq_len",
            "lots",
            InputError,
            "seq_len: 'lots' is not a number or a quantity (examples: 80GB, 3.35 TB/s, 32k)",
        ),
        (
            "seq_len",
            "32kk",
            UnknownNameError,
            "seq_len: unknown unit 'kk'; a count takes the suffixes k, K, M, B, T, Ki, Mi, Gi "
            "(32k = 32,768 tokens)",
        ),
        (
            "params",
            "70BB",
            UnknownNameError,
            "params: unknown unit 'BB'; did you mean 'B' or 'b'?; a count takes the suffixes k, K, "
            "M, B, T, Ki, Mi, Gi (32k = 32,000, 32Ki = 32,768)",
        ),
        ("gpu_memory", "", InputError, "gpu_memory: give a value, such as 80GB, 32k or 0.4"),
        ("gpu_memory", "9**9**9 B", InputError, "gpu_memory: '**9**9 B' is not a unit"),
    ],
)
def test_bad_values_are_refused(symbol, text, error, message):
    with pytest.raises(error) as info:
        parse_value(text, F.glossary[symbol])
    assert str(info.value).startswith(message)


def test_module_doctests():
    result = doctest.testmod(parse, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("((((params**100)**100)**100)**100)**100", "raises to the power 10000 in all"),
        ("exp(exp(exp(exp(exp(100)))))", "exp of an exp in 'exp(exp(100))'"),
    ],
)
def test_text_that_would_hang_derive_or_solve_is_refused(text, message):
    # issue 16 (8): these ran for 20 s and 2.9 GB before being killed
    with pytest.raises(F.UnsafeFormulaError, match=re.escape(message)):
        F.check_units(text, result="")
