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
from llmphys.engine.roots import (
    _args,
    _assert_bound,
    _chosen_root,
    _direction,
    _Problem,
    _problem,
    _reduced_root,
    _root,
    _round,
    _slope,
    not_unique,
    safe_whole,
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
    x_star, method = _root(formula, problem, values, t_value, unknown)
    rearranged = _chosen_root(problem, values, t_value, x_star) if x_star is not None else None
    if method == "numeric" and x_star is not None:
        # a max or min that the given values settle (max(n_kv/tp, 1) at given tp) may leave
        # a closed form in the unknown: show it, rearranged with the numbers in
        reduced = _reduced_root(problem, values, t_value, x_star)
        if reduced is not None:
            rearranged, method = reduced, "symbolic"
    entry = gloss[unknown]
    target_q = Q_(t_value, formula.unit)
    if x_star is None:
        raise InfeasibleError(
            _infeasible_message(formula, unknown, problem, converted, keep, t_value, bound)
        )
    slope = _slope(problem, values, x_star)
    if slope == 0 or not math.isfinite(slope):
        raise InfeasibleError(
            f"{where}: {formula.name} does not change with {unknown} here (its derivative is "
            f"{slope}); no unique {unknown} meets the target"
        )
    monotonic = "increasing" if slope > 0 else "decreasing"
    direction = _direction(monotonic, bound)
    if entry.domain in ("fraction", "unit_interval") and x_star > 1 + 1e-12:
        interval = "(0, 1]" if entry.domain == "fraction" else "[0, 1]"
        raise InfeasibleError(
            f"{where}: it would need {unknown} = {text_number(x_star, 4)}, but {unknown} is a "
            f"fraction in {interval} ({entry.meaning})"
        )
    pieces = not_unique(problem, values, t_value, bound, entry)
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
    if entry.integer:
        least = 0.0 if entry.domain == "nonnegative" else 1.0
        answer, rounding = safe_whole(
            problem, values, answer, t_value, bound, direction, rounding, least
        )
    if entry.integer and answer < 1 and entry.domain != "nonnegative":
        smallest = float(problem.f(*_args(problem, values, 1.0)))
        raise InfeasibleError(
            f"{where}: even {unknown} = 1 gives {formula.name} = "
            f"{format_quantity(Q_(smallest, formula.unit), sig=4)}, "
            f"{'above' if smallest > t_value else 'below'} {format_quantity(target_q, sig=4)}: "
            f"no whole {unknown} meets the target"
        )
    check_value = float(problem.f(*_args(problem, values, answer)))
    check = Q_(check_value, formula.unit)
    _assert_bound(formula, unknown, answer, check_value, t_value, bound, rounding)
    return Solution(
        formula=formula,
        unknown=unknown,
        target=target_q,
        bound=bound,
        method=method,
        rearranged=rearranged,
        exact=Q_(x_star, entry.pint_unit),
        value=Q_(int(answer) if entry.integer else answer, entry.pint_unit),
        direction=direction,
        monotonic=monotonic,
        rounding=rounding,
        check=check,
        given={k: float(v) for k, v in converted.items()},
        keep=keep,
    )


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
