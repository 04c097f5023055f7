"""Controls built from glossary entries, shared by ``llmphys.widgets`` and the sizing app: one
widget per symbol chosen from its entry alone (a precision dropdown with "custom", a log or
linear slider, a number box), and how to read a number back from it.

Speed, and why the derivation waits
-----------------------------------
Every change recomputes the result with the formula's compiled numpy function
(``formula.numeric(keep)``): no SymPy work per slider move.  Solving goes through
:func:`llmphys.solve`, which caches the rearranged formula per (formula, unknown): SymPy runs
once when an unknown is chosen, later solves evaluate compiled roots.  The derivation is
SymPy printing (about 10 ms, and MathJax typesetting in the browser after that), so it is
rendered only while "show derivation" is on, always after the result is shown, and in a live
kernel at most once per pause (debounced by :data:`DERIVATION_DELAY`); without an event loop
(tests, scripts) it renders at once.
"""

from __future__ import annotations

import asyncio
import html
import math
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from llmphys.engine.formatting import text_number
from llmphys.engine.glossary import Entry

__all__ = [
    "CUSTOM",
    "DERIVATION_DELAY",
    "control_for",
    "read_control",
    "running_loop",
    "settle_control",
]

#: The option of a precision dropdown that reads its number from the box beside it.
CUSTOM = "custom"


_WIDE = widgets.Layout(width="28em")


# --------------------------------------------------------------------------- controls
def control_for(entry: Entry, value: float | None = None) -> widgets.ValueWidget:
    """The control for one glossary symbol, chosen from its entry alone.

    Named choices (precisions) give a :class:`~ipywidgets.Dropdown` of the names and "custom";
    a range over more than two decades a :class:`~ipywidgets.FloatLogSlider` (whole numbers
    are snapped to integers by :class:`Explorer`); an integer range an
    :class:`~ipywidgets.IntSlider`; any other range a :class:`~ipywidgets.FloatSlider`; no
    range a number box.  The tooltip is the symbol's meaning.
    """
    start = entry.default if value is None else value
    tooltip = entry.describe()
    if entry.choices:
        unit = entry.unit_text
        options = [
            (f"{name} ({text_number(v, exact=True)} {unit})", name)
            for name, v in entry.choices.items()
        ]
        options.append((f"{CUSTOM}…", CUSTOM))
        return widgets.Dropdown(
            options=options, value=_choice_name(entry, start), tooltip=tooltip, layout=_WIDE
        )
    if entry.range is None:
        box = widgets.IntText if entry.integer else widgets.FloatText
        return box(value=start if start is not None else 1, tooltip=tooltip)
    lo, hi = (float(x) for x in entry.range)
    if start is None:
        start = lo if entry.log_scale else (lo + hi) / 2
    if entry.log_scale:
        low, high = math.log10(lo), math.log10(hi)
        return widgets.FloatLogSlider(
            value=start,
            base=10,
            min=low,
            max=high,
            step=None,  # no grid: a browser snaps a value to it and sends it back changed
            readout_format=",.0f" if entry.integer and hi <= 1e7 else ".3s",
            continuous_update=True,
            tooltip=tooltip,
            layout=_WIDE,
        )
    if entry.integer:
        return widgets.IntSlider(
            value=round(start), min=round(lo), max=round(hi), tooltip=tooltip, layout=_WIDE
        )
    return widgets.FloatSlider(
        value=start,
        min=lo,
        max=hi,
        step=None,  # no grid: 0.4 would come back from the browser as 0.40105
        readout_format=".3g",
        tooltip=tooltip,
        layout=_WIDE,
    )


def read_control(entry: Entry, control: Any, custom: Any = None) -> float:
    """The number a control made by :func:`control_for` holds, in the entry's unit: a named
    precision's value (or the custom box's), a whole number for a count."""
    value = control.value
    if entry.choices:
        return float(custom.value if value == CUSTOM else entry.choices[value])
    if entry.integer:
        return float(round(value))
    # a browser's slider sends 0.69 back as 0.01 + 0.68 = 0.6900000000000001: twelve
    # significant figures are more than any slider or readout holds, and give 0.69 back
    return float(f"{float(value):.12g}")


def settle_control(entry: Entry, control: Any, custom: Any = None) -> bool:
    """After a control of :func:`control_for` changed: enable the custom box of a precision
    dropdown only on "custom", and snap a count's log slider to a whole number.  True when
    the value was snapped (a new change event follows)."""
    if entry.choices and custom is not None:
        custom.disabled = control.value != CUSTOM
    elif entry.integer and isinstance(control, widgets.FloatLogSlider):
        whole = float(round(control.value))
        if whole != control.value and whole > 0:
            control.value = whole
            return True
    return False


def _choice_name(entry: Entry, value: Any) -> str:
    """The first named choice equal to ``value`` (a name or a number), else "custom"."""
    if isinstance(value, str):
        lowered = {k.lower(): k for k in entry.choices or {}}
        return lowered.get(value.strip().lower(), CUSTOM)
    for name, number in (entry.choices or {}).items():
        if value is not None and math.isclose(number, float(value), rel_tol=1e-12):
            return name
    return CUSTOM


#: Seconds of quiet before the derivation is re-rendered in a live kernel.
DERIVATION_DELAY = 0.3


_BOUNDS = (  # short enough for a toggle button: a budget, a requirement, an exact value
    ("≤ at most", "at_most"),
    ("≥ at least", "at_least"),
    ("= exactly", "equal"),
)
_LABEL = widgets.Layout(width="7em")


def _label(entry: Entry) -> widgets.HTMLMath:
    return widgets.HTMLMath(value=f"${entry.latex}$", layout=_LABEL, tooltip=entry.describe())


def _escape(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of a live kernel, or None (tests, scripts): then render at once."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _available(kind: str) -> Mapping[str, Any]:
    """``llmphys.models`` or ``llmphys.hardware``, or nothing while they are unavailable."""
    import llmphys

    try:
        found = getattr(llmphys, kind)
    except (AttributeError, ImportError):
        return {}
    return found if isinstance(found, Mapping) else {}
