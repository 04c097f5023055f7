"""Solve every registry formula for every input it takes (issue 16): the answer meets the bound
and is tight, or the refusal is one the question deserves.

For each (formula, input) pair, two questions whose answer is known to exist, asked at fixed
points (deterministic: the same cases on every run):

* at the glossary defaults, the target is the formula's own value there, so the given value
  of the unknown meets it: the solver must answer (a value, or "not unique" when many do);
* at a random valid point (seeded by the pair's name), a target 37 % above or 29 % below the
  value there, with the other bound: an answer, or a refusal saying why none exists.

Every answer must meet its bound when the formula is evaluated there (independently of the
solver's own check), and be tight: a whole answer's next whole value, or a real answer moved
by one part in a million, misses it.  A question at its own value is never called infeasible.
Counts are reported by the last test (run the module to see them).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import pytest

import llmphys as F
from llmphys.errors import InfeasibleError, InputError, LlmphysError, NotUniqueError
from llmphys.units import Q_

from support import HangError, defaults_for, time_limit

ALL = sorted(F.registry)
STATS: Counter[str] = Counter()
SECONDS = 30  # one solve (a first closed-form search included) longer than this is a hang
NOISE = 8.9e-16  # four units in the last place: nearer than this, two values are a tie


def point(f: F.Formula, rng: random.Random) -> dict[str, float]:
    """A random valid point: each input log-uniform over its usual range (whole where it
    must be), switches 0 or 1, and no contradiction between inputs (k <= E)."""
    values = {}
    for name in f.input_names:
        entry = F.glossary[name]
        if entry.integer and entry.domain == "unit_interval":
            values[name] = float(rng.choice([0, 1]))
            continue
        lo, hi = entry.range
        lo = max(lo, 1.0) if entry.integer else max(lo, 1e-3)
        if entry.domain in ("fraction", "unit_interval"):
            lo, hi = max(lo, 0.01), min(hi, 1.0)
        if hi / lo > 100:
            x = 10 ** rng.uniform(math.log10(lo), math.log10(hi))
        else:
            x = rng.uniform(lo, hi)
        values[name] = float(round(x)) if entry.integer else x
    if values.get("experts_per_token", 0) > values.get("n_experts", math.inf):
        values["experts_per_token"] = values["n_experts"]
    return values


def _meets(value: float, target: float, bound: str) -> bool:
    """Whether ``value`` meets the bound, a tie within float noise counting as met."""
    slack = NOISE * abs(target)
    return value <= target + slack if bound == "at_most" else value >= target - slack


def _misses(value: float, target: float, bound: str) -> bool:
    """Whether ``value`` misses the bound by more than float noise (NaN: outside the domain)."""
    if not math.isfinite(value):
        return True
    slack = NOISE * abs(target)
    return value > target + slack if bound == "at_most" else value < target - slack


def ask(f: F.Formula, unknown: str, values: dict[str, float], bound: str, nudge: float) -> None:
    """One question, checked; the outcome is counted in :data:`STATS`."""
    where = (f.name, unknown, bound, nudge, values)
    try:
        target = f(**values).magnitude * nudge
    except InputError as exc:  # a random point whose inputs contradict each other
        assert "contradict" in str(exc) or "exceed" in str(exc), where
        STATS["contradictory point"] += 1
        return
    if not target > 0:  # zero by construction (a tied model's separate head)
        STATS["zero target"] += 1
        return
    given = {k: v for k, v in values.items() if k != unknown}
    STATS["cases"] += 1
    try:
        with time_limit(SECONDS, f"solve {f.name} for {unknown}"):
            s = F.solve(f, unknown, target=Q_(target, f.unit), bound=bound, **given)
    except HangError:
        STATS["hangs"] += 1
        raise
    except NotUniqueError:
        STATS["not unique"] += 1
        return
    except InfeasibleError as exc:
        assert nudge != 1.0, (f"called infeasible at its own value: {exc}", where)
        STATS["infeasible"] += 1
        return
    except LlmphysError as exc:
        pytest.fail(f"unexpected {type(exc).__name__}: {exc} at {where}")
    entry = F.glossary[unknown]
    answer = s.value.to(entry.pint_unit).magnitude
    got = f(**given, **{unknown: answer}).magnitude
    assert _meets(got, target, bound), ("misses the bound", got, target, where)
    beyond = _beyond(entry, answer, s.direction)
    if beyond is not None:
        try:
            past = f(**given, **{unknown: beyond}).magnitude
        except InputError as exc:  # past what the other inputs allow (pp above layers), or
            # past a precision's widest element (FP64's 8 B)
            assert "contradict" in str(exc) or "the widest format" in str(exc), (str(exc), where)
            past = math.nan
        assert _misses(past, target, bound) or abs(past - target) <= NOISE * abs(target), (
            "not tight",
            answer,
            beyond,
            past,
            target,
            where,
        )
    STATS["answers"] += 1


def _beyond(entry: Any, answer: float, direction: str) -> float | None:
    """The next value past ``answer`` in the answer's direction, if the unknown allows it."""
    if direction not in ("largest", "smallest"):
        return None
    sign = 1 if direction == "largest" else -1
    if entry.integer:
        nxt = answer + sign
        least = 0 if entry.zero_allowed else 1
        if nxt < least or (entry.domain == "unit_interval" and nxt > 1):
            return None
        return nxt
    nxt = answer * (1 + sign * 1e-6)
    if entry.domain in ("fraction", "unit_interval") and (nxt > 1 or answer >= 1):
        return None
    return nxt if nxt > 0 else None


@pytest.mark.parametrize("name", ALL)
def test_every_input_of(name):
    f = F.registry[name]
    rng = random.Random(name)
    defaults = defaults_for(f)
    for i, unknown in enumerate(f.input_names):
        bound, other = ("at_most", "at_least") if i % 2 == 0 else ("at_least", "at_most")
        ask(f, unknown, defaults, bound, 1.0)
        ask(f, unknown, point(f, rng), other, rng.choice([1.37, 0.71]))


def test_the_counts():
    """Runs last in this module: how many questions were asked and how each ended."""
    if STATS["cases"] == 0:
        pytest.skip("run with the whole module")
    assert STATS["hangs"] == 0
    assert STATS["answers"] > 0.75 * STATS["cases"]  # most questions have an answer
    print(
        f"\nsolve, every formula x every input: {STATS['cases']} questions, "
        f"{STATS['answers']} answers (each meets its bound and is tight), "
        f"{STATS['not unique']} not unique, {STATS['infeasible']} infeasible at a moved "
        f"target, 0 wrong, 0 foreign, {STATS['hangs']} hangs "
        f"({STATS['contradictory point']} contradictory and {STATS['zero target']} zero-valued "
        "points skipped)"
    )
