"""Widgets: explore any formula live, and solve it backwards live (``llmphys.widgets``).

``explore(formula, **fixed)`` builds a panel from the glossary, never from a hand-written list:

* one control per free input: a slider over the glossary's range (logarithmic when the range
  spans more than two decades, with a box beside it that shows and reads values as people
  write them, ``70B``, ``32k``; a key press moves it by 2.3 %, a count by at least one;
  whole-number steps for integer symbols), a dropdown of named
  precisions (plus "custom" and a number box) for bytes-per-element symbols, a number box for
  symbols without a range; each labelled with its conventional symbol and unit, its meaning
  as the tooltip;
* preset dropdowns (model, accelerator and its compute precision), shown only when they can
  fill an input: a choice is a Scenario whose values fill the controls
  (:mod:`llmphys.widget_presets`);
* a "solve for" selector: any free input becomes the unknown, with a target box ("80 GB",
  parsed by :func:`llmphys.engine.parse.parse_value`, never evaluated) and a bound (a budget
  the formula must stay within, a requirement it must meet, or an equality);
* the result, a message line (errors and the solver's explanations: never a traceback), and
  the worked derivation on demand.

Every change recomputes the result with the formula's compiled function; the derivation
(SymPy printing) waits (see :mod:`llmphys.controls` on why and how long).

Not imported by ``import llmphys``: ipywidgets is an optional dependency
(``pip install "llmphys[notebooks]"``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import pint

from llmphys.controls import (
    _BOUNDS,
    _WIDE,
    CUSTOM,
    DERIVATION_DELAY,
    Deferred,
    _available,
    _escape,
    _label,
    control_for,
    read_control,
    settle_control,
)
from llmphys.engine.binding import Binding
from llmphys.engine.coercion import coerce
from llmphys.engine.formatting import format_quantity
from llmphys.engine.formula import Formula, registry
from llmphys.engine.variants import FEATURES
from llmphys.errors import InputError, LlmphysError
from llmphys.units import Q_
from llmphys.value_box import custom_box, value_box
from llmphys.widget_presets import NOTHING, PresetRow
from llmphys.widget_text import result_html, solution_html

__all__ = [
    "CUSTOM",
    "DERIVATION_DELAY",
    "NOTHING",
    "Explorer",
    "control_for",
    "explore",
    "read_control",
    "settle_control",
]


# --------------------------------------------------------------------------- the panel
class Explorer(PresetRow):
    """A live panel for one formula (see the module docstring); build it with :func:`explore`.

    Attributes a program (or a test) can drive without a browser:

    - ``controls``: ``{input name: widget}``; set ``.value`` to move a slider
    - ``custom``: ``{precision input name: number box}`` used when "custom" is chosen
    - ``presets``: ``{"model" | "hardware" | "precision": Dropdown}`` (those that apply)
    - ``solve_for``: Dropdown of the free inputs ("" = nothing, evaluate the formula)
    - ``target``: Text, the target of the solve ("80 GB")
    - ``bound``: ToggleButtons, ``"at_most"``, ``"at_least"`` or ``"equal"``
    - ``show_derivation``: ToggleButton, render the worked derivation below the result
    - ``output``: HTMLMath, the result as shown
    - ``message``: HTML, the last error or the solver's explanation ("" when all is well);
      ``error`` is the same text, plain
    - ``derivation_view``: HTMLMath, the derivation as shown (with ``show_derivation`` on)

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
        self._derivation_later = Deferred(DERIVATION_DELAY, self._render_derivation)
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
        binding = formula.bind(self.fixed, partial=True)
        keep, converted = binding.keep, binding.values
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
                    box = self.custom[name] = custom_box(entry)
                    box.observe(self._on_change, "value")
                    parts.append(box)
                elif isinstance(control, widgets.FloatLogSlider):  # typed as people write
                    control.readout = False
                    parts.append(value_box(entry, control))
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
        if f.replacements:  # the model's architecture, in words (not the formulas' names)
            found = {f.registry[v].feature for v in f.replacements.values()} - {None}
            words = ", ".join(sorted(FEATURES.get(x, x) for x in found)) or "its own formulas"
            variant = f"<br><small>for this model's architecture: {_escape(words)}</small>"
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
            f"$${f.entry.latex} = {f.to_latex(f.expand(self._keep))}$$"
            f"{variant}{fixed}"
        )

    def _unit_of(self, name: str) -> pint.Unit:
        f = self.formula
        if name in f.registry.glossary and f.registry.glossary[name].kind == "input":
            return f.registry.glossary[name].pint_unit
        return f.overridable_parts()[name].unit

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
        self._solution = None
        self._result = Binding(self.formula, self._keep, self.values).quantity()
        self.output.value = result_html(self.formula, self._result)

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
        self.output.value = solution_html(self.formula, solution)

    def _show_error(self, exc: BaseException) -> None:
        self._error = str(exc)
        self._result = None
        self._solution = None
        self.output.value = "<i>no result</i>"
        self.message.value = f'<span style="color:#b00020">{_escape(str(exc))}</span>'
        self.derivation_view.value = ""

    # ------------------------------------------------------------------- rendering
    def _schedule_derivation(self) -> None:
        if self.show_derivation.value:
            self._derivation_later.schedule()

    def _render_derivation(self) -> None:
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
        """The live view, and a still of it (``text/html``) for pages without a kernel."""
        from llmphys.widget_snapshot import snapshot_html

        return {**self.widget._repr_mimebundle_(**kwargs), "text/html": snapshot_html(self)}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)

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

    Parameters
    ----------
    formula
        A formula or a registry formula's name.
    solve_for
        The free input to start solving for.
    target : str or Quantity, optional
        The target of the solve, as typed (``"80 GB"``) or a quantity.
    bound
        ``"at_most"``, ``"at_least"`` or ``"equal"``.
    models : mapping, optional
        The model presets offered (default ``llmphys.models``; ``{}`` for none).
    hardware : mapping, optional
        The accelerator presets offered (default ``llmphys.hardware``; ``{}`` for none).
    precision
        The compute precision the accelerator presets start at.
    **fixed
        Inputs held at a value, without a control.

    Returns
    -------
    Explorer
        The panel (display it in a notebook).

    Raises
    ------
    InputError
        ``formula`` is not a formula, or ``solve_for`` is not one of its free inputs.

    Examples
    --------
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
