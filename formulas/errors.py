"""Every error llmphys raises on purpose.

One base class, :class:`LlmphysError`.  Each concrete error also subclasses the built-in (or
pint) error a caller would naturally catch, so ``except ValueError`` or
``except pint.DimensionalityError`` keeps working.  Messages say what was wrong and what to do;
tests check them word for word.

This module imports nothing from llmphys: every other layer may import it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pint.errors import DimensionalityError

__all__ = [
    "ConfigError",
    "FormulaDefinitionError",
    "InfeasibleError",
    "InputError",
    "LlmphysError",
    "UnitError",
    "UnknownNameError",
    "UnsafeFormulaError",
    "closest",
]


class LlmphysError(Exception):
    """Base class of every error llmphys raises on purpose."""


class InputError(LlmphysError, ValueError):
    """A value given to a formula is missing, malformed or outside its domain."""


class UnknownNameError(LlmphysError, KeyError):
    """A name (formula, symbol, model, accelerator) that does not exist.

    The message suggests the closest existing names.  ``str()`` gives the plain message
    (a bare ``KeyError`` would wrap it in quotes).
    """

    def __init__(self, message: str, name: str = "", suggestions: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.suggestions = list(suggestions)

    def __str__(self) -> str:
        return self.message


class FormulaDefinitionError(LlmphysError, ValueError):
    """A formula is malformed (unknown symbol, bad composition) and is refused when defined."""


class UnsafeFormulaError(LlmphysError, ValueError):
    """Formula text uses a construct outside the whitelist; nothing was evaluated."""


class InfeasibleError(LlmphysError, ValueError):
    """An inverse question has no answer; the message says which term makes it impossible."""


class NotUniqueError(InfeasibleError):
    """An inverse question has more than one answer: the formula is not monotonic in the
    unknown, and the message lists the ranges that meet the target."""


class ConfigError(LlmphysError, ValueError):
    """A model config (HF ``config.json``) is malformed or of an unsupported family."""


class UnitError(LlmphysError, DimensionalityError):
    """Dimensions (or scales) that do not match.

    Subclasses pint's :class:`~pint.errors.DimensionalityError` (itself a ``TypeError``), so code
    catching pint's error catches ours.  ``terms`` lists ``(term, unit, dimension)`` for each
    offending term when the error comes from checking an expression.
    """

    def __init__(
        self,
        message: str,
        units1: object = "",
        units2: object = "",
        terms: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        super().__init__(units1, units2)
        self.message = message
        self.terms = list(terms)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # keep pickling (used by multiprocessing, pytest-xdist) working
        return self.__class__, (self.message, self.units1, self.units2, self.terms)


#: the similarity (difflib's ratio) at which a name counts as close
_CLOSE = 0.6


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``name`` (case-insensitive), best first.

    Only near-ties of the best match are kept, so a clear typo gets one suggestion; a name
    contained in a candidate ("70b" in "llama-3.1-70b") also counts as close.

    Parameters
    ----------
    name
        What was typed.
    candidates
        The names it may have meant.
    n
        The most suggestions returned.

    Returns
    -------
    list of str
        Up to ``n`` candidates, closest first (empty when none is close).
    """
    key = name.lower()
    scored = []
    for c in dict.fromkeys(candidates):
        if len(key) > (2 / _CLOSE - 1) * len(c):
            # a ratio 2M / (len(a) + len(b)) >= _CLOSE needs len(a) <= (2 / _CLOSE - 1) len(b),
            # containment len(a) <= len(b): nothing to compare (a huge name costs no time)
            continue
        ratio = difflib.SequenceMatcher(None, key, c.lower()).ratio()
        if key and key in c.lower():
            ratio = max(ratio, 0.8)
        if ratio >= _CLOSE:
            scored.append((ratio, c))
    if not scored:
        return []
    scored.sort(key=lambda rc: -rc[0])
    best = scored[0][0]
    return [c for ratio, c in scored if ratio >= best - 0.05][:n]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x' or 'y'?"`` or an empty string when nothing is close."""
    hits = closest(name, candidates)
    if not hits:
        return ""
    quoted = [f"'{h}'" for h in hits]
    if len(quoted) == 1:
        return f"; did you mean {quoted[0]}?"
    return f"; did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"
