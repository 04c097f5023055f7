"""Widgets: explore any formula live, and solve it backwards live (``llmphys.widgets``).

``explore(formula, **fixed)`` builds a panel from the glossary, never from a hand-written list:

* one control per free input: a slider over the glossary's range (logarithmic when the range
  spans more than two decades, whole-number steps for integer symbols), a dropdown of named
  precisions (plus "custom" and a number box) for bytes-per-element symbols, a number box for
  symbols without a range; each labelled with its conventional symbol and unit, its meaning
  as the tooltip;
* preset dropdowns (model, accelerator and its compute precision) that fill the inputs they
  know, shown only when the formula has such inputs; a choice is a :class:`~llmphys.Scenario`
  (the one place inputs are resolved), whose values with a model's or an accelerator's
  provenance fill the controls, and whose variant of the formula the panel shows (MLA,
  sliding windows...);
* a "solve for" selector: any free input becomes the unknown, with a target box ("80 GB",
  parsed by :func:`llmphys.engine.parse.parse_value`, never evaluated) and a bound (a budget
  the formula must stay within, a requirement it must meet, or an equality);
* the result, a message line (errors and the solver's explanations: never a traceback), and
  the worked derivation on demand.

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

Not imported by ``import llmphys``: ipywidgets is an optional dependency
(``pip install "llmphys[notebooks]"``).
"""

from __future__ import annotations

import asyncio
import html
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import pint

from llmphys.engine.formula import Formula, registry
from llmphys.engine.glossary import Entry
from llmphys.engine.numbers import format_quantity, text_number
from llmphys.engine.values import coerce
from llmphys.errors import InputError, LlmphysError
from llmphys.units import Q_, ureg

__all__ = [
    "DERIVATION_DELAY",
    "Explorer",
    "control_for",
    "explore",
    "read_control",
    "settle_control",
]

#: Seconds of quiet before the derivation is re-rendered in a live kernel.
DERIVATION_DELAY = 0.3

#: The option of a precision dropdown that reads its number from the box beside it.
CUSTOM = "custom"

#: "solve for" option meaning: nothing, evaluate the formula.
NOTHING = ""

_BOUNDS = (
    ("≤ budget (at most)", "at_most"),
    ("≥ requirement (at least)", "at_least"),
    ("= exactly", "equal"),
)
_LABEL = widgets.Layout(width="7em")
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


def _label(entry: Entry) -> widgets.HTMLMath:
    return widgets.HTMLMath(value=f"${entry.latex}$", layout=_LABEL, tooltip=entry.describe())


def _escape(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _running_loop() -> asyncio.AbstractEventLoop | None:
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


# --------------------------------------------------------------------------- the panel
class Explorer:
    """A live panel for one formula (see the module docstring); build it with :func:`explore`.

    Attributes a program (or a test) can drive without a browser:

    ``controls``       ``{input name: widget}``; set ``.value`` to move a slider
    ``custom``         ``{precision input name: number box}`` used when "custom" is chosen
    ``presets``        ``{"model" | "hardware" | "precision": Dropdown}`` (only those that apply)
    ``solve_for``      Dropdown of the free inputs ("" = nothing, evaluate the formula)
    ``target``         Text: the target of the solve, "80 GB"
    ``bound``          ToggleButtons: ``"at_most"``, ``"at_least"`` or ``"equal"``
    ``show_derivation``  ToggleButton: render the worked derivation below the result
    ``output``         HTMLMath: the result as shown
    ``message``        HTML: the last error or the solver's explanation ("" when all is well);
                       ``error`` is the same text, plain
    ``derivation_view``  HTMLMath: the derivation as shown (when ``show_derivation`` is on)

    ``result`` is the formula's current value (a quantity; at the solved input when solving),
    ``solution`` the current :class:`~llmphys.Solution` (or None), ``derivation`` the worked
    derivation of the current state (built when read), ``values`` the inputs in use.
    """

    def __init__(
        self,
        formula: Formula,
        *,
        fixed: Mapping[str, Any],
        models: Mapping[str, Any],
        hardware: Mapping[str, Any],
        precision: str = "bf16",
    ) -> None:
        self._base = formula
        self.formula = formula
        self.fixed = dict(fixed)
        self.models = models
        self.hardware = hardware
        self.controls: dict[str, widgets.ValueWidget] = {}
        self.custom: dict[str, widgets.FloatText] = {}
        self.presets: dict[str, widgets.Dropdown] = {}
        self._rows: dict[str, widgets.Box] = {}
        self._result: pint.Quantity | None = None
        self._solution: Any = None
        self._error = ""
        self._hold_depth = 0
        self._pending: asyncio.TimerHandle | None = None
        self._keep, self._fixed = self._prepare_fixed(formula)

        self.header = widgets.HTMLMath()
        self.controls_box = widgets.VBox()
        self.solve_for = widgets.Dropdown(description="solve for", layout=_WIDE)
        self.target = widgets.Text(
            description="target",
            placeholder="e.g. 80 GB",
            continuous_update=False,
            layout=widgets.Layout(width="16em"),
        )
        self.bound = widgets.ToggleButtons(options=_BOUNDS, value="at_most")
        self.output = widgets.HTMLMath()
        self.message = widgets.HTML()
        self.show_derivation = widgets.ToggleButton(
            value=False, description="show derivation", tooltip="the worked derivation (SymPy)"
        )
        self.derivation_view = widgets.HTMLMath()
        self._solve_row = widgets.HBox([self.target, self.bound])
        self._preset_row = widgets.HBox()

        self._build_presets(precision)
        self._build_controls()
        self.solve_for.observe(self._on_solve_for, "value")
        self.target.observe(self._on_change, "value")
        self.bound.observe(self._on_change, "value")
        self.show_derivation.observe(self._on_show_derivation, "value")
        self.widget = widgets.VBox(
            [
                self.header,
                self._preset_row,
                self.controls_box,
                widgets.HBox([self.solve_for]),
                self._solve_row,
                self.output,
                self.message,
                self.show_derivation,
                self.derivation_view,
            ]
        )
        self._sync_solve_row()
        self.update()

    # ------------------------------------------------------------------- construction
    def _prepare_fixed(self, formula: Formula) -> tuple[frozenset[str], dict[str, float]]:
        keep, converted = formula.prepare(self.fixed, partial=True)
        return keep, {k: float(v) for k, v in converted.items()}

    def _free_names(self) -> tuple[str, ...]:
        _, names = self.formula.numeric(self._keep)
        return tuple(n for n in names if n not in self._fixed)

    def _build_controls(self) -> None:
        """One row per free input of the current formula, reusing existing controls."""
        gloss = self.formula.registry.glossary
        names = self._free_names()
        rows = []
        for name in names:
            if name not in self.controls:
                entry = gloss[name]
                control = control_for(entry)
                control.observe(self._on_control, "value")
                self.controls[name] = control
                parts: list[widgets.Widget] = [_label(entry), control]
                if entry.choices:
                    box = widgets.FloatText(
                        value=entry.default or 1.0,
                        disabled=True,
                        layout=widgets.Layout(width="8em"),
                        tooltip=f"custom {entry.text}, in {entry.unit_text}",
                    )
                    box.observe(self._on_change, "value")
                    self.custom[name] = box
                    parts.append(box)
                parts.append(widgets.Label(entry.unit_text))
                self._rows[name] = widgets.HBox(parts)
            rows.append(self._rows[name])
        for name in [n for n in self.controls if n not in names]:  # inputs of another variant
            del self.controls[name]
            self.custom.pop(name, None)
            del self._rows[name]
        self.controls_box.children = rows
        options = [("nothing: evaluate the formula", NOTHING)]
        options += [(f"{gloss[n].text}: {gloss[n].meaning}"[:70], n) for n in names]
        current = self.solve_for.value if self.solve_for.value in names else NOTHING
        with self._hold(update=False):
            self.solve_for.options = options
            self.solve_for.value = current
        self._render_header()

    def _render_header(self) -> None:
        f = self.formula
        variant = ""
        if f.replacements:
            swapped = ", ".join(f"{k} → {v}" for k, v in f.replacements.items())
            variant = f"<br><small>variant: {_escape(swapped)}</small>"
        fixed = ""
        if self._fixed:
            gloss = f.registry.glossary
            shown = ", ".join(
                f"{gloss[n].text} = {format_quantity(Q_(v, self._unit_of(n)), sig=4)}"
                for n, v in self._fixed.items()
            )
            fixed = f"<br><small>fixed: {_escape(shown)}</small>"
        self.header.value = (
            f"<b>{_escape(f.name)}</b>: {_escape(f.meaning)}<br>"
            f"${f.entry.latex} = {f.to_latex(f.expand(self._keep))}$"
            f"{variant}{fixed}"
        )

    def _unit_of(self, name: str) -> pint.Unit:
        f = self.formula
        if name in f.registry.glossary and f.registry.glossary[name].kind == "input":
            return f.registry.glossary[name].pint_unit
        return f.overridable_parts()[name].unit

    def _deployment(
        self, model: Any = None, hardware: Any = None, precision: str | None = None
    ) -> Any:
        """The :class:`~llmphys.Scenario` a preset choice describes (the one place inputs are
        resolved): the model and accelerator chosen, the Scenario's defaults for the other."""
        from llmphys.scenario import DEFAULTS, Scenario

        return Scenario(
            model if model is not None else DEFAULTS["model"],
            hardware if hardware is not None else DEFAULTS["hardware"],
            compute=precision or DEFAULTS["compute"],
        )

    def _preset_values(self, source: str, s: Any) -> dict[str, float]:
        """The values of the current free inputs that ``s`` takes from its ``source``
        (``"model"`` or ``"hardware"``)."""
        return {
            n: s.value(n)
            for n in self._free_names()
            if n in s and s.source(n).startswith(source)  # a symbol of your own: not s's
        }

    def _fills(self, source: str, item: Any) -> set[str]:
        """Names of the current controls a preset would fill (empty when it cannot)."""
        try:
            s = self._deployment(**{source: item})
        except (LlmphysError, pint.PintError):
            return set()
        return set(self._preset_values(source, s))

    def _build_presets(self, precision: str) -> None:
        """Model and accelerator dropdowns, each only when it can fill one of the inputs."""
        children: list[widgets.Widget] = []
        if self.models and any(self._fills("model", m) for m in self.models.values()):
            options = [("model: none", NOTHING)]
            options += [(getattr(m, "display_name", k), k) for k, m in self.models.items()]
            self.presets["model"] = widgets.Dropdown(options=options, value=NOTHING)
        if self.hardware and any(self._fills("hardware", h) for h in self.hardware.values()):
            options = [("accelerator: none", NOTHING)]
            options += [(getattr(h, "display_name", k), k) for k, h in self.hardware.items()]
            self.presets["hardware"] = widgets.Dropdown(options=options, value=NOTHING)
            if {"peak_flops"} & set(self._free_names()):
                self.presets["precision"] = widgets.Dropdown(
                    options=[precision], value=precision, description="precision"
                )
        for dropdown in self.presets.values():
            dropdown.observe(self._on_preset, "value")
            children.append(dropdown)
        self._preset_row.children = children

    # ------------------------------------------------------------------- reading state
    @contextmanager
    def _hold(self, update: bool = True) -> Iterator[None]:
        """Change several widgets with one update at the end (or none)."""
        self._hold_depth += 1
        try:
            yield
        finally:
            self._hold_depth -= 1
        if update and self._hold_depth == 0:
            self.update()

    def _read(self, name: str) -> float:
        entry = self.formula.registry.glossary[name]
        value = read_control(entry, self.controls[name], self.custom.get(name))
        return float(coerce(entry, value, f"formula '{self.formula.name}'"))

    @property
    def unknown(self) -> str | None:
        """The input being solved for, or None."""
        return self.solve_for.value or None

    @property
    def values(self) -> dict[str, float]:
        """The inputs in use (the fixed ones and the controls'), in glossary units; the
        unknown of a solve is left out."""
        values = dict(self._fixed)
        for name in self.controls:
            if name != self.unknown:
                values[name] = self._read(name)
        return values

    @property
    def result(self) -> pint.Quantity | None:
        """The formula's value now (at the solved input when solving), None after an error."""
        return self._result

    @property
    def error(self) -> str:
        """The message shown (an error or the solver's explanation) as plain text, or ""."""
        return self._error

    @property
    def solution(self) -> Any:
        """The current :class:`~llmphys.Solution`, or None when not solving (or infeasible)."""
        return self._solution

    @property
    def derivation(self) -> Any:
        """The worked derivation of the current state: a Derivation of the formula, or the
        Solution when solving (built when read: this is the SymPy side)."""
        if self._solution is not None:
            return self._solution
        if self._result is None:
            return None
        return self.formula.derive(**self.values)

    # ------------------------------------------------------------------- events
    def _on_control(self, change: dict[str, Any]) -> None:
        name = next((n for n, c in self.controls.items() if c is change["owner"]), None)
        if name is not None:
            entry = self.formula.registry.glossary[name]
            if settle_control(entry, change["owner"], self.custom.get(name)):
                return  # snapped to a whole number: the change comes back here
        self._on_change(change)

    def _on_change(self, change: dict[str, Any] | None = None) -> None:
        if self._hold_depth == 0:
            self.update()

    def _on_solve_for(self, change: dict[str, Any]) -> None:
        old, new = change["old"], change["new"]
        if old in self.controls:
            self.controls[old].disabled = False
        if new in self.controls:
            self.controls[new].disabled = True
            if not self.target.value.strip() and self._result is not None:
                with self._hold(update=False):
                    self.target.value = format_quantity(self._result, sig=4)
        self._sync_solve_row()
        self._on_change()

    def _sync_solve_row(self) -> None:
        self._solve_row.layout.display = None if self.unknown else "none"

    def _on_show_derivation(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._schedule_derivation()
        else:
            self.derivation_view.value = ""

    def _on_preset(self, change: dict[str, Any]) -> None:
        try:
            with self._hold():
                if change["owner"] is self.presets.get("model"):
                    self._apply_model(change["new"])
                elif change["owner"] is self.presets.get("hardware"):
                    self._sync_precisions()
                self._apply_hardware()
        except (LlmphysError, pint.PintError) as exc:
            self._show_error(exc)

    def _apply_model(self, name: str) -> None:
        if not name:
            if self.formula is not self._base:
                self._switch_formula(self._base)
            return
        s = self._deployment(model=self.models[name])
        variant = s.formula(self._base)
        if variant is not self.formula:
            self._switch_formula(variant)
        self._fill(self._preset_values("model", s))

    def _switch_formula(self, formula: Formula) -> None:
        keep, fixed = formula.prepare(self.fixed, partial=True)
        self.formula = formula
        self._keep, self._fixed = keep, {k: float(v) for k, v in fixed.items()}
        self._build_controls()
        self._sync_solve_row()

    def _sync_precisions(self) -> None:
        dropdown = self.presets.get("precision")
        name = self.presets["hardware"].value
        if dropdown is None or not name:
            return
        known = list(getattr(self.hardware[name], "precisions", lambda: [dropdown.value])())
        current = dropdown.value
        dropdown.options = known
        dropdown.value = current if current in known else known[0]

    def _apply_hardware(self) -> None:
        dropdown = self.presets.get("hardware")
        if dropdown is None or not dropdown.value:
            return
        precision = self.presets["precision"].value if "precision" in self.presets else None
        s = self._deployment(hardware=self.hardware[dropdown.value], precision=precision)
        self._fill(self._preset_values("hardware", s))

    def _fill(self, values: Mapping[str, Any]) -> None:
        """Set the controls of ``values`` (numbers in glossary units or quantities)."""
        gloss = self.formula.registry.glossary
        for name, value in values.items():
            if name not in self.controls or name == self.unknown:
                continue
            number = coerce(gloss[name], value, f"formula '{self.formula.name}'")
            self.set_value(name, float(number))

    def set_value(self, name: str, value: float) -> None:
        """Set a control to ``value`` (in the glossary unit), widening a slider's range when
        the value lies outside it (a preset beyond the glossary's typical range)."""
        entry = self.formula.registry.glossary[name]
        control = self.controls[name]
        if entry.choices:
            choice = _choice_name(entry, value)
            if choice == CUSTOM:
                self.custom[name].value = value
            control.value = choice
            return
        if isinstance(control, widgets.FloatLogSlider):
            exponent = math.log10(value) if value > 0 else control.min
            if exponent < control.min:
                control.min = math.floor(exponent)
            if exponent > control.max:
                control.max = math.ceil(exponent)
        elif isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
            if value < control.min:
                control.min = math.floor(value) if entry.integer else value
            if value > control.max:
                control.max = math.ceil(value) if entry.integer else value
        control.value = round(value) if entry.integer else value

    # ------------------------------------------------------------------- the work
    def update(self) -> None:
        """Recompute from the widgets' state: the compiled formula, or a solve."""
        self.message.value = ""
        self._error = ""
        try:
            if self.unknown:
                self._solve()
            else:
                self._evaluate()
        except (LlmphysError, pint.PintError, ValueError, ArithmeticError) as exc:
            self._show_error(exc)
            return
        self._schedule_derivation()

    def _evaluate(self) -> None:
        values = self.values
        fn, names = self.formula.numeric(self._keep)
        number = fn(*(values[n] for n in names))
        self._solution = None
        self._result = Q_(number, self.formula.unit)
        self.output.value = self._result_html(self._result)

    def _solve(self) -> None:
        import llmphys
        from llmphys.engine.parse import parse_value

        unknown = self.unknown
        assert unknown is not None
        text = self.target.value.strip()
        if not text:
            raise InputError(
                f"solve {self.formula.name} for {unknown}: type a target for "
                f"{self.formula.entry.text}, in {self.formula.unit:~P} or a unit convertible to it"
            )
        target = parse_value(text, self.formula.entry, "target")
        values = self.values
        solution = llmphys.solve(
            self.formula, unknown, target=target, bound=self.bound.value, **values
        )
        self._solution = solution
        self._result = solution.check
        with self._hold(update=False):
            self.set_value(unknown, float(solution.value.magnitude))
        self.output.value = self._solution_html(solution)

    def _show_error(self, exc: BaseException) -> None:
        self._error = str(exc)
        self._result = None
        self._solution = None
        self.output.value = "<i>no result</i>"
        self.message.value = f'<span style="color:#b00020">{_escape(str(exc))}</span>'
        self.derivation_view.value = ""

    # ------------------------------------------------------------------- rendering
    def _result_html(self, q: pint.Quantity) -> str:
        entry = self.formula.entry
        shown = format_quantity(q, sig=3, latex=True)
        binary = ""
        if q.dimensionality == ureg.byte.dimensionality:
            binary = rf" = {format_quantity(q, sig=3, binary=True, latex=True)}"
        return f"<b>result</b>: ${entry.latex} = {shown}{binary}$"

    def _solution_html(self, s: Any) -> str:
        entry = self.formula.registry.glossary[s.unknown]
        unit = f" {entry.unit_text}" if entry.unit_text else ""
        value = float(s.value.magnitude)
        answer = f"{entry.text} = {text_number(value, exact=entry.integer)}{unit}"
        word = {"largest": "largest", "smallest": "smallest", "exact": ""}[s.direction]
        relation = {"at_most": "≤", "at_least": "≥", "equal": "="}[s.bound]
        question = (
            f"{word} {entry.text} with {self.formula.entry.text} {relation} "
            f"{format_quantity(s.target, sig=4)}"
        ).strip()
        lines = [f"<b>{_escape(question)}</b>: <b>{_escape(answer)}</b>"]
        if s.rounding is not None and s.exact is not None:
            how = {"floor": "rounded down", "ceil": "rounded up", "nearest": "rounded"}
            exact = f"{float(s.exact.magnitude):.10g}"
            lines.append(f"{how[s.rounding]} from {exact}{unit} ({_escape(s.method)} solve)")
        else:
            lines.append(f"({_escape(s.method)} solve)")
        if s.check is not None:
            lines.append(self._result_html(s.check).replace("<b>result</b>", "check"))
        return "<br>".join(lines)

    def _schedule_derivation(self) -> None:
        if not self.show_derivation.value:
            return
        loop = _running_loop()
        if loop is None:
            self._render_derivation()
            return
        if self._pending is not None:
            self._pending.cancel()
        self._pending = loop.call_later(DERIVATION_DELAY, self._render_derivation)

    def _render_derivation(self) -> None:
        self._pending = None
        if not self.show_derivation.value:
            return
        try:
            shown = self.derivation
        except (LlmphysError, pint.PintError, ValueError, ArithmeticError) as exc:
            self.derivation_view.value = f"<i>{_escape(str(exc))}</i>"
            return
        self.derivation_view.value = "" if shown is None else shown._repr_latex_()

    # ------------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        shown = "no result" if self._result is None else format_quantity(self._result, sig=3)
        solving = f", solving for {self.unknown}" if self.unknown else ""
        return f"<Explorer {self.formula.name}{solving}: {shown}>"


def explore(
    formula: Formula | str,
    /,
    *,
    solve_for: str | None = None,
    target: str | pint.Quantity | None = None,
    bound: str = "at_most",
    models: Mapping[str, Any] | None = None,
    hardware: Mapping[str, Any] | None = None,
    precision: str = "bf16",
    **fixed: Any,
) -> Explorer:
    """A live panel for ``formula``: a control per free input, presets, solve-for, result.

    ``fixed`` values (quantities, plain numbers in glossary units, precision names, or a part's
    value instead of its inputs) get no control.  ``solve_for``/``target``/``bound`` start the
    panel solving (``target`` as typed: ``"80 GB"``).  ``models`` and ``hardware`` are the
    preset mappings (default: ``llmphys.models`` and ``llmphys.hardware``; ``{}`` for none).

    >>> from llmphys.widgets import explore
    >>> w = explore("kv_cache_bytes", layers=80, n_kv_heads=8, head_dim=128)
    >>> w.controls["seq_len"].value = 32768
    >>> print(w.result.to("GiB"))
    10.0 GiB
    >>> w.solve_for.value = "batch"
    >>> w.target.value = "80 GiB"
    >>> print(w.solution.value, w.solution.direction)
    8 seq largest
    """
    f = registry[formula] if isinstance(formula, str) else formula
    if not isinstance(f, Formula):
        raise InputError(f"explore: expected a formula or its name, got {type(f).__name__}")
    panel = Explorer(
        f,
        fixed=fixed,
        models=_available("models") if models is None else models,
        hardware=_available("hardware") if hardware is None else hardware,
        precision=precision,
    )
    if solve_for is not None or target is not None:
        with panel._hold():
            if target is not None:
                panel.target.value = (
                    f"{target:~P}" if isinstance(target, pint.Quantity) else str(target)
                )
            panel.bound.value = bound
            if solve_for is not None:
                if solve_for not in panel.controls:
                    raise InputError(
                        f"explore {f.name}: cannot solve for {solve_for!r}; free inputs: "
                        f"{', '.join(panel.controls)}"
                    )
                panel.solve_for.value = solve_for
    return panel
