"""Feasibility diagnosis for :func:`llmphys.solve`: when no positive value meets the target,
say why (the terms that already exceed the budget, the limit the formula tends to) and what to
change."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pint
import sympy

from llmphys.engine.formatting import format_quantity
from llmphys.engine.problem import _Problem
from llmphys.engine.solution import _RELATION, Bound
from llmphys.errors import InputError, UnknownNameError
from llmphys.units import Q_

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula


def _infeasible_message(
    formula: Formula,
    unknown: str,
    problem: _Problem,
    converted: dict[str, Any],
    keep: frozenset[str],
    target: float,
    bound: Bound,
) -> str:
    """Why no positive ``unknown`` works: the parts that do not change with the unknown and
    already exceed the budget, or the limit the formula cannot get past."""
    gloss = formula.registry.glossary
    x = problem.x
    values = {s: converted[s.name] for s in problem.args[:-1] if s != x}
    sub = problem.expr.xreplace({s: sympy.Float(v) for s, v in values.items()})
    where = f"solve {formula.name} for {unknown}"
    target_text = format_quantity(Q_(target, formula.unit), sig=4)
    rel = _RELATION[bound]
    at_zero, at_inf = _limit(sub, x, 0), _limit(sub, x, sympy.oo)
    best, end = (at_zero, "0") if _better(at_zero, at_inf, bound) else (at_inf, "infinity")
    fixed = _fixed_parts(formula, keep, x, converted, bound, 0 if end == "0" else sympy.oo)
    listed = " and ".join(
        f"{name} ({gloss[name].text}) = {format_quantity(q, sig=3)}" for name, q in fixed
    )
    same_unit_total = (
        sum(float(q.to(formula.unit).magnitude) for _, q in fixed)
        if fixed and all(q.dimensionality == formula.unit.dimensionality for _, q in fixed)
        else None
    )
    if bound == "at_most" and same_unit_total is not None and same_unit_total >= target:
        verb = "exceeds" if len(fixed) == 1 else "exceed"
        message = f"{where}: {listed} already {verb} {target_text}"
        if best is not None:
            best_text = format_quantity(Q_(best, formula.unit), sig=4)
            message += f" ({formula.name} is at least {best_text} for any {unknown})"
        message += f": no {unknown} fits"
    else:
        message = f"{where}: no positive {unknown} gives {formula.name} {rel} {target_text}"
        if best is not None:
            best_text = format_quantity(Q_(best, formula.unit), sig=4)
            side = "above" if bound == "at_most" else "below"
            message += (
                f": even as {unknown} goes to {end}, {formula.name} only reaches {best_text}, "
                f"{side} the target"
            )
        if fixed:
            verb = "does" if len(fixed) == 1 else "do"
            message += f"; {listed} {verb} not change with {unknown}"
    lower, raise_ = _advice(formula, fixed, keep, converted, unknown, bound)
    moves = []
    if lower:
        moves.append(f"lower {_either(lower)}")
    if raise_:
        moves.append(f"raise {_either(raise_)}")
    if moves:
        target_move = "raise the budget" if bound == "at_most" else "lower the target"
        joined = "; ".join(moves)
        message += f". {joined[0].upper()}{joined[1:]}{'; ' if len(moves) > 1 else ', '}"
        message += f"or {target_move}"
        if bound == "at_most" and formula.unit.dimensionality == Q_(1, "byte").dimensionality:
            message += " (e.g. more GPUs)"
    return message


def _either(names: list[str]) -> str:
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]


def _advice(
    formula: Formula,
    fixed: list[tuple[str, pint.Quantity]],
    keep: frozenset[str],
    converted: dict[str, Any],
    unknown: str,
    bound: Bound,
) -> tuple[list[str], list[str]]:
    """The inputs of the culprit parts, split by which way each must move to shrink them
    (for a budget) or to grow the formula's limit (for a requirement): a parameter count is
    lowered, a parallel degree (a divisor) is raised."""
    parts = formula.overridable_parts()  # this formula's own parts: a model's variants
    gloss = formula.registry.glossary
    lower: list[str] = []
    raise_: list[str] = []
    for name, _ in fixed:
        part = parts.get(name)
        if part is None:
            continue
        if name in keep:  # given directly: that value is what to change (shrink it)
            lower.append(name)
            continue
        inner = part.as_numbers(part.expand(keep & set(part.overridable_parts())))
        point = {gloss.symbol(n): sympy.Float(v) for n, v in converted.items() if n in gloss}
        for sym in part._ordered(inner.free_symbols):
            if sym.name == unknown or sym.name in lower or sym.name in raise_:
                continue
            try:
                slope = float(sympy.diff(inner, sym).xreplace(point).evalf())
            except (TypeError, ValueError):
                continue
            if slope == 0 or not math.isfinite(slope):
                continue
            # for a budget the part must shrink; for a requirement it holds the formula back,
            # so it must shrink too (the culprits are the parts whose removal helps)
            (lower if slope > 0 else raise_).append(sym.name)
    return lower, raise_


def _better(a: float | None, b: float | None, bound: Bound) -> bool:
    if b is None:
        return True
    if a is None:
        return False
    return a <= b if bound == "at_most" else a >= b


def _limit(expr: sympy.Expr, x: sympy.Symbol, point: Any) -> float | None:
    """The value ``expr`` tends to as ``x`` goes to 0 or infinity, or None if it diverges.

    Evaluated numerically, to 60 digits, at two points far along (fast even with ``Max`` and
    ``ceiling``, where a symbolic limit can take seconds): if they agree, that is the limit.
    """
    probes = (1e-10, 1e-14) if point == 0 else (1e24, 1e30)  # the second is nearer
    try:  # 60 digits: (1 - k/E)^B at E = 1e30 is not 1 there, as it would be in float64
        a, b = (float(expr.xreplace({x: sympy.Float(p, 60)}).evalf(60)) for p in probes)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):  # zoo, nan: no limit
        return None
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    if abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-300):
        return b  # settled
    if abs(b) <= 1e-4 * abs(a):
        return 0.0  # decaying like a power of x: the limit is 0
    return None  # growing without bound


def _fixed_parts(
    formula: Formula,
    keep: frozenset[str],
    x: sympy.Symbol,
    converted: dict[str, Any],
    bound: Bound,
    end: Any,
) -> list[tuple[str, pint.Quantity]]:
    """The parts that do not change with ``x`` and hold the formula back at the best end of
    ``x``'s range: for a budget, those whose removal would lower that limit (the weights and
    the workspace when no context fits); for a requirement, those whose removal would raise
    it (the KV traffic that caps decode's arithmetic intensity).  Top-most parts only."""
    gloss = formula.registry.glossary
    found: list[tuple[str, pint.Quantity]] = []
    skip: set[str] = set()
    for name, part in formula.overridable_parts().items():
        if name in skip or name == x.name:
            continue
        with_part = formula.as_numbers(formula.expand(keep | {name}))
        p = gloss.symbol(name)
        if p not in with_part.free_symbols or x in part.expand(keep).free_symbols:
            continue
        value = _part_value(part, converted)
        if value is None:
            continue
        others = {gloss.symbol(n): sympy.Float(v) for n, v in converted.items() if n != name}
        sub = with_part.xreplace(others)
        try:
            kept = _limit(sub.xreplace({p: sympy.Float(float(value.magnitude))}), x, end)
            removed = _limit(sub.xreplace({p: sympy.Integer(0)}), x, end)
        except (ValueError, TypeError):  # the part is a divisor: removing it is meaningless
            continue
        if kept is None:
            continue
        lowers = removed is not None and removed < kept * (1 - 1e-9)
        raises = removed is None or removed > kept * (1 + 1e-9)
        if (bound == "at_most" and lowers) or (bound != "at_most" and raises):
            found.append((name, value))
            skip |= set(part.overridable_parts())
    return found


def _part_value(part: Formula, converted: dict[str, Any]) -> pint.Quantity | None:
    if part.name in converted:
        return Q_(converted[part.name], part.unit)
    names = set(part.input_names) | set(part.overridable_parts())
    try:
        return part(**{k: v for k, v in converted.items() if k in names})
    except (InputError, UnknownNameError):
        return None
