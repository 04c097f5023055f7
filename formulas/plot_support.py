"""What :mod:`llmphys.plots` draws with: the pool of inputs of a plot (given values, then a
:class:`~llmphys.Scenario` of the model and accelerator, else the glossary's defaults), a
formula's compiled evaluation, and display helpers (unit factors from pint, mathtext symbols,
axes and titles).  No physics here: the plot modules use it as a namespace
(``from llmphys import plot_support as support``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pint

from llmphys.engine.coercion import coerce
from llmphys.engine.docs import shared_sections
from llmphys.engine.formula import Formula, registry
from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.units import Q_, ureg

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


#: what the plots share (llmphys.plots and the modules it re-exports), described once: their
#: arguments (each docstring's ``{params}``) and what they return and raise (``{drawn}``),
#: written in at import
documented = shared_sections(
    {
        "model": """model : str or Model, optional
            A model preset's name or a :class:`~llmphys.presets.Model`: its architecture fills
            the inputs (with ``hardware``, a :class:`~llmphys.Scenario`'s values).""",
        "hardware": """hardware : str or Accelerator, optional
            An accelerator preset's name or an :class:`~llmphys.presets.Accelerator`.""",
        "precision": "precision\n    The compute precision (picks the accelerator's dense peak).",
        "batch": """batch : list of float, optional
            The batches drawn (default: the glossary range of ``batch``, doubling).""",
        "ax": """ax : matplotlib.axes.Axes, optional
            The axes to draw on (default: a new figure's).""",
        "values": """**values
            Any other input of the formulas (quantities, numbers in glossary units, precision
            names); given values win over the presets'.""",
    },
    drawn="""Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Raises
        ------
        InputError, UnknownNameError
            An input no formula of the plot takes, or a value the formulas refuse.""",
)


# --------------------------------------------------------------------------- inputs
class Inputs:
    """One pool of values for several formulas: the given ones, then a
    :class:`~llmphys.Scenario` of the model and accelerator (when either is given: the one
    place inputs are resolved), else the glossary's defaults.  Remembers which given names
    were used, so a typo is refused."""

    def __init__(
        self, values: Mapping[str, Any], model: Any, hardware: Any, precision: str
    ) -> None:
        self.values = dict(values)
        self.scenario = None
        if model is not None or hardware is not None:
            from llmphys.scenario import Scenario

            self.scenario = Scenario(model, hardware, compute=precision)
        self.model = None if model is None else self.scenario.model
        self.accelerator = None if hardware is None else self.scenario.hardware
        self.used: set[str] = set()
        self.defaulted: set[str] = set()
        self.known: set[str] = set()

    def formula(self, name: str) -> Formula:
        """The registry formula, or the scenario's variant of it."""
        return self.scenario.formula(name) if self.scenario is not None else registry[name]

    def for_formula(self, f: Formula, **override: Any) -> dict[str, Any]:
        """Every value ``f`` needs (``override`` first: a swept axis, a part's value)."""
        given = {**self.values, **override}
        overridable = f.overridable_parts()
        keep = frozenset(n for n in given if n in overridable)
        _, names = f.numeric(keep)
        self.known |= set(f.input_names) | set(overridable)
        out: dict[str, Any] = {n: given[n] for n in keep}
        for name in names:
            out[name] = self._one(name, given)
        self.used |= {n for n in out if n in self.values}
        return out

    def value(self, name: str) -> float:
        """One symbol's value in its glossary unit (for a symbol no formula here takes)."""
        self.known.add(name)
        entry = registry.glossary[name]
        raw = self._one(name, self.values)
        if name in self.values:
            self.used.add(name)
        return float(coerce(entry, raw, f"plot input '{name}'"))

    def _one(self, name: str, given: Mapping[str, Any]) -> Any:
        if name in given:
            return given[name]
        s = self.scenario
        if s is not None:
            value = s.value(name)
            if not s.source(name).startswith(("model", "hardware")):
                self.defaulted.add(name)
            return value
        default = registry.glossary[name].default
        if default is None:
            raise InputError(f"plot: give a value for {name!r} ({registry.glossary[name].text})")
        self.defaulted.add(name)
        return default

    def check_used(self) -> None:
        unused = [n for n in self.values if n not in self.used]
        if unused:
            name = unused[0]
            raise UnknownNameError(
                f"plot: {name!r} is not an input of the formulas drawn"
                f"{did_you_mean(name, self.known)}",
                name,
            )

    def model_name(self) -> str:
        if self.model is None:
            return ""
        return str(getattr(self.model, "display_name", self.model))

    def note(self) -> str:
        """What filled the inputs, for the title: presets and defaults."""
        bits = []
        if self.model is not None:
            bits.append(self.model_name())
        if self.accelerator is not None:
            bits.append(f"{getattr(self.accelerator, 'display_name', self.accelerator)}")
        if self.defaulted:
            gloss = registry.glossary
            shown = ", ".join(sorted(gloss[n].text for n in self.defaulted if n not in self.values))
            if shown:
                where = "" if self.scenario is None else f" ({self.scenario.assumptions.name})"
                bits.append(f"defaults{where}: {shown}")
        return "; ".join(bits)


def evaluate(f: Formula, values: Mapping[str, Any]) -> Any:
    """``f`` at ``values`` through its compiled function (validated as a call is)."""
    return f.bind(values).raw()


def factor(unit_from: pint.Unit | str, unit_to: str) -> float:
    """Display conversion factor (pint's, never typed by hand)."""
    return float(Q_(1.0, unit_from).to(unit_to).magnitude)


def unit_text(unit: pint.Unit | str) -> str:
    return f"{ureg.Unit(unit):~P}" if isinstance(unit, str) else f"{unit:~P}"


def mathtext(latex: str, text: str) -> str:
    """``$latex$`` when matplotlib's mathtext can draw it, else the plain text symbol."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(f"${latex}$")
    except ValueError:
        return text
    return f"${latex}$"


def symbol(name: str) -> str:
    entry = registry.glossary[name]
    return mathtext(entry.latex, entry.text)


def axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7.5, 4.8))
    return ax


def batches(batch: Any) -> np.ndarray:
    """Whole batch sizes to draw: the given ones, or the glossary range in doubling steps."""
    if batch is None:
        lo, hi = registry.glossary["batch"].range or (1, 1024)
        return 2.0 ** np.arange(np.log2(lo), np.log2(hi) + 1)
    return np.atleast_1d(np.asarray(batch, dtype=float))


def set_title(ax: Axes, title: str, inputs: Inputs) -> None:
    note = inputs.note()
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize=10)
