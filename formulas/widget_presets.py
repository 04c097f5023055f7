"""The preset row of a :class:`llmphys.widgets.Explorer`: model, accelerator and precision
dropdowns that fill the panel's controls.  A choice is a :class:`~llmphys.Scenario` (the one
place inputs are resolved): its values with a model's or an accelerator's provenance fill the
controls, and its variant of the formula is the one the panel shows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import pint

from llmphys.controls import CUSTOM, choice_name, set_log_value
from llmphys.engine.coercion import coerce
from llmphys.engine.formula import Formula
from llmphys.errors import LlmphysError

__all__ = ["NOTHING", "PresetRow"]

#: the option of a dropdown meaning nothing chosen ("solve for": evaluate the formula).
NOTHING = ""


class PresetRow:
    """What an Explorer does with its presets (a mixin: it uses the Explorer's controls,
    formula and update machinery)."""

    def _deployment(
        self, model: Any = None, hardware: Any = None, precision: str | None = None
    ) -> Any:
        """The :class:`~llmphys.Scenario` a preset choice describes (the one place inputs are
        resolved): the model and accelerator chosen, the Scenario's defaults for the other."""
        from llmphys.scenario import Scenario

        return Scenario(model, hardware, compute=precision)

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
        binding = formula.bind(self.fixed, partial=True)
        keep, fixed = binding.keep, binding.values
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
            choice = choice_name(entry, value)
            if choice == CUSTOM:
                self.custom[name].value = value
            control.value = choice
            return
        if isinstance(control, widgets.FloatLogSlider):
            set_log_value(control, round(value) if entry.integer else value)
            return
        if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
            if value < control.min:
                control.min = math.floor(value) if entry.integer else value
            if value > control.max:
                control.max = math.ceil(value) if entry.integer else value
        control.value = round(value) if entry.integer else value
