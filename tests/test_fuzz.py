"""Every registry formula against every class of bad value (issue 16): through a call, the
unit-aware compiled function, derive, solve and a Scenario sweep.  Each case must end in an
``llmphys`` error or a finite, valid number: never a foreign exception, never NaN or inf,
never a negative size, never a hang (a per-case time limit).

The cases are deterministic (every formula x every input x every class for the call paths;
one input per class for derive and solve) so that the counts are the same on every run; the
counts are checked at the end and printed with ``-s``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pint
import pytest

import llmphys as F
from llmphys.errors import LlmphysError

from support import HangError, defaults_for, time_limit

ALL = sorted(F.registry)
FOREIGN = pint.UnitRegistry()

#: the classes of bad values, each a function of the symbol's glossary entry
BAD: dict[str, Callable[[Any], Any]] = {
    "negative": lambda e: -abs(float(e.default or 1)),
    "zero": lambda e: 0.0,
    "tiny": lambda e: 1e-300,
    "huge": lambda e: 1e300,
    "nan": lambda e: math.nan,
    "inf": lambda e: math.inf,
    "-inf": lambda e: -math.inf,
    "complex": lambda e: complex(float(e.default or 1), 1.0),
    "bool": lambda e: True,
    "text": lambda e: "twelve",
    "none": lambda e: None,
    "wrong unit": lambda e: F.Q_(1, "second" if e.pint_unit != F.Q_(1, "s").units else "byte"),
    "foreign registry": lambda e: foreign(float(e.default or 1), e.pint_unit),
    "array with nan": lambda e: np.array([float(e.default or 1), math.nan]),
    "array of bools": lambda e: np.array([True, False]),
    "huge int": lambda e: 10**400,
}


def foreign(value: float, unit: pint.Unit) -> pint.Quantity:
    """The value as a quantity of another pint registry (its unit if that registry knows it:
    llmphys's token, parameter and FLOP are its own)."""
    try:
        return FOREIGN.Quantity(value, str(unit))
    except pint.UndefinedUnitError:
        return FOREIGN.Quantity(value)


STATS: Counter[str] = Counter()
SECONDS = 10  # a derive or solve that takes longer is a hang


def valid(result: Any, where: tuple) -> None:
    """A result must be a finite number (or array of them), not negative for a built-in."""
    magnitude = getattr(result, "magnitude", result)
    if hasattr(result, "value") and hasattr(result, "unknown"):  # a Solution
        magnitude = result.value.magnitude
    elif hasattr(result, "result") and hasattr(result, "steps"):  # a Derivation
        magnitude = result.result.magnitude
    elif hasattr(result, "data_vars"):  # a sweep's Dataset
        magnitude = [result[v].values for v in result.data_vars]
    values = np.asarray(magnitude, dtype=float)
    assert np.all(np.isfinite(values)), ("not finite", where, magnitude)
    assert np.all(values >= 0), ("negative", where, magnitude)  # no size, time or rate is
    STATS["numbers"] += 1


def outcome(run: Callable[[], Any], where: tuple, limit: int | None = None) -> None:
    """Run one case: an llmphys error or a valid number, nothing else."""
    STATS["cases"] += 1
    try:
        if limit is None:
            result = run()
        else:
            with time_limit(limit):
                result = run()
    except HangError:
        STATS["hangs"] += 1
        pytest.fail(f"hang (> {limit} s): {where}")
    except LlmphysError:
        STATS["errors"] += 1
        return
    except Exception as exc:  # the point: nothing foreign escapes
        STATS["foreign"] += 1
        pytest.fail(f"foreign {type(exc).__name__}: {exc} at {where}")
    valid(result, where)


@pytest.mark.parametrize("name", ALL)
def test_bad_values_through_a_call_and_the_compiled_function(name):
    f = F.registry[name]
    good = defaults_for(f)
    fn = f.lambdify(units=True)
    for symbol in f.input_names:
        entry = F.glossary[symbol]
        for kind, make in BAD.items():
            values = {**good, symbol: make(entry)}
            outcome(lambda v=values: f(**v), (name, symbol, kind, "call"))
            outcome(lambda v=values: fn(**v), (name, symbol, kind, "lambdify"))


@pytest.mark.parametrize("name", ALL)
def test_bad_values_through_derive_and_solve(name):
    f = F.registry[name]
    good = defaults_for(f)
    inputs = f.input_names
    target = f(**good)
    for i, (kind, make) in enumerate(BAD.items()):
        symbol = inputs[i % len(inputs)]
        values = {**good, symbol: make(F.glossary[symbol])}
        outcome(lambda v=values: f.derive(**v), (name, symbol, kind, "derive"), SECONDS)
        if len(inputs) > 1:
            unknown = inputs[(i + 1) % len(inputs)]
            given = {k: v for k, v in values.items() if k != unknown}
            outcome(
                lambda u=unknown, g=given: F.solve(f, u, target=target, **g),
                (name, unknown, symbol, kind, "solve"),
                SECONDS,
            )
        if kind == "none":
            continue  # no target is the symbolic solve, not a bad value
        # and a bad target
        unknown = inputs[i % len(inputs)]
        given = {k: v for k, v in good.items() if k != unknown}
        bad_target = make(F.glossary[unknown])
        outcome(
            lambda u=unknown, t=bad_target, g=given: F.solve(f, u, target=t, **g),
            (name, unknown, kind, "solve target"),
            SECONDS,
        )


SWEEPABLE = ["batch", "prompt_len", "utilization", "bytes_per_param", "tp"]


@pytest.mark.parametrize("axis", SWEEPABLE)
def test_bad_values_through_a_scenario_sweep(axis):
    s = F.Scenario("llama-3.1-8b", "h100-sxm")
    entry = F.glossary["new_tokens" if axis == "output_len" else axis]
    for kind, make in BAD.items():
        bad = make(entry)
        outcome(lambda b=bad: s.sweep("ttft", "tpot", **{axis: [1, b]}), (axis, kind, "sweep"))


def test_the_counts(capsys):
    """Runs last in this module: every case ended in an llmphys error or a valid number."""
    if STATS["cases"] == 0:
        pytest.skip("run with the whole module")
    assert STATS["foreign"] == STATS["hangs"] == 0
    assert STATS["errors"] + STATS["numbers"] == STATS["cases"]
    with capsys.disabled():
        print(
            f"\nfuzz: {STATS['cases']:,} cases over {len(ALL)} formulas and {len(BAD)} classes "
            f"of bad value: {STATS['errors']:,} llmphys errors, {STATS['numbers']:,} valid "
            f"numbers, 0 foreign exceptions, 0 hangs"
        )
