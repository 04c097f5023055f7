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

Log sliders and the keyboard
----------------------------
A log slider (:class:`LogSlider`) has no step grid: a browser snaps every value set from Python
onto the grid and sends it back changed (70.55B parameters would come back as 70.8B).  Without
a grid, the browser's slider (noUiSlider, in ipywidgets) moves by a tenth of the range per key
press: 80 -> 136 layers, 10,000 -> 42,668 tokens.  So the slider reads a value that arrives
from the browser a whole number of those tenths away from where it was as that many key
presses, and moves by :data:`KEY_STEP` per press instead (2.3 %; a whole number moves by at
least one), sending the value back.  Dragging is untouched.
"""

from __future__ import annotations

import asyncio
import html
import math
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from llmphys.engine.formatting import text_number
from llmphys.engine.glossary import Entry

__all__ = [
    "CUSTOM",
    "DERIVATION_DELAY",
    "KEY_STEP",
    "Deferred",
    "LogSlider",
    "choice_name",
    "control_for",
    "read_control",
    "running_loop",
    "set_log_value",
    "set_unclamped",
    "settle_control",
]

#: The option of a precision dropdown that reads its number from the box beside it.
CUSTOM = "custom"


_WIDE = widgets.Layout(width="28em")

#: How far one key press moves a log slider, in decades: a factor of 10 ** 0.01 = 1.0233
#: (Page Up and Page Down move five times as far); a whole number moves by at least one.
KEY_STEP = 0.01

#: The browser's key press on a slider without a step grid: this fraction of the range.
_BROWSER_KEY = 0.1

#: A log slider's range reaches this many decades beyond the glossary's at each end, so that
#: a tenth of it is never the ratio of two round numbers (1 .. 1024 would make a tenth a
#: factor of 2 exactly, and typing 8 in place of 4 would look like a key press); 2e-7 relative.
_PAD = 1e-7

#: A value from the browser within this many decades of a whole number of key presses is one.
_KEY_TOLERANCE = 1e-10


class LogSlider(widgets.FloatLogSlider):
    """A :class:`~ipywidgets.FloatLogSlider` that a key press moves by :data:`KEY_STEP`
    (see "Log sliders and the keyboard" above); ``step`` stays None (no grid) and ``key_step``
    is the step of a key.  ``integer``: a whole number, moved by at least one per key press,
    and rounded when dragged.

    What the browser sends is read as key presses when it lies a whole number of tenths of
    the range from where the slider was (exactly: a drag or a typed value lands there only by
    chance, the range being padded by :data:`_PAD`), or when it stopped at an end of the range
    coming from a value set here or by keys (the browser stops a key there); anything else is
    the user's value.  Counted from the value here, or from where the last key press put the
    browser when it has not yet moved to the value sent back (a key held down).  (A drag whose
    very first move leaps to an end from such a value reads as a key press too; so do Home and
    End from within half the range of their end, as five presses.)
    """

    key_step = KEY_STEP

    def __init__(self, *, integer: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.integer = integer
        self._keyed: float | None = None  # where the browser's last key press put it
        self._dragged = False  # the last value came from the browser, not keys
        self.observe(self._set_here, "value")

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """A state from the browser: key presses become steps of :data:`KEY_STEP`."""
        sent = sync_data.get("value")
        if isinstance(sent, bool) or not isinstance(sent, (int, float)) or not sent > 0:
            super().set_state(sync_data)
            return
        meant = self._meant(float(sent))
        # kept as sent when it is the value here, a few units in the last place away (sending
        # the value back would only bring that back again)
        super().set_state({**sync_data, "value": sent if meant is None else meant})
        if meant is not None and meant != sent:
            self.send_state("value")  # the browser's handle goes to the value meant

    def send_state(self, key: Any = None) -> None:
        """Send the range before the value: the browser applies a state's keys in order, and a
        value sent before its new range is clamped to the old one there (and sent back)."""
        if key is not None and not isinstance(key, str):
            key = sorted(key, key=lambda name: name == "value")
        super().send_state(key)

    def _exponent(self, value: float) -> float:
        return math.log(value) / math.log(self.base)

    def _meant(self, sent: float) -> float | None:
        """The value the browser's ``sent`` means: after the key presses that took it there,
        or ``sent`` itself (a whole number for a count); None when it is the value here (the
        browser's picture of it)."""
        at, here = self._exponent(sent), self._exponent(self.value)
        if abs(at - here) < _KEY_TOLERANCE:
            self._keyed = None
            return None
        presses = self._presses(at, here)
        if presses:
            self._keyed, self._dragged = at, False
            return self._stepped(presses)
        self._keyed, self._dragged = None, True
        low, high = self._ends()
        if abs(at - self.max) < _KEY_TOLERANCE:  # dragged to an end: the range's own value
            sent = high
        elif abs(at - self.min) < _KEY_TOLERANCE:
            sent = low
        return float(round(sent)) if self.integer and low <= round(sent) <= high else sent

    def _presses(self, at: float, here: float) -> int:
        """How many key presses (negative: down) took the browser to ``at``; 0: none."""
        tenth = _BROWSER_KEY * (self.max - self.min)
        if tenth <= 0:
            return 0
        origins = [x for x in (here, self._keyed) if x is not None]
        for origin in origins:
            presses = (at - origin) / tenth
            k = round(presses)
            if k != 0 and abs(presses - k) * tenth < _KEY_TOLERANCE:
                return k
        if self._dragged:  # a drag that reached an end
            return 0
        for end, sign in ((self.max, 1), (self.min, -1)):
            if abs(at - end) < _KEY_TOLERANCE:  # a key the end stopped: an arrow or a page
                for origin in origins:
                    gap = (end - origin) * sign
                    if 0 < gap < tenth:
                        return sign
                    if tenth <= gap < 5 * tenth:
                        return 5 * sign
        return 0

    def _stepped(self, presses: int) -> float:
        """The value ``presses`` key presses (negative: down) from the value here."""
        low, high = self._ends()
        value = self.value * self.base ** (presses * self.key_step)
        if self.integer:
            now = round(self.value)
            whole = round(value)
            if abs(whole - now) < abs(presses):  # at least one per press
                whole = now + presses
            value = float(whole) if low <= high else value
        return min(max(value, low), high)

    def _ends(self) -> tuple[float, float]:
        """The values at the ends of the range without its padding (2e12, not 2.0000005e12),
        whole numbers inside it for a count."""
        low, high = (
            float(f"{self.base ** (self.min + _PAD):.12g}"),
            float(f"{self.base ** (self.max - _PAD):.12g}"),
        )
        if self.integer:
            return float(math.ceil(low)), float(math.floor(high))
        return low, high

    def _set_here(self, change: dict[str, Any]) -> None:
        if "value" not in self._property_lock:  # set here (typed, a preset), not by the browser
            self._keyed, self._dragged = None, False


def set_log_value(slider: widgets.FloatLogSlider, value: float) -> None:
    """Set ``slider`` to ``value``, never clamped: its range is widened to the next hundredth
    of a decade beyond ``value`` first (``10 ** log10(40)`` is 40.000000000000014, and a slider
    clamps 40 up to a minimum of exactly 40).  One message to the browser, the range before the
    value (:meth:`LogSlider.send_state`): a browser given the value first clamps it to the old
    range, given the range alone moves its handle to the old value on the new range, and sends
    either back."""
    with slider.hold_sync():
        if value > 0:
            exponent = math.log(value) / math.log(slider.base)
            if exponent < slider.min:
                slider.min = math.floor(exponent * 100) / 100 - _PAD
            if exponent > slider.max:
                slider.max = math.ceil(exponent * 100) / 100 + _PAD
        slider.value = value


def set_unclamped(slider: widgets.ValueWidget, value: float) -> None:
    """Set a slider of :func:`control_for` to ``value``, never clamped: a log slider by
    :func:`set_log_value`, a linear one with its range widened to hold ``value`` first (one
    message to the browser, the range before the value, for the reason given there)."""
    if isinstance(slider, widgets.FloatLogSlider):
        set_log_value(slider, value)
        return
    with slider.hold_sync():
        if isinstance(slider, widgets.IntSlider):
            value = round(value)
        if value < slider.min:
            slider.min = value
        if value > slider.max:
            slider.max = value
        slider.value = value


# --------------------------------------------------------------------------- controls
def control_for(entry: Entry, value: float | None = None) -> widgets.ValueWidget:
    """The control for one glossary symbol, chosen from its entry alone.

    Named choices (precisions) give a :class:`~ipywidgets.Dropdown` of the names and "custom";
    a range over more than two decades a log slider (whole numbers
    are snapped to integers by :class:`Explorer`); an integer range an
    :class:`~ipywidgets.IntSlider`; any other range a :class:`~ipywidgets.FloatSlider`; no
    range a number box.  The tooltip is the symbol's meaning.  A log slider is a
    :class:`LogSlider`: a key press moves it by :data:`KEY_STEP`, not a tenth of its range.
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
            options=options, value=choice_name(entry, start), tooltip=tooltip, layout=_WIDE
        )
    if entry.range is None:
        box = widgets.IntText if entry.integer else widgets.FloatText
        return box(value=start if start is not None else 1, tooltip=tooltip)
    lo, hi = (float(x) for x in entry.range)
    if start is None:
        start = lo if entry.log_scale else (lo + hi) / 2
    if entry.log_scale:
        low, high = math.log10(lo) - _PAD, math.log10(hi) + _PAD
        return LogSlider(
            integer=bool(entry.integer),
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
        # a browser sends a whole number back as 10 ** log10(n), a few units in the last place
        # away: that is the number already (snapping it again would send it round for ever)
        if whole > 0 and abs(whole - control.value) > 1e-9 * whole:
            control.value = whole
            return True
    return False


def choice_name(entry: Entry, value: Any) -> str:
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


class Deferred:
    """``call`` run once its caller has been quiet for ``delay`` seconds in a live kernel:
    each :meth:`schedule` restarts the wait.  Without a running loop (a script, a test) it
    runs at once, or never when ``without_loop`` is False (work done only to hide a later
    wait)."""

    def __init__(self, delay: float, call: Callable[[], Any], without_loop: bool = True) -> None:
        self.delay, self.call, self.without_loop = delay, call, without_loop
        self._handle: asyncio.TimerHandle | None = None

    def schedule(self) -> None:
        loop = running_loop()
        if loop is None:
            if self.without_loop:
                self.call()
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = loop.call_later(self.delay, self._run)

    def cancel(self) -> None:
        """Drop the call waiting, if any."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _run(self) -> None:
        self._handle = None
        self.call()


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
