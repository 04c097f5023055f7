"""The problem :func:`llmphys.solve` solves, built once per (formula, unknown, given parts):
the formula rearranged for the unknown, its roots in closed form where SymPy finds them
(within a time budget, never past the quartic) and the one that gives an answer, the compiled
functions that evaluate it and its slope, and the span of values the unknown may take
(:class:`Span`).  The root finding on it is
in :mod:`llmphys.engine.roots`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from llmphys.engine.budget import OverBudget, time_budget
from llmphys.engine.compiled import compile_expression
from llmphys.engine.glossary import WIDEST_ELEMENT
from llmphys.engine.relations import bounds_for

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = ["CLOSED_FORM_SECONDS", "MAX_DEGREE", "Span"]


@dataclass(frozen=True)
class Span:
    """The values an unknown may take here: its domain (whole counts from 1, switches 0 or 1,
    fractions up to 1) narrowed by the given values it relates to
    (:mod:`llmphys.engine.relations`: ``pp`` at most ``layers``)."""

    lower: float  # inclusive, except 0 for a positive real (the unknown only approaches it)
    upper: float
    why_lower: tuple[str, ...] = ()  # the given values that set each end (empty: the domain)
    why_upper: tuple[str, ...] = ()

    @classmethod
    def of(cls, entry: Any, values: dict[str, float]) -> Span:
        lower = 0.0 if entry.zero_allowed else (1.0 if entry.integer else 0.0)
        upper = 1.0 if entry.domain in ("fraction", "unit_interval") else math.inf
        if entry.choices is not None:  # a precision: a size per element, FP64's at most
            upper = WIDEST_ELEMENT
        given = bounds_for(entry.name, values)
        low, high = given.lower, given.upper
        if entry.integer:
            low, high = math.ceil(low), (math.floor(high) if math.isfinite(high) else high)
        return cls(max(lower, low), min(upper, high), given.why_lower, given.why_upper)

    @property
    def probe_floor(self) -> float:
        """The smallest value worth evaluating (1e-12 for a positive real)."""
        return self.lower if self.lower > 0 else 1e-12


@dataclass
class _Problem:
    """What is cached per (formula, unknown, given parts): the expression, its roots in
    closed form (if any) and compiled functions."""

    expr: sympy.Expr
    x: sympy.Symbol
    roots: list[sympy.Expr] | None
    args: tuple[sympy.Symbol, ...]
    f: Callable[..., Any]
    dfdx: Callable[..., Any] | None
    compiled_roots: list[Callable[..., Any]]
    source: sympy.Expr  # the formula's expansion it was built from (``expr`` before numbers)


#: rearranged formulas, compiled once per (formula, unknown, given parts)
_CACHE: dict[tuple[int, str, frozenset[str]], _Problem] = {}


def _problem(formula: Formula, unknown: str, keep: frozenset[str]) -> _Problem:
    key = (id(formula), unknown, keep)
    cached = _CACHE.get(key)
    source = formula.expand(keep)
    if cached is not None and cached.source is source:
        return cached
    expr = formula.as_numbers(source)
    x = formula.registry.glossary.symbol(unknown)
    target = formula.symbol
    args = (*formula._ordered(expr.free_symbols), target)
    roots = _closed_form(expr, x, target)
    f = compile_expression(args[:-1], expr)
    try:
        dfdx: Callable[..., Any] | None = compile_expression(args[:-1], sympy.diff(expr, x))
    except Exception:
        dfdx = None
    root_args = [s for s in args if s != x]
    compiled = [compile_expression(root_args, r) for r in roots] if roots else []
    problem = _Problem(expr, x, roots, args, f, dfdx, compiled, source)
    _CACHE[key] = problem
    return problem


def _closed_form(
    expr: sympy.Expr, x: sympy.Symbol, target: sympy.Symbol
) -> list[sympy.Expr] | None:
    """Every root of ``expr = target`` in ``x``, or None when SymPy finds no closed form.

    The unknown is solved as a positive real (an integer symbol would make SymPy drop
    non-integer roots); rounding happens afterwards.
    """
    if expr.has(sympy.Min, sympy.Max, sympy.Piecewise, sympy.ceiling, sympy.floor):
        return None
    if _high_power(expr, x):
        return None  # no closed form past the quartic, and factoring one can take hours
    relaxed = sympy.Dummy(x.name, positive=True, real=True)
    try:
        with time_budget(CLOSED_FORM_SECONDS):
            found = sympy.solve(sympy.Eq(expr.xreplace({x: relaxed}), target), relaxed)
    except (NotImplementedError, TypeError, ValueError, OverBudget):
        return None  # the numeric root finder answers instead
    roots = [
        _tidy(r.xreplace({relaxed: x}))
        for r in found
        if not r.has(relaxed) and _COMPUTABLE.issuperset(type(g) for g in r.atoms(sympy.Function))
    ]
    return roots or None


#: the functions a closed-form root may use and still compile to numpy (x^x = t needs
#: Lambert's W, which numpy lacks: the numeric root finder answers instead)
_COMPUTABLE = frozenset(
    {sympy.Min, sympy.Max, sympy.ceiling, sympy.floor, sympy.log, sympy.exp, sympy.Abs,
     sympy.Piecewise}
)  # fmt: skip


#: the highest power of the unknown worth a closed form (a quartic still has one)
MAX_DEGREE = 4
#: the most time SymPy may spend looking for a closed form (they take milliseconds)
CLOSED_FORM_SECONDS = 3.0


def _high_power(expr: sympy.Expr, x: sympy.Symbol) -> bool:
    """True when ``x`` sits under a numeric power above :data:`MAX_DEGREE` (``(1 - k/E)^999``
    solved for E): SymPy would expand and factor a polynomial of that degree."""
    return any(
        p.base.has(x) and p.exp.is_Number and abs(p.exp) > MAX_DEGREE for p in expr.atoms(sympy.Pow)
    )


def _tidy(root: sympy.Expr) -> sympy.Expr:
    """A rearranged formula as a person writes it: a fraction without a leading minus over a
    negated denominator (``N b R / (BW - ...)``, not ``-N b R / (... - BW)``)."""
    numerator, denominator = sympy.fraction(sympy.together(root))
    if not (numerator.could_extract_minus_sign() and isinstance(denominator, sympy.Add)):
        return root
    return sympy.Mul(-numerator, sympy.Pow(sympy.expand(-denominator), -1), evaluate=False)


def _args(problem: _Problem, values: dict[str, float], x: float) -> list[float]:
    return [x if s == problem.x else values[s.name] for s in problem.args[:-1]]


def _value(problem: _Problem, values: dict[str, float], x: float) -> float:
    """The formula at ``x`` (the other inputs at ``values``): inf or NaN where it overflows
    or means nothing, without a warning."""
    with np.errstate(all="ignore"):
        return float(problem.f(*_args(problem, values, x)))


def _slope(problem: _Problem, values: dict[str, float], x: float) -> float:
    """df/dx at ``x``: the compiled derivative, or a central difference where SymPy's
    derivative cannot be compiled (a step function such as ``ceiling``)."""
    if problem.dfdx is not None:
        with np.errstate(all="ignore"):
            return float(problem.dfdx(*_args(problem, values, x)))
    h = max(abs(x), 1.0) * 1e-6
    hi = _value(problem, values, x + h)
    lo = _value(problem, values, max(x - h, x / 2))
    return (hi - lo) / (x + h - max(x - h, x / 2))


def _root_args(problem: _Problem, values: dict[str, float], target: float) -> list[float]:
    """Arguments of a compiled root: every input but the unknown, then the target."""
    return [*(values[s.name] for s in problem.args[:-1] if s != problem.x), target]


def _reduced_root(
    problem: _Problem, values: dict[str, float], target: float, x_star: float
) -> sympy.Expr | None:
    """The unknown in closed form once the given values are in (numbers and the target
    symbol only), when that removes every max, min and step; None otherwise."""
    numbers = {s: sympy.Float(values[s.name]) for s in problem.args[:-1] if s != problem.x}
    reduced = problem.expr.xreplace(numbers)
    if reduced.has(sympy.Min, sympy.Max, sympy.Piecewise, sympy.ceiling, sympy.floor):
        return None
    roots = _closed_form(reduced, problem.x, problem.args[-1]) or []
    for root in roots:
        try:
            value = complex(root.xreplace({problem.args[-1]: sympy.Float(target)}).evalf())
        except (TypeError, ValueError):
            continue
        if abs(value.imag) <= 1e-12 * abs(value) and math.isclose(value.real, x_star, rel_tol=1e-9):
            return root
    return None


def _chosen_root(
    problem: _Problem, values: dict[str, float], target: float, x_star: float
) -> sympy.Expr | None:
    if not problem.roots:
        return None
    args = _root_args(problem, values, target)
    for root, fn in zip(problem.roots, problem.compiled_roots, strict=True):
        with np.errstate(all="ignore"):
            value = fn(*args)
        if np.isfinite(value) and math.isclose(float(value), x_star, rel_tol=1e-9):
            return root
    return problem.roots[0]
