"""Check the units of a new formula before trusting its numbers: :func:`check_units`.

Public material is full of unit slips that a dimension check catches: bytes added to FLOPs,
a FLOP total used as a FLOP rate, bits multiplied by 8 instead of divided, GB labelled GiB,
milliseconds taken for seconds.  :func:`check_units` takes a formula as text (parsed through
the whitelist of :mod:`llmphys.engine.parse`, never evaluated) or as a SymPy expression and
walks it with the same unit check every built-in formula passes when it is defined
(:func:`llmphys.units.expression_unit`).

Names in the formula resolve, in this order, to

1. symbols declared in ``units={name: unit}`` (your own inputs: ``bits_per_param``);
2. registered formulas (``weight_bytes``, ``kv_cache_bytes``, and formulas made with
   :func:`llmphys.define`): the formula's result, in its unit;
3. glossary symbols (``params``, ``seq_len``, ``mem_bandwidth``): no unit needs declaring;
4. unit constants from the llmphys unit registry (``byte``, ``bit``, ``GB``, ``FLOP``, ``s``),
   so ``params * bits_per_param * byte / (8 * bit)`` is a correct bits-to-bytes conversion.
   Like every unit constant in llmphys they count as 1 in numbers, which is why the check
   refuses any sum or declared result whose scales differ.

Anything else is an :class:`~llmphys.errors.UnknownNameError` that suggests the closest names.

>>> import llmphys as F
>>> print(F.check_units("weight_bytes + kv_cache_bytes", result="byte"))
B
>>> try:  # a refusal: its type and message
...     F.check_units("mem_bandwidth + weight_bytes")
... except Exception as error:
...     print(f"{type(error).__name__}: {error}")
UnitError: expression weight_bytes + mem_bandwidth: term mem_bandwidth is \
[information] / [time] (B/s), term weight_bytes is [information] (B): they cannot be added
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pint
import sympy

from llmphys.engine.formula import Part, Registry
from llmphys.engine.glossary import DOMAINS, Entry, Glossary
from llmphys.engine.parse import parse_formula, parse_unit
from llmphys.errors import (
    FormulaDefinitionError,
    InputError,
    UnitError,
    UnknownNameError,
    closest,
    did_you_mean,
)
from llmphys.units import UnitSymbol, describe_dimension, expression_unit, same_unit, ureg

__all__ = ["Analysis", "UnitSpec", "analyse", "check_units"]

#: what ``units=`` maps a name to: a unit (text or pint), or a mapping with the keys
#: ``unit`` (required), ``meaning``, ``domain`` (positive, nonnegative, fraction,
#: unit_interval), ``integer``, ``latex``, ``text``; or a glossary :class:`Entry`
UnitSpec = str | pint.Unit | Mapping[str, Any] | Entry

_SPEC_KEYS = {"unit", "meaning", "domain", "integer", "latex", "text"}

# an expression longer than this is called "expression" in messages, not printed whole
_SHOWN_LENGTH = 80


@dataclass
class Analysis:
    """A formula resolved against a registry: its expression, parts and declared symbols.

    ``glossary`` is a child of the registry's glossary holding the ``declared`` symbols, so
    nothing is added to a shared glossary until :func:`llmphys.define` decides to.
    """

    expr: sympy.Expr
    registry: Registry
    glossary: Glossary
    declared: dict[str, Entry] = field(default_factory=dict)
    parts: dict[sympy.Symbol, Part] = field(default_factory=dict)

    def unit_of(self, sym: sympy.Symbol) -> pint.Unit:
        part = self.parts.get(sym)
        if part is not None:
            return part.formula.unit
        return self.glossary[sym.name].pint_unit

    def order(self, sym: sympy.Symbol) -> tuple[int, int]:
        part = self.parts.get(sym)
        if part is not None:
            return (1, self.glossary.order(part.name))
        return (2, self.glossary.order(sym.name))

    def show(self, e: sympy.Basic) -> str:
        from llmphys.engine.printing import to_python

        return to_python(e, self.order)

    @property
    def where(self) -> str:
        shown = self.show(self.expr)
        return f"expression {shown}" if len(shown) <= _SHOWN_LENGTH else "expression"

    def unit(self) -> pint.Unit:
        """The expression's unit, or :class:`~llmphys.errors.UnitError` naming the bad term."""
        return expression_unit(self.expr, self.unit_of, self.where, self.show)


def _declared_entry(name: str, spec: UnitSpec) -> Entry:
    """The glossary entry of a symbol declared in ``units=``."""
    what = f"units[{name!r}]"
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise FormulaDefinitionError(
            f"{what}: a declared name must be a python identifier not starting with '_'"
        )
    if isinstance(spec, Entry):
        if spec.name != name:
            raise FormulaDefinitionError(f"{what}: the entry is named {spec.name!r}")
        return spec
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - _SPEC_KEYS)
        if unknown:
            raise InputError(
                f"{what}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], _SPEC_KEYS)} "
                f"(keys: {', '.join(sorted(_SPEC_KEYS))})"
            )
        if "unit" not in spec:
            raise InputError(f"{what}: give its 'unit' ('' for a plain number)")
        options = dict(spec)
    else:
        options = {"unit": spec}
    unit = parse_unit(options["unit"], what)
    domain = options.get("domain", "positive")
    if domain not in DOMAINS:
        raise InputError(
            f"{what}: unknown domain {domain!r}{did_you_mean(str(domain), DOMAINS)} "
            f"(domains: {', '.join(DOMAINS)})"
        )
    latex_name = name.replace("_", r"\_")
    return Entry(
        name=name,
        latex=options.get("latex", rf"\mathit{{{latex_name}}}"),
        text=options.get("text", name),
        unit=format(unit, "D") if unit != ureg.Unit("") else "",
        meaning=options.get("meaning", "declared by the user"),
        domain=domain,
        integer=bool(options.get("integer", False)),
    )


def analyse(
    expr_or_text: str | sympy.Basic,
    units: Mapping[str, UnitSpec] | None,
    registry: Registry,
) -> Analysis:
    """Resolve every name of a formula (text or SymPy expression) against ``registry``.

    Refuses unknown names (with suggestions), declared names that clash with a formula or with
    a glossary symbol of another unit, and declared names the formula does not use.
    """
    gloss = Glossary(parent=registry.glossary)
    declared: dict[str, Entry] = {}
    for name, spec in (units or {}).items():
        entry = _declared_entry(name, spec)
        if name in registry:
            formula = registry[name]
            raise FormulaDefinitionError(
                f"units[{name!r}]: {name!r} is the formula {formula.name} "
                f"({formula.meaning}, in {formula.unit:~P}); it needs no declared unit"
            )
        if name in registry.glossary:
            known = registry.glossary[name]
            ok, _ = same_unit(known.pint_unit, entry.pint_unit)
            if not ok:
                raise UnitError(
                    f"units[{name!r}] declares {name} in {entry.unit or 'a plain number'} "
                    f"({entry.dimension}), but {name!r} is the glossary symbol {known.text} "
                    f"({known.meaning}) in {known.unit or 'a plain number'} ({known.dimension}): "
                    "drop it from units= or use another name",
                    entry.pint_unit,
                    known.pint_unit,
                )
            continue  # the glossary's own symbol, same unit: nothing to declare
        declared[name] = gloss.add(entry)

    analysis = Analysis(sympy.S.Zero, registry, gloss, declared)
    used: set[str] = set()

    def resolve(name: str) -> sympy.Expr:
        used.add(name)
        if name in declared:
            return declared[name].symbol
        if name in registry:
            formula = registry[name]
            sym = formula.symbol
            analysis.parts.setdefault(sym, Part(formula, (), sym))
            return sym
        if name in gloss:
            return gloss.symbol(name)
        if not name.startswith("_"):
            try:
                ureg.Unit(name)
            except (pint.UndefinedUnitError, AttributeError, ValueError, TypeError):
                pass
            else:
                return UnitSymbol(name, positive=True)
        candidates = [*declared, *registry, *gloss]
        raise UnknownNameError(
            f"unknown name {name!r}{did_you_mean(name, candidates)}: not a glossary symbol, a "
            f"formula or a unit; declare your own input with units={{{name!r}: 'its unit'}}",
            name,
            closest(name, candidates),
        )

    if isinstance(expr_or_text, str):
        expr = parse_formula(expr_or_text, resolve)
    elif isinstance(expr_or_text, sympy.Basic):
        mapping: dict[sympy.Basic, sympy.Expr] = {}
        for sym in expr_or_text.free_symbols:
            if isinstance(sym, UnitSymbol):
                continue
            if not isinstance(sym, sympy.Symbol):  # pragma: no cover - free symbols are Symbols
                raise FormulaDefinitionError(f"cannot check {sym!r}")
            mapping[sym] = resolve(sym.name)
        expr = expr_or_text.xreplace(mapping)
    elif isinstance(expr_or_text, (int, float)) and not isinstance(expr_or_text, bool):
        number = float(expr_or_text)
        expr = sympy.Integer(int(number)) if number.is_integer() else sympy.Float(number)
    else:
        raise FormulaDefinitionError(
            "give a formula as text ('params * bytes_per_param') or a SymPy expression, "
            f"not {type(expr_or_text).__name__}"
        )
    unused = [n for n in (units or {}) if n not in used]
    if unused:
        listed = ", ".join(repr(n) for n in unused)
        raise FormulaDefinitionError(
            f"units= declares {listed}, which the formula does not use; drop "
            f"{'it' if len(unused) == 1 else 'them'} or check the spelling"
        )
    analysis.expr = expr
    return analysis


def _unit_name(unit: pint.Unit) -> str:
    return f"{unit:~P}" or "dimensionless"


def _conversion(got: pint.Unit, want: pint.Unit, factor: float) -> str:
    """Unit constants that convert ``got`` to ``want`` inside formula text: ``B / (8 * b)``."""

    def name(u: pint.Unit) -> str:
        text = f"{u:~C}"
        return f"({text})" if any(c in text for c in "*/") else text

    inverse = 1 / factor
    if factor < 1 and abs(inverse - round(inverse)) < 1e-9 * inverse:
        return f"{name(want)} / ({inverse:.6g} * {name(got)})"
    return f"{factor:.6g} * {name(want)} / {name(got)}"


def compare_result(analysis: Analysis, got: pint.Unit, result: str | pint.Unit) -> pint.Unit:
    """``result`` as a unit if the expression's unit ``got`` is the same unit, else a
    :class:`~llmphys.errors.UnitError` giving both dimensions, or the factor between scales."""
    want = parse_unit(result, "result")
    ok, factor = same_unit(got, want)
    if ok:
        return want
    shown = analysis.show(analysis.expr)
    got_text, want_text = _unit_name(got), _unit_name(want)
    term = [(shown, got_text, describe_dimension(got))]
    if factor is None:
        raise UnitError(
            f"expression {shown} is in {got_text} ({describe_dimension(got)}), but the result "
            f"is declared in {want_text} ({describe_dimension(want)})",
            got,
            want,
            term,
        )
    raise UnitError(
        f"expression {shown} is in {got_text}, but the result is declared in {want_text}: same "
        f"dimension {describe_dimension(want)}, but 1 {got_text} = {factor:.6g} {want_text}, so "
        f"its numbers would be off by that factor; convert inside the expression "
        f"(* {_conversion(got, want, factor)}) or declare the result in {got_text}",
        got,
        want,
        term,
    )


def check_units(
    expr_or_text: str | sympy.Basic,
    units: Mapping[str, UnitSpec] | None = None,
    result: str | pint.Unit | None = None,
    *,
    registry: Registry | None = None,
) -> pint.Unit:
    """The unit of a formula, or :class:`~llmphys.errors.UnitError` naming what is wrong.

    Parameters
    ----------
    expr_or_text : str or sympy expression
        The formula: text such as ``"params * bits_per_param * byte / (8 * bit)"`` (parsed
        through an AST whitelist, never evaluated) or a SymPy expression over symbols named
        like glossary symbols, formulas, declared names or units.
    units : dict, optional
        Units of your own inputs, ``{"bits_per_param": "bit/parameter"}``.  Glossary symbols
        and formulas need none.
    result : str or pint.Unit, optional
        The unit the formula should have.  A different dimension is refused with both
        dimensions; the same dimension at another scale (ms vs s, GB vs GiB, bit vs byte) is
        refused with the factor, because formulas compute on plain numbers.
    registry : Registry, optional
        Where formula names are looked up; default the user registry of
        :func:`llmphys.define` (which sees every built-in formula).

    Returns
    -------
    pint.Unit
        ``result`` when given and matched, else the expression's own unit.

    Raises
    ------
    UnitError
        Terms that cannot be added (each named, with its dimension and unit), a function of a
        quantity with units, or a declared result that does not match.
    UnsafeFormulaError, FormulaDefinitionError, UnknownNameError
        Text outside the whitelist, text that is not a formula, unknown names.

    Examples
    --------
    >>> import llmphys as F
    >>> print(F.check_units("params * bits_per_param * byte / (8 * bit)",
    ...                     units={"bits_per_param": "bit/parameter"}, result="byte"))
    B
    >>> try:  # a refusal: its type and message
    ...     F.check_units("params * bits_per_param * 8",
    ...                   units={"bits_per_param": "bit/parameter"}, result="byte")
    ... except Exception as error:
    ...     print(f"{type(error).__name__}: {error}")
    UnitError: expression 8*params*bits_per_param is in b, but the result is \
declared in B: same dimension [information], but 1 b = 0.125 B, so its numbers would be off by \
that factor; convert inside the expression (* B / (8 * b)) or declare the result in b
    """
    analysis = analyse(expr_or_text, units, registry if registry is not None else _default())
    got = analysis.unit()
    if result is None:
        return got
    return compare_result(analysis, got, result)


def _default() -> Registry:
    from llmphys.user import user_registry

    return user_registry


def describe(unit: pint.Unit) -> dict[str, str]:
    """``{"unit": "B/s", "dimension": "[information] / [time]"}`` for messages and JSON."""
    return {"unit": _unit_name(unit), "dimension": describe_dimension(unit)}
