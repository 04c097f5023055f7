"""Defining a formula: the ``@formula`` decorator, :func:`build` (check, register, return) and
the unit check of a definition (:func:`check_definition`), which refuses a formula whose
expression does not reduce to its declared unit, naming the offending term."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pint
import sympy

from llmphys.engine.formula import Formula
from llmphys.engine.glossary import Entry
from llmphys.engine.parts import Part, PartRef
from llmphys.engine.printing import plain_symbol
from llmphys.engine.registry import Registry
from llmphys.engine.registry import registry as _builtin
from llmphys.errors import (
    FormulaDefinitionError,
    UnitError,
    did_you_mean,
)
from llmphys.units import describe_dimension, expression_unit, same_unit, ureg


@functools.lru_cache(maxsize=256)
def _unit(text: str) -> pint.Unit:
    """A declared unit, parsed once per text (a few dozen for the whole registry)."""
    return ureg.Unit(text)


def check_definition(
    name: str,
    expr: sympy.Expr,
    unit: pint.Unit,
    parts: Mapping[sympy.Symbol, Part],
    registry: Registry,
) -> None:
    """Refuse a definition whose units do not reduce to ``unit``, naming the bad term."""
    from llmphys.engine.printing import to_python

    where = f"formula '{name}'"
    gloss = registry.glossary

    def unit_of(sym: sympy.Symbol) -> pint.Unit:
        part = parts.get(sym)
        if part is not None:
            return part.formula.unit
        return gloss[sym.name].pint_unit

    def order(sym: sympy.Symbol) -> tuple[int, int]:
        part = parts.get(sym)
        return (1, gloss.order(part.name)) if part is not None else (2, gloss.order(sym.name))

    def show(e: sympy.Basic) -> str:
        return to_python(e, order)

    for part in parts.values():
        if not part.subs:  # nothing to check; expanding the part now would only slow imports
            continue
        inputs = part.formula.leaf_names()
        for key, value in part.subs:
            if key.name not in inputs:
                raise FormulaDefinitionError(
                    f"{where}: {part.name}.at() got {key.name!r}, which is not an input of "
                    f"{part.name}{did_you_mean(key.name, inputs)}"
                )
            got = expression_unit(value, unit_of, where, show)
            ok, _ = same_unit(got, gloss[key.name].pint_unit)
            if not ok:
                raise UnitError(
                    f"{where}: {part.name}.at({key.name}={value}) gives {key.name} a value in "
                    f"'{got:~P}' ({describe_dimension(got)}), but {key.name} is in "
                    f"'{gloss[key.name].unit}' ({gloss[key.name].dimension})",
                    got,
                    gloss[key.name].pint_unit,
                )
    got = expression_unit(expr, unit_of, where, show)
    ok, factor = same_unit(got, unit)
    if ok:
        return
    got_text = f"{got:~P}" or "dimensionless"
    want_text = f"{unit:~P}" or "dimensionless"
    if factor is None:
        raise UnitError(
            f"{where} is declared in {want_text} ({describe_dimension(unit)}) but its "
            f"expression {show(expr)} is in {got_text} ({describe_dimension(got)})",
            got,
            unit,
            [(show(expr), got_text, describe_dimension(got))],
        )
    raise UnitError(
        f"{where} is declared in {want_text} but its expression {show(expr)} is in {got_text}: "
        f"same dimension {describe_dimension(unit)}, but 1 {got_text} = {factor:.6g} "
        f"{want_text}, so its numbers would be off by that factor",
        got,
        unit,
        [(show(expr), got_text, describe_dimension(got))],
    )


def build(
    name: str,
    expr: sympy.Expr,
    *,
    unit: str,
    latex: str,
    text: str | None = None,
    parts: Mapping[sympy.Symbol, Part],
    registry: Registry,
    doc: str = "",
    source: str = "",
    meaning: str | None = None,
    module: str = "",
    replaces: str | None = None,
    feature: str | None = None,
) -> Formula:
    """Check, register and return a formula (the decorator and :func:`define` end here).

    ``replaces``/``feature`` declare a variant: this formula stands in for the registered
    formula ``replaces`` (same unit) in a model or layout with ``feature``
    (:mod:`llmphys.engine.variants` swaps it in).
    """
    if not name.isidentifier() or name.startswith("_"):
        raise FormulaDefinitionError(f"formula name {name!r} must be a public python identifier")
    if name in registry:
        raise FormulaDefinitionError(
            f"formula {name!r} is already registered; every formula is defined once"
        )
    if name in registry.glossary:
        raise FormulaDefinitionError(
            f"formula {name!r} has the name of the glossary symbol {name!r} "
            f"({registry.glossary[name].meaning}); name a formula after the quantity it returns"
        )
    try:
        pint_unit = _unit(unit)
    except (pint.UndefinedUnitError, AttributeError, TypeError, ValueError) as exc:
        raise FormulaDefinitionError(f"formula {name!r}: unknown unit {unit!r} ({exc})") from None
    summary = meaning or (_summary(doc) if doc else name)
    if not doc and meaning is None:
        raise FormulaDefinitionError(f"formula {name!r} needs a docstring (its meaning)")
    check_definition(name, expr, pint_unit, parts, registry)
    if (replaces is None) != (feature is None):
        raise FormulaDefinitionError(
            f"formula {name!r}: a variant names both what it replaces and the feature under "
            "which it does (replaces=..., feature=...)"
        )
    if replaces is not None:
        from llmphys.engine.variants import check_variant

        check_variant(name, pint_unit, replaces, feature or "", registry)
    shown = plain_symbol(latex) if text is None else text
    registry.glossary.add(
        Entry(name=name, latex=latex, text=shown, unit=unit, meaning=summary, kind="output")
    )
    made = Formula(
        name,
        expr,
        pint_unit,
        parts=parts,
        registry=registry,
        doc=doc,
        source=source,
        module=module,
    )
    made.replaces, made.feature = replaces, feature
    return registry.add(made)


def _parameters(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The names of ``fn``'s parameters: read from its code for a plain function (building
    ``inspect.signature`` for each of the registry's formulas was a twentieth of the import),
    else from its signature (which also shows ``*args``, for the error to name)."""
    code = getattr(fn, "__code__", None)
    if code is None or hasattr(fn, "__wrapped__") or code.co_flags & _STAR_ARGS:
        return tuple(inspect.signature(fn).parameters)
    return code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


_STAR_ARGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def _summary(doc: str) -> str:
    """The docstring's first paragraph on one line, without its final period."""
    lines = []
    for line in doc.strip().splitlines():  # the first paragraph: no dedent needed
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines).rstrip(".")


def formula(
    *,
    unit: str,
    latex: str,
    text: str | None = None,
    source: str,
    registry: Registry | None = None,
    replaces: str | None = None,
    feature: str | None = None,
) -> Callable[[Callable[..., Any]], Formula]:
    """Define a formula from a function whose body is the math (see the module docstring).

    ``unit`` is the declared unit of the result, ``latex`` its conventional display symbol
    (``text``, its plain text, is read from it unless given:
    :func:`~llmphys.engine.printing.plain_symbol`), ``source`` where it comes from (a seed
    section, a paper).  A variant also says which formula it ``replaces`` and under which
    ``feature`` (``"mla"``, ``"moe"``, ``"layout"``, ...): models and scenarios with that
    feature use it instead.  Returns the :class:`Formula`, registered and reachable as
    ``llmphys.<name>``.
    """
    target = registry if registry is not None else _builtin
    # what the decorator says of the formula, passed on to build() as it was given
    declared = {"unit": unit, "latex": latex, "text": text, "source": source,
                "replaces": replaces, "feature": feature}  # fmt: skip

    def decorate(fn: Callable[..., Any]) -> Formula:
        name = fn.__name__
        collector: dict[sympy.Symbol, PartRef] = {}
        args: dict[str, Any] = {}
        for param in _parameters(fn):
            if param in target:
                args[param] = PartRef(target[param], collector)
            elif param in target.glossary:
                args[param] = target.glossary.symbol(param)
            else:
                known = list(target.glossary) + list(target)
                raise FormulaDefinitionError(
                    f"formula {name!r}: parameter {param!r} is neither a glossary symbol nor a "
                    f"registered formula{did_you_mean(param, known)}"
                )
        expr = sympy.sympify(fn(**args))
        used = _used_parts(expr, collector)
        # a stable order (the glossary's, i.e. definition order) for derivations and docs
        used = dict(
            sorted(
                used.items(), key=lambda kv: (target.glossary.order(kv[1].formula.name), kv[0].name)
            )
        )
        parts = {
            sym: Part(
                ref.formula,
                tuple(
                    (target.glossary.symbol(k), sympy.sympify(v))
                    for k, v in sorted(ref.subs.items())
                    if _check_sub_key(name, ref, k, target)
                ),
                sym,
            )
            for sym, ref in used.items()
        }
        doc = fn.__doc__ or ""  # cleaned when read (Formula.raw_doc)
        return build(name, expr, parts=parts, registry=target, doc=doc, module=fn.__module__,
                     **declared)  # fmt: skip

    return decorate


def _check_sub_key(name: str, ref: PartRef, key: str, target: Registry) -> bool:
    if key not in target.glossary or target.glossary[key].kind != "input":
        raise FormulaDefinitionError(
            f"formula {name!r}: {ref.formula.name}.at() got {key!r}, which is not an input symbol"
        )
    return True


def _used_parts(
    expr: sympy.Expr, collector: Mapping[sympy.Symbol, PartRef]
) -> dict[sympy.Symbol, PartRef]:
    """The parts the expression uses, including parts used only inside another part's
    substitutions (``seq_len=avg_seq_len``)."""
    used: dict[sympy.Symbol, PartRef] = {}
    todo = [s for s in expr.free_symbols if s in collector]
    while todo:
        sym = todo.pop()
        if sym in used:
            continue
        ref = collector[sym]
        used[sym] = ref
        for value in ref.subs.values():
            todo.extend(s for s in sympy.sympify(value).free_symbols if s in collector)
    return used
