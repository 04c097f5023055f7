"""Inverse questions: solve any formula for any input.

``solve(formula, unknown, target=..., **given)`` answers "what is the largest context that
fits in 80 GB?" or "what is the smallest batch that meets this bandwidth budget?":

* **Symbolic first**: ``sympy.solve`` over positive symbols gives the rearranged formula
  (``S = (M_total - N b_w - f_ws N b_w) / (2 L n_kv d_h B b_kv)``), compiled once per
  (formula, unknown) and reused; a **bracketed numeric root** (Brent's method on the compiled
  formula) when there is no closed form.  The result says which path was used.
* **Direction-aware**: the target is a budget (``bound="at_most"``, the default), a requirement
  (``"at_least"``) or an equality (``"equal"``).  With the formula's monotonicity in the
  unknown (the sign of its derivative) that makes the answer a *largest* or a *smallest*
  value; whole-number unknowns are rounded the safe way (floor for a largest, ceil for a
  smallest) and the rounding is shown and checked.
* **Feasibility**: when no positive value works, :class:`~llmphys.errors.InfeasibleError` says
  why, naming the terms that already exceed the budget.
* **Symbolic answers**: inputs left out stay symbols; the answer is then an expression in them
  (:attr:`Solution.expression`), compiled by :meth:`Solution.lambdify` for frontier plots.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pint
import sympy

from llmphys.engine.elasticities import elasticities
from llmphys.engine.feasibility import _infeasible_message
from llmphys.engine.formatting import format_quantity, text_number
from llmphys.engine.problem import (
    Span,
    _chosen_root,
    _Problem,
    _problem,
    _reduced_root,
    _slope,
    _value,
)
from llmphys.engine.roots import (
    _ROOT_RTOL,
    FlatError,
    _assert_bound,
    _direction,
    _root,
    _round,
    not_unique,
    plateau_edge,
    safe_answer,
)
from llmphys.engine.solution import _BOUNDS, _RELATION, Bound, Solution
from llmphys.errors import (
    InfeasibleError,
    InputError,
    NotUniqueError,
    UnitError,
    UnknownNameError,
    did_you_mean,
)
from llmphys.units import Q_, describe_dimension, ureg

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = ["Bound", "Solution", "elasticities", "solve"]


def _coerce_target(formula: Formula, target: Any) -> float:
    where = f"solve {formula.name}"
    if isinstance(target, pint.Quantity) and getattr(target, "_REGISTRY", None) is not ureg:
        raise InputError(
            f"{where}: the target is a quantity of another pint unit registry; make it with "
            "llmphys.Q_ (llmphys.units.ureg) or give a number"
        )
    if isinstance(target, pint.Quantity):
        try:
            value = float(target.to(formula.unit).magnitude)
        except pint.DimensionalityError:
            got = f"{target.units:~P}" or "dimensionless"
            raise UnitError(
                f"{where}: the target must be in units convertible to '{formula.unit:~P}' "
                f"({describe_dimension(formula.unit)}); got '{got}' "
                f"({describe_dimension(target.units)})",
                target.units,
                formula.unit,
            ) from None
    elif isinstance(target, (int, float, np.floating, np.integer)) and not isinstance(target, bool):
        try:
            value = float(target)
        except OverflowError:
            raise InputError(
                f"{where}: the target is too large for a float64 (above 1.8e308)"
            ) from None
    else:
        raise InputError(
            f"{where}: the target must be a quantity or a number in {formula.unit:~P}; got "
            f"{type(target).__name__} {target!r}"
        )
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"{where}: the target is {value}; give a finite value")
    if value <= 0:
        raise InputError(
            f"{where}: the target must be positive; got {text_number(value)} {formula.unit:~P}"
        )
    return value


def solve(
    formula: Formula | str,
    unknown: str,
    target: Any = None,
    *,
    bound: Bound = "at_most",
    registry: Any = None,
    **given: Any,
) -> Solution:
    """Solve ``formula`` for ``unknown`` so that its value meets ``target``.

    ``bound`` says what the target is: a budget (``"at_most"``, default: the formula's value
    must not exceed it), a requirement (``"at_least"``) or an equality (``"equal"``).
    ``given`` are the other inputs (as for ``formula(**given)``); inputs left out stay symbols
    and the answer is an expression in them.  With ``target=None`` the target stays a symbol
    too.

    Parameters
    ----------
    formula
        A formula or a registry formula's name.
    unknown
        The input to solve for (or an overridable part, such as ``tpot`` inside the
        end-to-end latency).
    target : Quantity, float or None
        The value to meet: a quantity, or a number in the formula's unit (``None``: a
        symbol).
    bound : {"at_most", "at_least", "equal"}
        What the target is: a budget, a requirement or an equality.
    registry : Registry, optional
        Where a formula given by name is looked up (default: the built-in registry).
    **given
        The other inputs, as for a call; inputs left out stay symbols.

    Returns
    -------
    Solution
        The answer (rounded to a whole value where the unknown is a count), how it was
        found, and the worked steps.

    Raises
    ------
    InfeasibleError
        No value of the unknown meets the target (the message says what binds).
    InputError, UnknownNameError
        A bad bound, target or input, or an unknown that is not an input of the formula.

    Examples
    --------
    >>> import llmphys as F
    >>> s = F.solve("total_vram", "seq_len", target=F.Q_(80, "GB"), params=70e9,
    ...             bytes_per_param="int4", layers=80, n_kv_heads=64, head_dim=128,
    ...             kv_bytes="bf16", batch=1, workspace_fraction=0.12)
    >>> print(s.value, s.direction, s.rounding)
    15563 tok largest floor
    """
    from llmphys.engine.formula import Formula

    if isinstance(formula, str):
        if registry is None:
            from llmphys.engine.formula import registry as builtin

            registry = builtin
        formula = registry[formula]
    if not isinstance(formula, Formula):
        raise InputError(f"solve: expected a formula or its name, got {type(formula).__name__}")
    where = f"solve {formula.name}"
    if bound not in _BOUNDS:
        raise InputError(f"{where}: bound must be one of {', '.join(_BOUNDS)}; got {bound!r}")
    if unknown in given:
        raise InputError(f"{where}: {unknown!r} is the unknown; do not also give its value")
    binding = formula.bind(given, partial=True).single(
        where,
        "solve takes single values",
        "leave it out for a symbolic answer, then use .lambdify()",
    )
    keep, converted = binding.keep, dict(binding.values)
    if unknown in formula.overridable_parts():
        # solving for a part (TPOT inside the e2e latency): keep it as a symbol
        keep = keep | {unknown}
        present = {s.name for s in formula.expand(keep).free_symbols}
        unused = [n for n in converted if n not in present]
        if unused:
            raise InputError(
                f"{where}: {', '.join(repr(n) for n in unused)} "
                f"{'is' if len(unused) == 1 else 'are'} not used when solving for the part "
                f"{unknown!r}; drop {'it' if len(unused) == 1 else 'them'}"
            )
    expr_symbols = formula.expand(keep).free_symbols
    candidates = [s.name for s in formula._ordered(expr_symbols) if s.name not in converted]
    if unknown not in candidates:
        known = formula.input_names
        if unknown in known:
            raise InputError(
                f"{where}: {unknown!r} is not used when {', '.join(sorted(keep))} "
                f"{'is' if len(keep) == 1 else 'are'} given"
            )
        raise UnknownNameError(
            f"{where}: {unknown!r} is not an input of {formula.name}"
            f"{did_you_mean(unknown, known)} (inputs: {', '.join(known)})",
            unknown,
        )
    t_value = None if target is None else _coerce_target(formula, target)
    problem = _problem(formula, unknown, keep)
    gloss = formula.registry.glossary
    free = [n for n in candidates if n != unknown]
    if target is None:
        free.append(formula.name)
    if free:
        return _symbolic_answer(formula, unknown, problem, converted, t_value, bound, free, keep)
    values = {s.name: converted[s.name] for s in problem.args[:-1] if s != problem.x}
    entry = gloss[unknown]
    span = Span.of(entry, values)
    x_star, method = _root(problem, values, t_value, entry, span)
    rearranged = _chosen_root(problem, values, t_value, x_star) if x_star is not None else None
    refine = None
    if method == "numeric" and x_star is not None:
        # a max or min that the given values settle (max(n_kv/tp, 1) at given tp) may leave
        # a closed form in the unknown: shown, rearranged with the numbers in, once asked for
        found = x_star

        def refine() -> sympy.Expr | None:
            return _reduced_root(problem, values, t_value, found)
    target_q = Q_(t_value, formula.unit)
    if x_star is None:
        raise InfeasibleError(
            _infeasible_message(formula, unknown, problem, converted, keep, t_value, bound)
        )
    slope = _slope(problem, values, x_star)
    # flat: no slope, or one that is float noise (a derivative of E/min(E, pp) at E < pp
    # cancels to 1e-4 of 1e12 - 1e12): a relative change under 1e-12 for a relative step of 1
    flat = not math.isfinite(slope) or abs(slope) * max(x_star, 0.0) <= 1e-12 * abs(t_value)
    if not flat or (x_star == 0 and slope != 0):
        monotonic = "increasing" if slope > 0 else "decreasing"
    else:  # flat at the target: the answer is where the flat stretch ends
        x_star, monotonic = _off_the_plateau(
            formula, unknown, problem, values, t_value, x_star, bound, entry, span
        )
    direction = _direction(monotonic, bound)
    crossing = x_star  # where the formula meets the target, reported as the exact answer
    x_star = _within(problem, values, t_value, x_star, bound, direction, where, entry, span)
    pieces = not_unique(problem, values, t_value, bound, entry, span)
    if pieces is not None:
        shown = "; ".join(
            f"{text_number(a, 4, exact=entry.integer)} to {text_number(b, 4, exact=entry.integer)}"
            for a, b in pieces
        )
        what = "crosses the target" if bound == "equal" else f"is {_RELATION[bound]} the target"
        raise NotUniqueError(
            f"{where}: the answer is not unique: {formula.name} is not monotonic in {unknown}, "
            f"and it {what} ({format_quantity(target_q, sig=4)}) for {unknown} in {shown} "
            f"(over {unknown}'s usual range); fix the other inputs, or choose within a range"
        )
    answer, rounding = _round(entry, x_star, direction)
    whole = span if entry.integer else None  # a whole answer stays within its span
    answer, rounding = safe_answer(
        problem, values, answer, t_value, bound, direction, rounding, whole
    )
    if entry.integer and answer > span.upper:
        at_most = _value(problem, values, span.upper)
        raise InfeasibleError(
            f"{where}: even {unknown} = {text_number(span.upper, 4, exact=True)} gives "
            f"{formula.name} = {format_quantity(Q_(at_most, formula.unit), sig=4)}, "
            f"{'above' if at_most > t_value else 'below'} {format_quantity(target_q, sig=4)}"
            f", and {unknown} can be no larger ({_limits(entry, span)})"
        )
    if entry.integer and answer < span.lower:
        least = max(span.lower, 1.0)
        smallest = _value(problem, values, least)
        raise InfeasibleError(
            f"{where}: even {unknown} = {text_number(least, 4, exact=True)} gives "
            f"{formula.name} = {format_quantity(Q_(smallest, formula.unit), sig=4)}, "
            f"{'above' if smallest > t_value else 'below'} {format_quantity(target_q, sig=4)}: "
            + (
                f"no whole {unknown} meets the target"
                if not span.why_lower
                else f"and {unknown} can be no smaller ({_limits(entry, span, 'at least')})"
            )
        )
    check_value = _value(problem, values, answer)
    check = Q_(check_value, formula.unit)
    _assert_bound(formula, unknown, answer, check_value, t_value, bound, rounding)
    return Solution(
        formula=formula,
        unknown=unknown,
        target=target_q,
        bound=bound,
        method=method,
        rearranged=rearranged,
        refine=refine,
        exact=Q_(crossing, entry.pint_unit),
        value=Q_(int(answer) if entry.integer else answer, entry.pint_unit),
        direction=direction,
        monotonic=monotonic,
        rounding=rounding,
        check=check,
        given={k: float(v) for k, v in converted.items()},
        keep=keep,
    )


def _limits(entry: Any, span: Span, side: str = "at most") -> str:
    """Why the unknown's range ends where it does on one ``side``, as a user reads it."""
    given = span.why_upper if side == "at most" else span.why_lower
    reasons = [f"{side} {why}" for why in given]
    if entry.domain in ("fraction", "unit_interval") and side == "at most":
        interval = "(0, 1]" if entry.domain == "fraction" else "[0, 1]"
        reasons.insert(0, f"a fraction in {interval} ({entry.meaning})")
    return "; ".join(reasons) or entry.meaning


def _within(
    problem: _Problem,
    values: dict[str, float],
    target: float,
    x_star: float,
    bound: Bound,
    direction: str,
    where: str,
    entry: Any,
    span: Span,
) -> float:
    """``x_star`` when the unknown may take it; else the end of its range when that end meets
    the bound (the largest causal factor, 1, that keeps a budget a flat max settles; a root
    1 + 1e-15 from a singular closed form), else the refusal saying what limits it."""
    # a whole answer just below its smallest value is rounding's to settle (0.71 GPUs: 1)
    lowest = span.lower - 1 if entry.integer else span.lower
    for end, beyond, towards, side in (
        (span.upper, x_star > span.upper * (1 + 1e-12), "largest", "at most"),
        (span.lower, x_star < lowest * (1 - 1e-12), "smallest", "at least"),
    ):
        if not beyond:
            continue
        at_end = _value(problem, values, end)
        on_target = abs(at_end - target) <= _ROOT_RTOL * abs(target)
        meets = at_end <= target if bound == "at_most" else at_end >= target
        if on_target or (direction == towards and meets):
            return end
        raise InfeasibleError(
            f"{where}: it would need {entry.name} = {text_number(x_star, 4)}, but {entry.name} "
            f"is {_limits(entry, span, side)}"
        )
    return x_star


def _off_the_plateau(
    formula: Formula,
    unknown: str,
    problem: _Problem,
    values: dict[str, float],
    target: float,
    x_star: float,
    bound: Bound,
    entry: Any,
    span: Span,
) -> tuple[float, str]:
    """:func:`~llmphys.engine.roots.plateau_edge`, its refusals worded for the user."""
    where = f"solve {formula.name} for {unknown}"
    value = format_quantity(Q_(target, formula.unit), sig=4)
    try:
        return plateau_edge(problem, values, target, x_star, bound, entry, span)
    except FlatError as flat:
        lo, hi = (text_number(e, 4, exact=entry.integer) for e in flat.edges)
        if flat.kind == "constant":
            steps = problem.expr.has(sympy.ceiling, sympy.floor)
            raise NotUniqueError(
                f"{where}: {formula.name} does not change with {unknown} at these values (it "
                f"is {value} for every {unknown}"
                + (", or rounds with ceiling or floor so that it is a staircase" if steps else "")
                + f"): every {unknown} or none meets the target, not one; give {unknown} or "
                "change the other inputs"
            ) from None
        if flat.kind == "valley":
            raise NotUniqueError(
                f"{where}: {formula.name} is flat at {value} around {unknown} = "
                f"{text_number(x_star, 4)} and moves the same way on both sides: it is not "
                f"monotonic in {unknown}, so the answer is not one value; sweep {unknown}"
            ) from None
        if flat.kind == "interval":
            raise NotUniqueError(
                f"{where}: every {unknown} from {lo} to {hi} gives {formula.name} = {value} "
                "exactly (it is flat there): the answer is not one value; ask for at most or "
                "at least the target"
            ) from None
        raise NotUniqueError(
            f"{where}: {formula.name} stays at {value} for every {unknown} from {lo} to {hi}: "
            f"there is no {'largest' if hi == 'inf' else 'smallest'} {unknown}"
        ) from None


def _symbolic_answer(
    formula: Formula,
    unknown: str,
    problem: _Problem,
    converted: dict[str, Any],
    target: float | None,
    bound: Bound,
    free: list[str],
    keep: frozenset[str],
) -> Solution:
    gloss = formula.registry.glossary
    if not problem.roots:
        raise InfeasibleError(
            f"solve {formula.name} for {unknown}: no closed form, so a symbolic answer in "
            f"{', '.join(free)} is not available; give their values for a numeric answer"
        )
    subs: dict[sympy.Symbol, sympy.Expr] = {}
    for name, value in converted.items():
        sym = gloss.symbol(name) if gloss[name].kind == "input" else formula.registry[name].symbol
        subs[sym] = (
            sympy.Float(value) if not float(value).is_integer() else sympy.Integer(int(value))
        )
    if target is not None:
        subs[formula.symbol] = sympy.Float(target)
    # pick the root that is positive at the glossary defaults of the free inputs
    probe = dict(subs)
    for name in free:
        if name == formula.name:
            default = float(
                formula(**{s.name: gloss[s.name].default for s in formula.inputs}).magnitude
            )
            probe[formula.symbol] = sympy.Float(default)
        else:
            probe[gloss.symbol(name)] = sympy.Float(gloss[name].default or 1.0)
    chosen = None
    for root in problem.roots:
        value = root.xreplace(probe).evalf()
        if value.is_real and value > 0:
            chosen = root
            break
    if chosen is None:
        chosen = problem.roots[0]
    expression = sympy.simplify(chosen.xreplace(subs))
    slope_expr = sympy.diff(problem.expr, problem.x)
    monotonic = None
    try:
        at = dict(probe)
        at[problem.x] = chosen.xreplace(probe)
        slope = float(slope_expr.xreplace(at).evalf())
        monotonic = "increasing" if slope > 0 else "decreasing" if slope < 0 else None
    except (TypeError, ValueError):
        monotonic = None
    direction = _direction(monotonic, bound) if monotonic else "exact"
    return Solution(
        formula=formula,
        unknown=unknown,
        target=None if target is None else Q_(target, formula.unit),
        bound=bound,
        method="symbolic",
        rearranged=chosen,
        expression=expression,
        direction=direction,
        monotonic=monotonic,
        free=free,
        given={k: float(v) for k, v in converted.items()},
        note="whole-number rounding applies once the free inputs are given",
        keep=keep,
    )
