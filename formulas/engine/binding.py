"""Binding values to a formula's inputs: the one path every call, derivation, solve, sweep and
widget takes from what a user gives to float64 numbers in glossary units.

:func:`bind` checks the names (an unknown input suggests the closest; an input made unused by
a part given directly is refused), finds the parts given by value, says what is missing (an
error unless ``partial``), and converts every value (:func:`llmphys.engine.coercion.coerce`:
units, domains, whole numbers, named precisions).  The :class:`Binding` it returns evaluates
through the formula's compiled function, once per set of parts given.

>>> import llmphys as F
>>> b = F.kv_cache_bytes.bind({"layers": 80, "n_kv_heads": 8, "head_dim": 128,
...                            "kv_bytes": "bf16", "seq_len": 32768, "batch": 1})
>>> print(b.quantity().to("GiB"))
10.0 GiB
>>> F.kv_cache_bytes.bind({"layers": 80}, partial=True).missing
('n_kv_heads', 'head_dim', 'seq_len', 'batch', 'kv_bytes')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pint

from llmphys.engine.coercion import coerce
from llmphys.engine.relations import check_relations
from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.units import Q_

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = ["Binding", "accepted", "bind", "finite", "preset_values"]


@dataclass(frozen=True)
class Binding:
    """Values bound to ``formula``: ``keep`` names the parts given directly, ``values`` holds
    float64 numbers (or arrays) in glossary units, ``missing`` the inputs left free."""

    formula: Formula
    keep: frozenset[str]
    values: Mapping[str, float | np.ndarray]
    missing: tuple[str, ...] = ()

    def function(self) -> tuple[Callable[..., Any], tuple[str, ...]]:
        """The compiled function for these parts given, and its argument names.

        Returns
        -------
        tuple
            The numpy function, and the names of its positional arguments (a tuple of str).
        """
        return self.formula.numeric(self.keep)

    def raw(self) -> Any:
        """The value as float64 (a float, or an array of the broadcast shape), in the
        formula's unit.

        Returns
        -------
        float or numpy.ndarray
            The formula's value.

        Raises
        ------
        InputError
            An input is missing, or the result is not finite or negative.
        """
        if self.missing:
            raise InputError(f"formula '{self.formula.name}': missing input {self.missing[0]!r}")
        fn, names = self.function()
        return finite(self.formula, fn(*(self.values[n] for n in names)), self.values)

    def quantity(self) -> pint.Quantity:
        """The value as a pint quantity in the formula's unit.

        Returns
        -------
        Quantity
            :meth:`raw` with the formula's unit.
        """
        return Q_(self.raw(), self.formula.unit)

    def single(self, where: str, what: str, advice: str) -> Binding:
        """This binding, refused when a value is an array (derivations and solves show single
        values).

        Parameters
        ----------
        where
            Who refuses (``"solve kv_cache_bytes"``).
        what
            What it takes (``"solve takes single values"``).
        advice
            What to do instead.  The refusal reads
            ``{where}: {what}; argument 'x' is an array ({advice})``.

        Returns
        -------
        Binding
            This binding.

        Raises
        ------
        InputError
            A value is an array.
        """
        for name, value in self.values.items():
            if isinstance(value, np.ndarray):
                raise InputError(f"{where}: {what}; argument '{name}' is an array ({advice})")
        return self


def bind(formula: Formula, values: Mapping[str, Any], *, partial: bool = False) -> Binding:
    """Check and convert ``values`` for ``formula`` (see the module docstring).

    Parameters
    ----------
    formula
        The formula the values are for.
    values
        Input (or overridable part) name -> value: a quantity, a plain number or array in the
        symbol's glossary unit, or a precision name.
    partial
        Allow missing inputs (derivations and solving).

    Returns
    -------
    Binding
        The values as float64 in glossary units, the parts given, the inputs left free.

    Raises
    ------
    UnknownNameError
        A name that is not an input (the closest are suggested).
    InputError
        A missing or unused input, a value out of range, or values that contradict each other.
    UnitError
        A quantity of the wrong dimension.
    """
    where = f"formula '{formula.name}'"
    overridable = formula.overridable_parts()
    known = set(formula.input_names) | set(overridable)
    for name in values:
        if name not in known:
            raise UnknownNameError(
                f"{where}: unknown input {name!r}{did_you_mean(name, known)} "
                f"(inputs: {', '.join(formula.input_names)})",
                name,
            )
    keep = frozenset(n for n in values if n in overridable)
    needed = formula.needed(keep)
    needed_names = {s.name for s in needed}
    unused = [n for n in values if n not in needed_names and n not in keep]
    if unused:
        by = ", ".join(sorted(keep))
        raise InputError(
            f"{where}: {', '.join(repr(n) for n in unused)} "
            f"{'is' if len(unused) == 1 else 'are'} not used when {by} "
            f"{'is' if len(keep) == 1 else 'are'} given; drop "
            f"{'it' if len(unused) == 1 else 'them'}"
        )
    missing = [s for s in needed if s.name not in values]
    if missing and not partial:
        described = ", ".join(
            f"'{s.name}' ({formula.symbol_entry(s)[1]}: {_meaning(formula, s.name)})"
            for s in missing
        )
        raise InputError(f"{where}: missing input{'s' if len(missing) > 1 else ''} {described}")
    gloss = formula.registry.glossary
    converted = {name: coerce(gloss[name], value, where) for name, value in values.items()}
    check_relations(converted, where)
    return Binding(formula, keep, converted, tuple(s.name for s in missing))


def accepted(formula: Formula, values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` ``formula`` takes: parts given directly, and the inputs still
    needed once they are (the rest of a larger pool of values dropped)."""
    overridable = formula.overridable_parts()
    given = frozenset(k for k in values if k in overridable)
    wanted = {s.name for s in formula.needed(given)} | given
    return {k: v for k, v in values.items() if k in wanted}


def preset_values(
    formula: Formula, values: Mapping[str, Any], given: Iterable[str] = ()
) -> dict[str, Any]:
    """What a preset knows for ``formula``'s inputs: the entries of ``values`` it still needs
    when the parts named in ``given`` are given directly (a value may be a callable, called
    only when needed: an accelerator's peak at a precision it may not have).  The one filter
    behind ``Model``, ``Accelerator`` and ``Interconnect.inputs_for``; a deployment's inputs
    come from a :class:`~llmphys.Scenario`."""
    needed = formula.needs(given)
    return {n: (v() if callable(v) else v) for n, v in values.items() if n in needed}


def finite(formula: Formula, result: Any, values: Mapping[str, Any]) -> Any:
    """``result`` when every value of it is finite and, for a built-in formula, not negative
    (no byte count, time, FLOP count or rate of the physics is); else an error naming the
    inputs: a value too large for float64, a division by zero, or inputs that contradict each
    other (more experts per token than experts) never come back as a number."""
    bad_sign = formula.registry.parent is None and bool(np.any(np.asarray(result) < 0))
    if np.all(np.isfinite(result)) and not bad_sign:
        return result
    given = ", ".join(
        f"{k}={v:.6g}" if isinstance(v, float) else f"{k}=array" for k, v in values.items()
    )
    if bad_sign:
        raise InputError(
            f"formula '{formula.name}': the result is negative for {given}: the inputs "
            "contradict each other (e.g. more experts per token than experts); check them"
        )
    raise InputError(
        f"formula '{formula.name}': the result is not a finite number for {given} (an input "
        "too large, or a division by zero); check the inputs"
    )


def _meaning(formula: Formula, name: str) -> str:
    entry = formula.registry.glossary[name]
    unit = entry.unit_text
    return entry.meaning + (f", in {unit}" if unit else "")
