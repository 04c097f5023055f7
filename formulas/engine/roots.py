"""Root finding for :func:`llmphys.solve`: the problem compiled once per (formula, unknown),
the closed form where SymPy finds one, a bracketed numeric root otherwise, the direction of the
answer and the safe rounding of whole numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import sympy

from llmphys.engine.budget import OverBudget, time_budget
from llmphys.engine.compiled import compile_expression
from llmphys.engine.solution import Bound
from llmphys.errors import NotUniqueError
from llmphys.units import UnitSymbol

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula


_ROOT_RTOL = 1e-9  # a root must give the target back to this relative tolerance


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


#: rearranged formulas, compiled once per (formula, unknown, given parts)
_CACHE: dict[tuple[int, str, frozenset[str]], _Problem] = {}


def _problem(formula: Formula, unknown: str, keep: frozenset[str]) -> _Problem:
    key = (id(formula), unknown, keep)
    cached = _CACHE.get(key)
    if cached is not None and cached.expr is formula.expand(keep):
        return cached
    expr = formula.expand(keep)
    units = {s: sympy.Integer(1) for s in expr.free_symbols if isinstance(s, UnitSymbol)}
    expr = expr.xreplace(units)
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
    problem = _Problem(expr, x, roots, args, f, dfdx, compiled)
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
    roots = [_tidy(r.xreplace({relaxed: x})) for r in found if not r.has(relaxed)]
    return roots or None


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


def _slope(problem: _Problem, values: dict[str, float], x: float) -> float:
    """df/dx at ``x``: the compiled derivative, or a central difference where SymPy's
    derivative cannot be compiled (a step function such as ``ceiling``)."""
    if problem.dfdx is not None:
        with np.errstate(all="ignore"):
            return float(problem.dfdx(*_args(problem, values, x)))
    h = max(abs(x), 1.0) * 1e-6
    hi = float(problem.f(*_args(problem, values, x + h)))
    lo = float(problem.f(*_args(problem, values, max(x - h, x / 2))))
    return (hi - lo) / (x + h - max(x - h, x / 2))


def _root_args(problem: _Problem, values: dict[str, float], target: float) -> list[float]:
    """Arguments of a compiled root: every input but the unknown, then the target."""
    return [*(values[s.name] for s in problem.args[:-1] if s != problem.x), target]


def _root(
    formula: Formula, problem: _Problem, values: dict[str, float], target: float, unknown: str
) -> tuple[float | None, Literal["symbolic", "numeric"]]:
    """A positive root: from the closed form if there is one, else bracketed numerically."""
    if not problem.roots:
        return _bracketed(problem, values, target), "numeric"
    found = []
    args = _root_args(problem, values, target)
    for fn in problem.compiled_roots:
        with np.errstate(all="ignore"):
            value = fn(*args)
        if not np.isfinite(value) or value <= 0:
            continue
        got = float(problem.f(*_args(problem, values, float(value))))
        if abs(got - target) <= _ROOT_RTOL * abs(target):
            found.append(float(value))
    if found:
        return min(found), "symbolic"
    # the closed form may be singular at the given values (it divides by 1 - phi_FA, which
    # FlashAttention's phi_FA = 1 makes zero): the compiled formula still has its root
    return _bracketed(problem, values, target), "numeric"


def _bracketed(problem: _Problem, values: dict[str, float], target: float) -> float | None:
    from scipy.optimize import brentq

    def g(x: float) -> float:
        with np.errstate(all="ignore"):
            return float(problem.f(*_args(problem, values, x))) - target

    lo = 1e-12
    g_lo = g(lo)
    hi = 1.0
    g_hi = g(hi)
    while math.isfinite(g_hi) and (g_lo > 0) == (g_hi > 0) and hi < 1e30:
        hi *= 4
        g_hi = g(hi)
    if not (math.isfinite(g_lo) and math.isfinite(g_hi)) or (g_lo > 0) == (g_hi > 0):
        return None
    # tighten the lower end too, so the root is bracketed closely
    lo_try = hi / 4
    if lo_try > lo and (g(lo_try) > 0) == (g_lo > 0):
        lo = lo_try
    return float(brentq(g, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))


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


def _direction(monotonic: str, bound: Bound) -> Literal["largest", "smallest", "exact"]:
    if bound == "equal":
        return "exact"
    increasing = monotonic == "increasing"
    return "largest" if increasing == (bound == "at_most") else "smallest"


def _round(entry: Any, x: float, direction: str) -> tuple[float, Any]:
    if not entry.integer:
        return x, None
    nearest = round(x)
    if abs(x - nearest) <= 1e-9 * max(1.0, abs(x)):
        return float(nearest), None  # already whole: nothing to round
    if direction == "largest":
        return float(math.floor(x)), "floor"
    if direction == "smallest":
        return float(math.ceil(x)), "ceil"
    return float(nearest), "nearest"


def meets_exactly(
    problem: _Problem, values: dict[str, float], x: float, target: float, bound: Bound
) -> bool:
    """Whether the formula at ``x`` meets ``target`` exactly: in float64 while every number is
    exact there (below 2**52), else in rational arithmetic (SymPy), so that no rounding of
    a large whole answer hides a violation."""
    if bound == "equal":
        return True
    value = float(problem.f(*_args(problem, values, x)))
    if max(abs(value), abs(target), abs(x)) >= 2.0**52:
        subs = {s: sympy.Rational(repr(values[s.name])) for s in problem.args[:-1]
                if s != problem.x}  # fmt: skip
        subs[problem.x] = sympy.Rational(repr(x))
        exact = problem.expr.xreplace(subs)
        goal = sympy.Rational(repr(target))
        try:
            return bool(exact <= goal) if bound == "at_most" else bool(exact >= goal)
        except TypeError:  # not comparable (a symbolic leftover): fall back on floats
            pass
    return value <= target if bound == "at_most" else value >= target


def safe_whole(
    problem: _Problem,
    values: dict[str, float],
    answer: float,
    target: float,
    bound: Bound,
    direction: str,
    rounding: Any,
    minimum: float = 1.0,
) -> tuple[float, Any]:
    """A whole ``answer`` (at least ``minimum``) moved, one step at a time in the safe
    direction, until it meets the bound exactly (a root within float noise of a whole number is
    "whole" only if it holds): the largest that keeps a budget, the smallest that meets a
    requirement."""
    if bound == "equal" or direction not in ("largest", "smallest"):
        return answer, rounding
    step = -1.0 if direction == "largest" else 1.0
    for _ in range(8):
        if answer < minimum or meets_exactly(problem, values, answer, target, bound):
            break
        if answer + step < minimum:
            return answer + step, "floor"  # below the smallest count: reported as such
        answer += step
        rounding = "floor" if direction == "largest" else "ceil"
    else:
        return answer, rounding  # _assert_bound reports what is left
    # tight: the next whole value the other way must fail (a root found inexactly may sit a
    # whole step inside the bound)
    for _ in range(8):
        nearer = answer - step
        if nearer < minimum or not meets_exactly(problem, values, nearer, target, bound):
            break
        answer = nearer
    return answer, rounding  # _assert_bound reports what is left


def _meet_ranges(
    problem: _Problem, values: dict[str, float], target: float, bound: Bound, entry: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Where over the unknown's glossary range the formula meets the bound: the grid (every
    whole value up to 4,096 of them, else 600 log-spaced points) and a mask."""
    lo, hi = entry.range if entry.range is not None else (1e-3, 1e6)
    lo = max(float(lo), 1.0 if entry.integer and entry.domain != "nonnegative" else 1e-12)
    hi = float(hi)
    if entry.integer and hi - lo <= 4096:
        grid = np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=np.float64)
    else:
        grid = np.geomspace(max(lo, 1e-12), hi, 600)
        if entry.integer:
            grid = np.unique(np.round(grid))
    with np.errstate(all="ignore"):
        got = np.broadcast_to(problem.f(*_args(problem, values, grid)), grid.shape)
    if bound == "at_most":
        mask = got <= target
    elif bound == "at_least":
        mask = got >= target
    else:  # equal: where f - target changes sign
        mask = got >= target
    return grid, mask & np.isfinite(got)


def not_unique(
    problem: _Problem, values: dict[str, float], target: float, bound: Bound, entry: Any
) -> list[tuple[float, float]] | None:
    """The separate ranges of the unknown that meet the bound when there are several (the
    formula is not monotonic in it), else None."""
    grid, mask = _meet_ranges(problem, values, target, bound, entry)
    edges = np.flatnonzero(np.diff(mask.astype(np.int8)))
    if bound == "equal":
        return [(float(grid[i]), float(grid[i + 1])) for i in edges] if len(edges) > 1 else None
    runs, start = [], None
    for i, ok in enumerate(mask):
        if ok and start is None:
            start = i
        if not ok and start is not None:
            runs.append((float(grid[start]), float(grid[i - 1])))
            start = None
    if start is not None:
        runs.append((float(grid[start]), float(grid[-1])))
    return runs if len(runs) > 1 else None


def _assert_bound(
    formula: Formula,
    unknown: str,
    answer: float,
    value: float,
    target: float,
    bound: Bound,
    rounding: Any,
) -> None:
    slack = 1e-9 * abs(target)
    ok = (
        (bound == "at_most" and value <= target + slack)
        or (bound == "at_least" and value >= target - slack)
        or bound == "equal"
    )
    if not ok:  # the whole value next to the root misses: f is not monotonic between them
        raise NotUniqueError(
            f"solve {formula.name} for {unknown}: no whole {unknown} next to the root meets "
            f"{bound.replace('_', ' ')} {target:.6g} ({rounding} rounding to {answer:g} gives "
            f"{value:.6g}): {formula.name} is not monotonic in {unknown} here, so the answer is "
            f"not one value; sweep {unknown} to see where the bound holds"
        )
