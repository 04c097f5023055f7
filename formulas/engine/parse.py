"""Formula text to SymPy through an AST whitelist: nothing in the text is ever evaluated.

Formula text (``"params * bits_per_param * byte / (8 * bit)"``) is parsed by Python's own
parser (``ast.parse(text, mode="eval")``), which only builds a syntax tree.  The tree is then
walked with an explicit whitelist and the SymPy expression is built node by node:

========================  ==============================================================
allowed                   built as
========================  ==============================================================
numbers                   ``sympy.Integer`` (``70e9`` is the integer 70000000000) or
                          ``sympy.Float`` from the literal's own text (``3.35``)
names                     whatever the caller's ``resolve(name)`` returns (a glossary
                          symbol, a declared symbol, a formula's part, a unit constant)
``+ - * / **``            ``sympy.Add``, ``sympy.Mul``, ``sympy.Pow``
unary ``-`` and ``+``     negation; parentheses group as in Python
``sqrt log exp``          ``sympy.sqrt``, ``sympy.log`` (``log(x, base)`` too), ``sympy.exp``
``ceil floor min max``    ``sympy.ceiling``, ``sympy.floor``, ``sympy.Min``, ``sympy.Max``
========================  ==============================================================

Everything else is refused with :class:`~llmphys.errors.UnsafeFormulaError` naming the
construct: attribute access, subscripts, lambdas, calls of any other name, dunder names,
strings, comparisons, containers, comprehensions, ``:=``, ``%`` and ``//``, bitwise operators
(``^`` is not a power).  ``eval``, ``exec``, ``sympify`` and ``parse_expr`` are never called on
the text.  Resource limits keep a hostile text from exhausting the machine: at most
:data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` levels of nesting, and no power of numbers
whose result would exceed 10^:data:`MAX_DIGITS` (SymPy would otherwise compute
``9**9**9**9`` exactly).

>>> import sympy
>>> x = sympy.Symbol("x", positive=True)
>>> parse_formula("2 * x**2 + sqrt(x) / 4", {"x": x}.__getitem__)
sqrt(x)/4 + 2*x**2
>>> try:  # a refusal: its type and message
...     parse_formula("x.real", {"x": x}.__getitem__)
... except Exception as error:
...     print(f"{type(error).__name__}: {error}")
UnsafeFormulaError: attribute access 'x.real' is not allowed in formula text \
(allowed: numbers, names, + - * / **, parentheses, sqrt, log, exp, ceil, floor, min, max); \
nothing was evaluated
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import pint
import sympy

from llmphys.errors import (
    FormulaDefinitionError,
    InputError,
    UnknownNameError,
    UnsafeFormulaError,
    closest,
    did_you_mean,
)

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.glossary import Entry

__all__ = [
    "COUNT_SUFFIXES",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "TOKEN_SUFFIXES",
    "parse_formula",
    "parse_unit",
    "parse_value",
]

#: longest formula text accepted, in characters
MAX_LENGTH = 2000
#: deepest nesting of the syntax tree accepted (operators, calls, parentheses)
MAX_DEPTH = 60
#: a power of two numbers may not exceed 10**MAX_DIGITS (SymPy computes it exactly)
MAX_DIGITS = 400
#: largest numeric exponent of a symbolic base (physics formulas use squares and roots)
MAX_EXPONENT = 100

#: the functions formula text may call: name -> (SymPy function, fewest args, most args)
FUNCTIONS: dict[str, tuple[Callable[..., sympy.Expr], int, int | None]] = {
    "sqrt": (sympy.sqrt, 1, 1),
    "log": (sympy.log, 1, 2),
    "exp": (sympy.exp, 1, 1),
    "ceil": (sympy.ceiling, 1, 1),
    "floor": (sympy.floor, 1, 1),
    "min": (sympy.Min, 2, None),
    "max": (sympy.Max, 2, None),
}

_ALLOWED = "(allowed: numbers, names, + - * / **, parentheses, " + ", ".join(FUNCTIONS) + ")"

_OPERATORS = {
    ast.Mod: "operator '%'",
    ast.FloorDiv: "operator '//'",
    ast.MatMult: "operator '@'",
    ast.BitXor: "operator '^' (bitwise xor; write a power as **)",
    ast.BitAnd: "operator '&'",
    ast.BitOr: "operator '|'",
    ast.LShift: "operator '<<'",
    ast.RShift: "operator '>>'",
}

# what a refused node is called in a message (the node's text follows, when it has one)
_CONSTRUCTS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment expression",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.Starred: "starred expression",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.Slice: "slice",
}


def _snippet(node: ast.AST, source: str, limit: int = 60) -> str:
    """The text of ``node`` as the user wrote it, shortened for a message."""
    text = ast.get_source_segment(source, node) or type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _refuse(construct: str) -> UnsafeFormulaError:
    return UnsafeFormulaError(
        f"{construct} is not allowed in formula text {_ALLOWED}; nothing was evaluated"
    )


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _number(node: ast.Constant, text: str) -> sympy.Number:
    """A numeric literal, exactly as written: integers stay integers (``70e9`` too)."""
    value = node.value
    if isinstance(value, bool):
        raise _refuse(f"boolean constant {value}")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, float):
        source = (ast.get_source_segment(text, node) or repr(value)).replace("_", "")
        if not math.isfinite(value):
            raise FormulaDefinitionError(
                f"formula text: the number {source} is too large for a float64"
            )
        try:
            exact = Decimal(source)
        except InvalidOperation:  # pragma: no cover - Python's parser accepted it as a float
            exact = Decimal(repr(value))
        if exact == exact.to_integral_value():
            return sympy.Integer(int(exact))
        return sympy.Float(source, 15)
    if isinstance(value, complex):
        raise _refuse(f"complex literal {_snippet(node, text)}")
    if isinstance(value, str):
        raise _refuse(f"string literal {_snippet(node, text)}")
    if isinstance(value, bytes):
        raise _refuse(f"bytes literal {_snippet(node, text)}")
    raise _refuse(f"constant {_snippet(node, text)}")


def _power(base: sympy.Expr, exponent: sympy.Expr, node: ast.AST, text: str) -> sympy.Expr:
    """``base ** exponent``, refusing powers SymPy would take forever to compute exactly."""
    if exponent.is_Number:
        size = abs(float(exponent))
        if base.is_Number:
            magnitude = abs(float(base)) if base != 0 else 0.0
            digits = size * math.log10(magnitude) if magnitude > 0 else 0.0
            if size > 10 * MAX_DIGITS or abs(digits) > MAX_DIGITS:
                raise UnsafeFormulaError(
                    f"the power {_snippet(node, text)} in formula text is too large to compute "
                    f"(more than {MAX_DIGITS} digits); nothing was evaluated"
                )
        elif size > MAX_EXPONENT:
            raise UnsafeFormulaError(
                f"the exponent in {_snippet(node, text)} is larger than {MAX_EXPONENT}; "
                "nothing was evaluated"
            )
    result = sympy.Pow(base, exponent)
    # powers of powers combine ((N**100)**100 is N**10000): the combined exponent counts
    for power in result.atoms(sympy.Pow):
        if power.exp.is_Number and abs(float(power.exp)) > MAX_EXPONENT:
            raise UnsafeFormulaError(
                f"{_snippet(node, text)} in formula text raises to the power "
                f"{power.exp} in all (more than {MAX_EXPONENT}); nothing was evaluated"
            )
    return result


class _Builder:
    def __init__(self, text: str, resolve: Callable[[str], sympy.Expr]) -> None:
        self.text = text
        self.resolve = resolve

    def build(self, node: ast.AST, depth: int) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise UnsafeFormulaError(
                f"formula text nests deeper than {MAX_DEPTH} levels; nothing was evaluated"
            )
        deeper = depth + 1
        if isinstance(node, ast.Constant):
            return _number(node, self.text)
        if isinstance(node, ast.Name):
            return self.resolve(node.id)
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op in _OPERATORS:
                raise _refuse(f"{_OPERATORS[op]} in '{_snippet(node, self.text)}'")
            left = self.build(node.left, deeper)
            right = self.build(node.right, deeper)
            if op is ast.Add:
                return sympy.Add(left, right)
            if op is ast.Sub:
                return sympy.Add(left, sympy.Mul(sympy.S.NegativeOne, right))
            if op is ast.Mult:
                return sympy.Mul(left, right)
            if op is ast.Div:
                return sympy.Mul(left, _power(right, sympy.S.NegativeOne, node, self.text))
            if op is ast.Pow:
                return _power(left, right, node, self.text)
            raise _refuse(f"operator {op.__name__}")  # pragma: no cover - every op is listed
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return sympy.Mul(sympy.S.NegativeOne, self.build(node.operand, deeper))
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, deeper)
            word = "not" if isinstance(node.op, ast.Not) else "~"
            raise _refuse(f"operator '{word}' in '{_snippet(node, self.text)}'")
        if isinstance(node, ast.Call):
            return self.call(node, deeper)
        for kind, construct in _CONSTRUCTS.items():
            if isinstance(node, kind):
                shown = "" if kind is ast.Lambda else f" '{_snippet(node, self.text)}'"
                raise _refuse(construct + shown)
        raise _refuse(f"{type(node).__name__} '{_snippet(node, self.text)}'")

    def call(self, node: ast.Call, depth: int) -> sympy.Expr:
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, tuple(_CONSTRUCTS)):
                self.build(func, depth)  # raises, naming the construct (attribute, lambda...)
            raise _refuse(f"call of '{_snippet(func, self.text)}'")
        name = func.id
        if name not in FUNCTIONS:
            raise _refuse(f"call of '{name}'")
        if node.keywords:
            raise _refuse(f"keyword argument in '{_snippet(node, self.text)}'")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _refuse(f"starred expression '{_snippet(arg, self.text)}'")
        fn, fewest, most = FUNCTIONS[name]
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            if most is None:
                wanted = f"at least {fewest} arguments"
            elif fewest == most:
                wanted = f"{fewest} argument{'s' if fewest > 1 else ''}"
            else:
                wanted = f"{fewest} to {most} arguments"
            raise FormulaDefinitionError(
                f"formula text: {name}() takes {wanted}, got {count} in "
                f"'{_snippet(node, self.text)}'"
            )
        args = [self.build(arg, depth) for arg in node.args]
        if name == "exp" and args[0].has(sympy.exp):
            raise UnsafeFormulaError(
                f"exp of an exp in '{_snippet(node, self.text)}': nested exponentials grow "
                "beyond any number a formula can use; nothing was evaluated"
            )
        return fn(*args)


def parse_formula(text: str, resolve: Callable[[str], sympy.Expr]) -> sympy.Expr:
    """The SymPy expression written in ``text``; ``resolve(name)`` gives each name's meaning.

    Raises :class:`~llmphys.errors.UnsafeFormulaError` for a construct outside the whitelist
    (the message names it) and :class:`~llmphys.errors.FormulaDefinitionError` for text that
    is not a formula (syntax errors, wrong argument counts).  Errors raised by ``resolve``
    (unknown names) propagate.
    """
    if not isinstance(text, str):
        raise FormulaDefinitionError(f"formula text must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise UnsafeFormulaError(
            f"formula text is {len(text)} characters long; at most {MAX_LENGTH} are accepted; "
            "nothing was evaluated"
        )
    if not text.strip():
        raise FormulaDefinitionError("formula text is empty")
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise FormulaDefinitionError(
            f"formula text {source!r} is not a formula: {exc.msg}{where}"
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise FormulaDefinitionError(f"formula text is not a formula: {exc}") from None
    # dunder names first, wherever they are: they are the start of every sandbox escape
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and _is_dunder(node.id):
            raise _refuse(f"dunder name '{node.id}'")
        if isinstance(node, ast.Attribute) and _is_dunder(node.attr):
            raise _refuse(
                f"attribute access '{_snippet(node, source)}' (dunder name '{node.attr}')"
            )
    expr = _Builder(source, resolve).build(tree.body, 0)
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, sympy.S.NegativeInfinity):  # 1/0: zoo
        raise FormulaDefinitionError(
            f"formula text {source!r} is not a finite formula: it divides by zero or is "
            "infinite"
        )
    return expr


# ---------------------------------------------------------------------------- units and values
#
# Unit text ("TB/s", "byte / parameter", "GiB") is handed to pint only after a tokenizer has
# checked that it is names joined by * / · and parentheses, with powers of at most two digits:
# pint's own parser would compute a number such as 9**9**9 exactly before complaining.

_UNIT_TOKEN = re.compile(
    r"\s*(?:(?P<name>[^\W\d]\w*|%)|(?P<power>\*\*|\^)\s*(?P<exp>[-+]?\d{1,2}(?:\.\d{1,3})?)"
    r"|(?P<op>[*/·()])|(?P<one>1(?![\d.]))|(?P<end>$))"
)
_NUMBER = re.compile(r"[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

#: count suffixes for dimensionless counts (parameters, tokens, layers): decimal as in the
#: rest of llmphys ("32k" is 32,000, "70B" is 70 billion), binary with an "i" ("32Ki" is 32,768)
COUNT_SUFFIXES: dict[str, float] = {
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "B": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
}

#: token counts are quoted the way context lengths are: "32k" is 32,768 and "128K" is 131,072
#: (Llama 3.1's "128K" context holds 131,072 tokens), "1M" is 1,048,576; the other suffixes
#: stay as for any count.  Bytes and FLOP keep their SI prefixes (80GB is 80e9 B).
TOKEN_SUFFIXES: dict[str, float] = {
    **COUNT_SUFFIXES,
    "k": 2.0**10,
    "K": 2.0**10,
    "M": 2.0**20,
}


def _unit_names() -> list[str]:
    """Unit names and symbols for suggestions (plus the prefixed forms people type most)."""
    from llmphys.units import ureg

    names = list(ureg._units)  # names, symbols and aliases of the llmphys registry
    for prefix in ("k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti"):
        names += [prefix + base for base in ("B", "b", "FLOP", "FLOPS")]
    return names


def parse_unit(text: object, what: str = "unit") -> pint.Unit:
    """The pint unit written in ``text`` (``"TB/s"``, ``"bit / parameter"``), checked first.

    ``what`` names the text in messages (``"units['x']"``, ``"--result"``).  Raises
    :class:`~llmphys.errors.UnknownNameError` (closest unit names suggested) for an unknown
    unit and :class:`~llmphys.errors.InputError` for text that is not a unit.
    """
    from llmphys.units import ureg

    if isinstance(text, pint.Unit):
        return ureg.Unit(str(text)) if text._REGISTRY is not ureg else text
    if not isinstance(text, str):
        raise InputError(f"{what}: a unit must be text such as 'GB/s', got {text!r}")
    if len(text) > 200:
        raise InputError(f"{what}: unit text of {len(text)} characters is too long")
    not_a_unit = InputError(
        f"{what}: {text!r} is not a unit (write units such as 'GB', 'TB/s', "
        "'byte/parameter', 'FLOP/s', 's')"
    )
    pos, names, previous = 0, [], ""
    while True:
        match = _UNIT_TOKEN.match(text, pos)
        if match is None or (match.end() == pos and match.group("end") is None):
            raise not_a_unit
        if match.group("end") is not None:
            break
        kind = match.lastgroup if match.lastgroup != "exp" else "power"
        token = match.group("op") or ""
        # a power only right after a name or a closing parenthesis, never chained (B**2**9)
        if kind == "power" and not (previous == "name" or previous == ")"):
            raise not_a_unit
        if kind == "name":
            names.append(match.group("name"))
        previous = token if kind == "op" else kind
        pos = match.end()
    for name in names:
        try:
            ureg.Unit(name)
        except (pint.UndefinedUnitError, AttributeError, ValueError):
            names = _unit_names()
            raise UnknownNameError(
                f"{what}: unknown unit {name!r}{did_you_mean(name, names)}",
                name,
                closest(name, names),
            ) from None
    try:
        return ureg.Unit(text) if text.strip() else ureg.Unit("")
    except (pint.UndefinedUnitError, AttributeError, ValueError, TypeError) as exc:
        raise InputError(f"{what}: {text!r} is not a unit ({exc})") from None


def parse_value(text: str, entry: Entry, what: str | None = None) -> str | float | pint.Quantity:
    """A value typed for the glossary symbol ``entry``, as :meth:`Formula.__call__` takes it.

    * a plain number (``70e9``, ``0.4``, ``10_000``): in the symbol's own unit;
    * a number with a unit (``80GiB``, ``80 GB``, ``3.35 TB/s``, ``10000 tokens``): a quantity,
      converted (and dimension-checked) by the formula;
    * for a dimensionless count (parameters, layers), a count suffix: ``32k`` (32,000),
      ``70B`` (70 billion), ``1.5M``, ``2T``, and binary ``32Ki`` (32,768), ``Mi``, ``Gi``.
      A token count reads ``k`` and ``M`` as context lengths are quoted: ``32k`` is 32,768
      (:data:`TOKEN_SUFFIXES`).  For a symbol measured in bytes ``70B`` is 70 bytes: the
      symbol decides;
    * for a precision symbol, a precision name (``bf16``, ``int4``).

    Nothing is evaluated: the text is matched against these forms only.
    """
    from llmphys.units import Q_

    what = what or entry.name
    raw = text.strip() if isinstance(text, str) else text
    if not isinstance(raw, str) or not raw:
        raise InputError(f"{what}: give a value, such as 80GB, 32k or 0.4")
    if entry.choices and raw.lower() in {k.lower() for k in entry.choices}:
        return raw
    match = _NUMBER.match(raw)
    if match is None:
        if entry.choices:
            raise InputError(
                f"{what}: unknown name {raw!r}{did_you_mean(raw, entry.choices)} "
                f"(give a number in {entry.unit} or one of {', '.join(entry.choices)})"
            )
        raise InputError(
            f"{what}: {raw!r} is not a number or a quantity (examples: 80GB, 3.35 TB/s, 32k)"
        )
    number = float(match.group().replace("_", ""))
    rest = raw[match.end() :].strip()
    if not rest:
        return number
    counts = not entry.pint_unit.dimensionality
    tokens = entry.unit == "token"
    suffixes = TOKEN_SUFFIXES if tokens else COUNT_SUFFIXES
    if counts and rest in suffixes:
        return number * suffixes[rest]
    try:
        unit = parse_unit(rest, what)
    except UnknownNameError as exc:
        if counts:
            example = "32k = 32,768 tokens" if tokens else "32k = 32,000, 32Ki = 32,768"
            raise UnknownNameError(
                f"{exc}; a count takes the suffixes {', '.join(suffixes)} ({example})",
                exc.name,
            ) from None
        raise
    return Q_(number, unit)
