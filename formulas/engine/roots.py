"""Root finding for :func:`llmphys.solve`: on the problem compiled once per (formula, unknown)
(:mod:`llmphys.engine.problem`: the closed form where SymPy finds one), a bracketed numeric root
otherwise, the edge of a flat stretch, the direction of the answer and the safe rounding of
whole numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import sympy

from llmphys.engine.budget import OverBudget, huge_exponent, time_budget
from llmphys.engine.problem import (
    CLOSED_FORM_SECONDS,
    MAX_DEGREE,
    Span,
    _args,
    _Problem,
    _root_args,
    _value,
)
from llmphys.engine.solution import Bound
from llmphys.errors import NotUniqueError

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = [
    "CLOSED_FORM_SECONDS",
    "EXACT_SECONDS",
    "MAX_DEGREE",
    "FlatError",
    "Span",
    "meets_exactly",
    "not_unique",
    "plateau_edge",
    "safe_answer",
]

_ROOT_RTOL = 1e-9  # a root must give the target back to this relative tolerance
_NOISE = 4 * 2.0**-52  # relative: two values nearer than four units in the last place tie


def _root(
    problem: _Problem, values: dict[str, float], target: float, entry: Any, span: Span
) -> tuple[float | None, Literal["symbolic", "numeric"]]:
    """The smallest root the unknown may take: from the closed form if there is one, else
    bracketed numerically, and 0 where 0 is allowed and is a root (no FlashAttention, no
    overlap, no prompt log-probs).  A root outside the unknown's domain (an overlap of 293)
    is returned only when there is no other, for the caller to refuse."""
    found: list[tuple[float, Literal["symbolic", "numeric"]]] = []
    lower, upper = span.lower, span.upper
    args = _root_args(problem, values, target)
    for fn in problem.compiled_roots:
        with np.errstate(all="ignore"):
            value = fn(*args)
        if not np.isfinite(value) or value <= 0:
            continue
        got = _value(problem, values, float(value))
        if abs(got - target) <= _ROOT_RTOL * abs(target):
            found.append((float(value), "symbolic"))
    if not found:
        # no closed form, or one singular at the given values (it divides by 1 - phi_FA,
        # which FlashAttention's phi_FA = 1 makes zero): the compiled formula has its root
        # from the smallest allowed value first: a formula may cross the target again
        # below it, where it means nothing (pipeline stages: 0.985 and 2; E under k)
        root = _bracketed(problem, values, target, lower) if lower > 0 else None
        if root is None:
            root = _bracketed(problem, values, target)
        if root is not None:
            found.append((root, "numeric"))
    if entry.zero_allowed and lower == 0:
        at_zero = _value(problem, values, 0.0)
        if abs(at_zero - target) <= _ROOT_RTOL * abs(target):
            found.append((0.0, "numeric"))
    if not found:
        return None, "numeric"
    inside = [r for r in found if lower * (1 - 1e-9) <= r[0] <= upper * (1 + 1e-9)]
    return min(inside or found)


def _bracketed(
    problem: _Problem, values: dict[str, float], target: float, lo: float = 1e-12
) -> float | None:
    """The first root above ``lo`` (scanning up by factors of 4), by Brent's method."""
    from scipy.optimize import brentq

    def g(x: float) -> float:
        return _value(problem, values, x) - target

    g_lo = g(lo)
    while not math.isfinite(g_lo) and lo < 1e30:  # below where the formula means anything
        lo *= 4  # (experts_touched for n_experts under k: a power of a negative base)
        g_lo = g(lo)
    if g_lo == 0:
        return lo
    hi = max(1.0, 4 * lo)
    g_hi = g(hi)
    while math.isfinite(g_hi) and g_hi != 0 and (g_lo > 0) == (g_hi > 0) and hi < 1e30:
        hi *= 4
        g_hi = g(hi)
    if g_hi == 0:  # on the target exactly (a flat stretch at it: see plateau_edge)
        return hi
    if not (math.isfinite(g_lo) and math.isfinite(g_hi)) or (g_lo > 0) == (g_hi > 0):
        return None
    # tighten the lower end too, so the root is bracketed closely
    lo_try = hi / 4
    if lo_try > lo and (g(lo_try) > 0) == (g_lo > 0):
        lo = lo_try
    return float(brentq(g, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))


class FlatError(Exception):
    """The formula is flat at the target around the root; ``kind`` says how (``constant``:
    flat everywhere; ``unbounded``: flat from ``edge`` on; ``interval``: every value in
    ``edges`` meets the target exactly; ``valley``: it leaves the plateau the same way on
    both sides)."""

    def __init__(self, kind: str, edges: tuple[float, float] = (math.nan, math.nan)) -> None:
        super().__init__(kind)
        self.kind, self.edges = kind, edges


def plateau_edge(
    problem: _Problem,
    values: dict[str, float],
    target: float,
    x: float,
    bound: Bound,
    entry: Any,
    span: Span,
) -> tuple[float, Literal["increasing", "decreasing"]]:
    """Where a flat stretch of the formula at the target ends, in the direction the bound
    asks for, and whether the formula rises or falls past it.

    A max or min settled by another term is flat in the unknown (decode time does not change
    with ``hidden`` while memory dominates it): at a target on that flat stretch every value
    of it meets the target, and the answer is its edge: the largest ``hidden`` before the
    compute term takes over.  Found by doubling away from ``x`` until the formula leaves the
    target, then bisecting (float64 to the last bit).  Raises :class:`FlatError` when there is
    no one edge.
    """
    least, probe_floor = span.lower, span.probe_floor

    def f(at: float) -> float:
        return _value(problem, values, at)

    def leaves(at: float) -> bool:  # off the target by more than float noise
        got = f(at)
        return not math.isfinite(got) or abs(got - target) > _NOISE * abs(target)

    def away(grow: float) -> float | None:
        """The first value, doubling (or halving) from ``x``, where the formula is off the
        target; None if it stays on it up to 1e30 (or down to the smallest allowed value)."""
        if grow > 1:
            at = x if x > 0 else probe_floor / 2
            while (at := at * 2) <= 1e30:
                if leaves(at):
                    return at
            return None
        at = x
        while (at := at / 2) >= probe_floor:
            if leaves(at):
                return at
        allowed = entry.integer or entry.zero_allowed  # a positive real never reaches 0
        return least if allowed and least < x and leaves(least) else None

    right, left = away(2.0), away(0.5)
    up = None if right is None else f(right)
    down = None if left is None else f(left)
    rising = (up is not None and up > target) or (down is not None and down < target)
    falling = (up is not None and up < target) or (down is not None and down > target)
    if not (rising or falling):
        raise FlatError("constant")
    if rising and falling:
        raise FlatError("valley")
    monotonic: Literal["increasing", "decreasing"] = "increasing" if rising else "decreasing"

    def edge(beyond: float | None) -> float | None:
        """The last value from ``x`` towards ``beyond`` that stays on the target."""
        if beyond is None:
            return None
        inside, outside = x, beyond
        for _ in range(2000):
            if inside > 0 and outside > 0 and max(outside / inside, inside / outside) > 2:
                middle = math.sqrt(inside * outside)
            else:
                middle = inside + (outside - inside) / 2
            if middle in (inside, outside):
                break
            if leaves(middle):
                outside = middle
            else:
                inside = middle
        return inside

    if bound == "equal":
        lo, hi = edge(left), edge(right)
        if lo is None or hi is None or hi - lo > 1e-9 * hi:
            raise FlatError("interval", (lo if lo is not None else least, hi or math.inf))
        return x, monotonic
    # the side where the formula misses the bound is where the answer's edge is
    misses_above = bound == "at_most"
    towards_right = (monotonic == "increasing") == misses_above
    found = edge(right if towards_right else left)
    if found is not None:
        return found, monotonic
    if not towards_right and (entry.integer or entry.zero_allowed) and not leaves(least):
        return least, monotonic  # flat down to the smallest value allowed: that is the answer
    raise FlatError("unbounded", (x, math.inf) if towards_right else (least, x))


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
    value = _value(problem, values, x)
    at = {s: x if s == problem.x else values[s.name] for s in problem.args[:-1]}
    # exactly unless a power would get a huge exponent (B = 1e300 in (1 - k/E)^(B-1))
    if max(abs(value), abs(target), abs(x)) >= 2.0**52 and not huge_exponent(problem.expr, at):
        subs = {s: sympy.Rational(repr(values[s.name])) for s in problem.args[:-1]
                if s != problem.x}  # fmt: skip
        subs[problem.x] = sympy.Rational(repr(x))
        goal = sympy.Rational(repr(target))
        try:
            with time_budget(EXACT_SECONDS):
                exact = problem.expr.xreplace(subs)
                return bool(exact <= goal) if bound == "at_most" else bool(exact >= goal)
        except (TypeError, OverBudget):  # not comparable, or too long: floats decide
            pass
    return value <= target if bound == "at_most" else value >= target


#: seconds rational arithmetic may take to check one whole answer before floats decide
EXACT_SECONDS = 1.0


def safe_answer(
    problem: _Problem,
    values: dict[str, float],
    answer: float,
    target: float,
    bound: Bound,
    direction: str,
    rounding: Any,
    span: Span | None = None,
) -> tuple[float, Any]:
    """``answer`` moved to the safe side of the bound until the formula meets it exactly
    (:func:`meets_exactly`): the largest that keeps a budget, the smallest that meets a
    requirement.  A real answer (``span`` None) moves by units in the last place, a whole one
    (within ``span``) by whole steps; an answer that cannot be made safe comes back as it was
    (``_assert_bound`` reports it)."""
    if bound == "equal" or direction not in ("largest", "smallest"):
        return answer, rounding

    def meets(x: float) -> bool:
        return meets_exactly(problem, values, x, target, bound)

    if span is None:
        return _safe_real(meets, answer, direction), rounding
    return _safe_whole(meets, answer, direction, rounding, span.lower, span.upper)


def _safe_real(meets: Callable[[float], bool], answer: float, direction: str) -> float:
    """A real ``answer`` moved the fewest units in the last place to the safe side (a root is
    found to ~1e-15, and may sit that far past a budget)."""
    if answer <= 0:
        return answer
    sign = -1 if direction == "largest" else 1  # down from a largest, up from a smallest
    moved = answer
    for _ in range(64):  # 2, 4, 8, ... units in the last place
        if meets(moved):
            return moved
        moved = answer + sign * 2 * (abs(moved - answer) or math.ulp(answer))
        if moved <= 0:
            break
    return answer


def _safe_whole(
    meets: Callable[[float], bool],
    answer: float,
    direction: str,
    rounding: Any,
    minimum: float,
    maximum: float,
) -> tuple[float, Any]:
    """A whole ``answer`` (at least ``minimum``) moved one step at a time to the safe side (a
    root within float noise of a whole number is "whole" only if it holds), then as far back
    as still holds."""
    step = -1.0 if direction == "largest" else 1.0
    for _ in range(8):
        if answer < minimum or meets(answer):
            break
        if answer + step < minimum:
            return answer + step, "floor"  # below the smallest count: reported as such
        if answer + step > maximum:
            return answer + step, "ceil"  # above the largest value (a switch's 1): likewise
        answer += step
        rounding = "floor" if direction == "largest" else "ceil"
    else:
        return answer, rounding
    # tight: the next whole value the other way must fail (a root found inexactly may sit a
    # whole step inside the bound)
    for _ in range(8):
        nearer = answer - step
        if nearer < minimum or nearer > maximum or not meets(nearer):
            break
        answer = nearer
    return answer, rounding


def _probe_grid(entry: Any, span: Span) -> np.ndarray:
    """The values of the unknown probed: its glossary range within what the given values
    allow, every whole value up to 4,096 of them, else 600 log-spaced points."""
    lo, hi = entry.range if entry.range is not None else (1e-3, 1e6)
    lo = max(float(lo), span.probe_floor)
    hi = max(min(float(hi), span.upper), lo)
    if entry.integer and hi - lo <= 4096:
        return np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=np.float64)
    grid = np.geomspace(max(lo, 1e-12), hi, 600)
    return np.unique(np.round(grid)) if entry.integer else grid


def not_unique(
    problem: _Problem,
    values: dict[str, float],
    target: float,
    bound: Bound,
    entry: Any,
    span: Span,
) -> list[tuple[float, float]] | None:
    """The separate ranges of the unknown that meet the bound when there are several (the
    formula is not monotonic in it), else None."""
    grid = _probe_grid(entry, span)
    with np.errstate(all="ignore"):
        got = np.broadcast_to(problem.f(*_args(problem, values, grid)), grid.shape)
    # within a budget; at or above a requirement or an equality's target (where f - target
    # changes sign)
    mask = (got <= target if bound == "at_most" else got >= target) & np.isfinite(got)
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
