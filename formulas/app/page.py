"""The sizing page: :class:`SizingApp`, an ipywidgets tree over a :class:`Scenario`.

Layout (top to bottom, inputs on the left and figures on the right when the page is wide):

* **model**: a preset dropdown and an upload button for a Hugging Face ``config.json``
  (read with :func:`llmphys.load_hf_config`; a malformed or unsupported file leaves the model
  as it was and says why);
* **accelerator** and its compute precision (the dense peak FLOP rate used);
* **settings**: weight and KV precisions, context, batch and GPU count, and the efficiency
  assumptions (folded), each control built from its glossary entry by
  :func:`llmphys.widgets.control_for`;
* **memory**: weights, KV cache, workspace, total and per GPU, a bar against the capacity;
* **limits**: the largest context and batch that fit and the fewest GPUs (:mod:`llmphys.sizing`);
* **speed**: the decode tokens/s bounds and the time to first token;
* **solve for**: any input of a figure's formula, for a target typed as "2 s" or "80 GB".

Every figure has a "show derivation" toggle.  Errors are shown as the toolkit's messages, in
the page: the page keeps working.

Each figure's value carries a stable hook for programs (the browser test reads them):
``<span class="llmphys-<key>" data-value="<number in the formula's unit>">``, the key of
:data:`~llmphys.app.scenario.FIGURES` with ``-`` for ``_`` (``llmphys-total-vram``).  Inputs
carry ``llmphys-model``, ``llmphys-hardware``, ``llmphys-precision``, ``llmphys-upload`` and
``llmphys-<setting>`` (``llmphys-seq-len``); the inputs in use are listed as
``<span class="llmphys-input" data-name=... data-value=...>``; errors appear in elements of
class ``llmphys-error``.
"""

from __future__ import annotations

import asyncio
import functools
import html
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import ipywidgets as widgets
import pint

from llmphys.app.scenario import (
    ASSUMPTIONS,
    FIGURES,
    QUESTIONS,
    SETTINGS,
    Figure,
    Scenario,
    read_config,
)
from llmphys.engine.formula import registry
from llmphys.engine.numbers import format_quantity, text_number
from llmphys.errors import LlmphysError
from llmphys.units import ureg
from llmphys.widgets import CUSTOM, DERIVATION_DELAY, control_for, read_control, settle_control

__all__ = ["FigureView", "SizingApp", "hook", "solution_html"]

#: Errors a user can cause; they are shown as messages.
EXPECTED = (LlmphysError, pint.PintError, ValueError, ArithmeticError)

_LABELS = {
    "bytes_per_param": "weights",
    "kv_bytes": "KV cache",
    "seq_len": "context",
    "batch": "batch",
    "n_gpus": "GPUs",
    "workspace_fraction": "workspace",
    "utilization": "MFU",
    "bw_utilization": "MBU",
    "overhead": "TTFT overhead",
    "flash_attention": "FlashAttention",
    "causal_factor": "causal factor",
    "act_bytes": "activations",
}
_BOUNDS = (("≤ at most", "at_most"), ("≥ at least", "at_least"), ("= exactly", "equal"))
_TARGETS = {
    "ttft": "2 s",
    "tokens_per_second_per_user": "20 tok/s",
    "tokens_per_second_per_gpu": "1000 tok/s",
}
_FIRST_UNKNOWN = {
    "memory_per_gpu": "seq_len",
    "ttft": "prompt_len",
    "tokens_per_second_per_user": "batch",
    "tokens_per_second_per_gpu": "batch",
}
_COLOURS = {"weight_bytes": "#4c72b0", "kv_cache_bytes": "#dd8452", "workspace_bytes": "#55a868"}
_SECTIONS = (
    (
        "memory",
        ("weight_bytes", "kv_cache_bytes", "workspace_bytes", "total_vram", "memory_per_gpu"),
    ),
    ("limits", ("largest_context", "largest_batch", "fewest_gpus")),
    ("speed", ("tokens_per_second_per_user", "tokens_per_second_per_gpu", "ttft")),
)
_ROW_LABEL = widgets.Layout(width="17em")
_CONTROL_LABEL = widgets.Layout(width="9.5em")


def hook(key: str) -> str:
    """The CSS class of a figure or an input: ``llmphys-total-vram``."""
    return "llmphys-" + key.replace("_", "-")


def _escape(text: str) -> str:
    return html.escape(str(text)).replace("\n", "<br>")


def _error_html(text: str) -> str:
    return f'<span class="llmphys-message" style="color:#b00020">{_escape(text)}</span>'


def _span(key: str, number: float, shown: str) -> str:
    return f'<span class="{hook(key)}" data-value="{float(number)!r}">{_escape(shown)}</span>'


def _quantity_text(q: pint.Quantity) -> str:
    shown = format_quantity(q, sig=3)
    if q.dimensionality == ureg.byte.dimensionality:
        shown += f" = {format_quantity(q, sig=3, binary=True)}"
    return shown


def solution_html(solution: Any) -> str:
    """A :class:`~llmphys.Solution` for an HTMLMath widget: the question, then its worked
    derivation (the rearranged formula, the numbers, the rounding and the check)."""
    question = solution.to_dict()["question"]
    return f"<b>{_escape(question)}</b>{solution._repr_latex_()}"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _guarded(method: Callable[..., None]) -> Callable[..., None]:
    """An event handler that shows any error in the page instead of raising it (a traceback
    would reach the kernel's log, and the page would look frozen)."""

    @functools.wraps(method)
    def run(self: SizingApp, *args: Any) -> None:
        try:
            method(self, *args)
        except EXPECTED as exc:
            self._show(self.message, exc)
        except Exception as exc:  # the page never shows a traceback
            self._show(self.message, f"unexpected error ({type(exc).__name__}): {exc}")

    return run


class FigureView:
    """One figure: its value (with the DOM hook), a "show derivation" toggle and the
    derivation itself (rendered only while the toggle is on)."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.result: Any = None  # a quantity, or a Solution for a question
        self.error = ""
        self._scenario: Scenario | None = None
        self.value = widgets.HTML(layout=widgets.Layout(min_width="14em"))
        self.value.add_class("llmphys-figure")
        self.toggle = widgets.ToggleButton(
            value=False,
            description="show derivation",
            tooltip=f"the worked derivation of {figure.label} (SymPy)",
            layout=widgets.Layout(width="11em"),
        )
        self.toggle.add_class(hook("derive_" + figure.key))
        self.derivation = widgets.HTMLMath(layout=widgets.Layout(display="none"))
        self.derivation.add_class(hook("derivation_" + figure.key))
        label = widgets.HTML(f"{_escape(figure.label)}", layout=_ROW_LABEL)
        label.add_class(hook("label_" + figure.key))
        self.widget = widgets.VBox(
            [widgets.HBox([label, self.value, self.toggle]), self.derivation]
        )

    def compute(self, scenario: Scenario) -> None:
        self._scenario = scenario
        try:
            self.result = scenario.value(self.figure)
        except EXPECTED as exc:
            self.fail(str(exc))
            return
        self.error = ""
        self.value.value = self._html()

    def fail(self, message: str, scenario: Scenario | None = None) -> None:
        self._scenario = scenario
        self.result = None
        self.error = message
        self.value.value = (
            f'<span class="{hook(self.figure.key)} llmphys-figure-error">'
            f"{_error_html(message)}</span>"
        )

    @property
    def number(self) -> float | None:
        """The figure as a plain number (the formula's unit), or None."""
        if self.result is None:
            return None
        if self.figure.is_question:
            return float(self.result.value.magnitude)
        return float(self.result.magnitude)

    def _html(self) -> str:
        key = self.figure.key
        if not self.figure.is_question:
            return _span(key, self.result.magnitude, _quantity_text(self.result))
        s = self.result
        entry = registry.glossary[s.unknown]
        unit = f" {entry.unit_text}" if entry.unit_text else ""
        value = float(s.value.magnitude)
        shown = _span(key, value, f"{text_number(value, exact=True)}{unit}")
        if s.rounding is not None and s.exact is not None:
            how = {"floor": "rounded down", "ceil": "rounded up", "nearest": "rounded"}
            shown += (
                f' <small style="color:#555">({how[s.rounding]} from '
                f"{text_number(float(s.exact.magnitude), sig=6)})</small>"
            )
        return shown

    def render_derivation(self) -> None:
        if not self.toggle.value:
            self.derivation.value = ""
            self.derivation.layout.display = "none"
            return
        self.derivation.layout.display = None
        if self.result is None or self._scenario is None:
            self.derivation.value = f"<i>{_escape(self.error or 'no result')}</i>"
            return
        try:
            if self.figure.is_question:
                self.derivation.value = solution_html(self.result)
            else:
                self.derivation.value = self._scenario.derivation(self.figure)._repr_latex_()
        except EXPECTED as exc:
            self.derivation.value = f"<i>{_escape(str(exc))}</i>"


class SizingApp:
    """The sizing page (see the module docstring); display it in a notebook or serve it with
    Voilà (``llmphys app``).

    Attributes a program (or a test) can drive without a browser: ``model``, ``hardware``,
    ``precision`` (Dropdowns), ``upload`` (FileUpload), ``controls`` (``{setting: widget}``),
    ``custom`` (number boxes of the "custom" precisions), ``views`` (``{figure key:
    FigureView}``, each with ``result``, ``number``, ``error``, ``toggle``, ``derivation``),
    the "solve for" widgets ``solve_question``, ``solve_for``, ``solve_target``,
    ``solve_bound``, ``solve_answer``, ``solve_message``, ``solve_toggle`` and
    ``solve_derivation``, and ``message`` / ``upload_message`` (errors).  ``scenario`` is the
    :class:`Scenario` in use, ``solution`` the last answer of "solve for".

    It starts with ``model`` on ``accelerator`` (computing at ``precision``) and the
    ``settings`` given (names of :data:`~llmphys.app.scenario.SETTINGS` and
    :data:`~llmphys.app.scenario.ASSUMPTIONS`), the others at :attr:`START` or their glossary
    defaults: Llama 3.1 70B in BF16 on two H100 SXM, a 10K context.
    """

    #: Settings the page starts with, where they differ from the glossary defaults.
    START: Mapping[str, Any] = MappingProxyType({"n_gpus": 2})

    def __init__(
        self,
        model: str = "llama-3.1-70b",
        accelerator: str = "h100-sxm",
        precision: str = "bf16",
        *,
        models: Mapping[str, Any] | None = None,
        hardware: Mapping[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        import llmphys

        settings = {**self.START, **settings}
        catalog = llmphys.models if models is None else models
        self.models: dict[str, Any] = {name: catalog[name] for name in catalog}
        self.accelerators: Mapping[str, Any] = llmphys.hardware if hardware is None else hardware
        self.scenario: Scenario | None = None
        self.solution: Any = None
        self._hold = 0
        self._pending: asyncio.TimerHandle | None = None

        self.message = widgets.HTML()
        self.message.add_class("llmphys-error")
        self.upload_message = widgets.HTML()
        self.upload_message.add_class("llmphys-error")
        self.upload_message.add_class("llmphys-upload-message")

        # model and accelerator
        self.model = widgets.Dropdown(
            options=self._model_options(), layout=widgets.Layout(width="22em")
        )
        self.model.add_class("llmphys-model")
        self.upload = widgets.FileUpload(
            accept=".json,application/json",
            multiple=False,
            description="upload config.json",
            tooltip="a Hugging Face config.json (llama, mistral, mixtral, qwen2, qwen3_moe, "
            "deepseek_v2/v3, gpt_oss, gemma2/3)",
            layout=widgets.Layout(width="14em"),
        )
        self.upload.add_class("llmphys-upload")
        self.model_info = widgets.HTML()
        self.model_info.add_class("llmphys-model-info")
        names = list(self.accelerators)
        self.hardware = widgets.Dropdown(
            options=[(self.accelerators[n].display_name, n) for n in names],
            layout=widgets.Layout(width="22em"),
        )
        self.hardware.add_class("llmphys-hardware")
        self.precision = widgets.Dropdown(
            description="compute", layout=widgets.Layout(width="12em")
        )
        self.precision.add_class("llmphys-precision")
        self.hardware_info = widgets.HTML()
        self.hardware_info.add_class("llmphys-hardware-info")

        # settings, each control from its glossary entry
        self.controls: dict[str, widgets.ValueWidget] = {}
        self.custom: dict[str, widgets.FloatText] = {}
        settings_rows = [self._control_row(n, settings.pop(n, None)) for n in SETTINGS]
        assumption_rows = [self._control_row(n, settings.pop(n, None)) for n in ASSUMPTIONS]
        if settings:
            raise LlmphysError(
                f"SizingApp: {next(iter(settings))!r} is not a setting (settings: "
                f"{', '.join((*SETTINGS, *ASSUMPTIONS))})"
            )
        assumptions = widgets.Accordion(
            children=[widgets.VBox(assumption_rows)], selected_index=None
        )
        assumptions.set_title(0, "assumptions (efficiencies, workspace, attention)")
        self.inputs_used = widgets.HTML()
        self.inputs_used.add_class("llmphys-inputs")

        # figures
        self.views: dict[str, FigureView] = {key: FigureView(f) for key, f in FIGURES.items()}
        self.bar = widgets.HTML()
        self.bar.add_class("llmphys-memory-bar")
        self.fits = widgets.HTML()
        self.fits.add_class("llmphys-fits")
        for view in self.views.values():
            view.toggle.observe(self._on_toggle, "value")

        # solve for
        self.solve_question = widgets.Dropdown(
            options=[("pick a figure…", ""), *((q.label, n) for n, q in QUESTIONS.items())],
            value="",
            description="figure",
            layout=widgets.Layout(width="22em"),
        )
        self.solve_question.add_class("llmphys-solve-question")
        self.solve_for = widgets.Dropdown(
            description="solve for", layout=widgets.Layout(width="30em")
        )
        self.solve_for.add_class("llmphys-solve-for")
        self.solve_bound = widgets.ToggleButtons(options=_BOUNDS, value="at_most")
        self.solve_bound.add_class("llmphys-solve-bound")
        self.solve_target = widgets.Text(
            description="target",
            placeholder="e.g. 80 GB, 2 s, 20 tok/s",
            continuous_update=False,
            layout=widgets.Layout(width="18em"),
        )
        self.solve_target.add_class("llmphys-solve-target")
        self.solve_answer = widgets.HTML()
        self.solve_answer.add_class("llmphys-solve-answer")
        self.solve_message = widgets.HTML()
        self.solve_message.add_class("llmphys-error")
        self.solve_message.add_class("llmphys-solve-message")
        self.solve_toggle = widgets.ToggleButton(value=False, description="show derivation")
        self.solve_toggle.add_class("llmphys-derive-solve")
        self.solve_derivation = widgets.HTMLMath(layout=widgets.Layout(display="none"))
        self.solve_derivation.add_class("llmphys-derivation-solve")
        self._solve_box = widgets.VBox(
            [
                widgets.HBox([self.solve_for]),
                widgets.HBox([self.solve_target, self.solve_bound]),
                self.solve_answer,
                self.solve_message,
                self.solve_toggle,
                self.solve_derivation,
            ],
            layout=widgets.Layout(display="none"),
        )

        # the initial state, then the observers
        self._select_model(model)
        self.hardware.value = (
            self.accelerators[accelerator].name if accelerator in self.accelerators else names[0]
        )
        self._sync_precisions(precision)
        self.model.observe(self._on_model, "value")
        self.hardware.observe(self._on_hardware, "value")
        self.precision.observe(self._on_change, "value")
        self.upload.observe(self._on_upload, "value")
        self.solve_question.observe(self._on_question, "value")
        self.solve_for.observe(self._on_change, "value")
        self.solve_bound.observe(self._on_change, "value")
        self.solve_target.observe(self._on_change, "value")
        self.solve_toggle.observe(self._on_toggle, "value")

        inputs = widgets.VBox(
            [
                self._heading("model"),
                widgets.HBox([self.model, self.upload]),
                self.upload_message,
                self.model_info,
                self._heading("accelerator"),
                widgets.HBox([self.hardware, self.precision]),
                self.hardware_info,
                self._heading("settings"),
                *settings_rows,
                assumptions,
                self.inputs_used,
            ],
            layout=widgets.Layout(width="40em", margin="0 2em 0 0"),
        )
        sections: list[widgets.Widget] = [self.message]
        for title, keys in _SECTIONS:
            sections.append(self._heading(title))
            if title == "memory":
                sections += [self.bar, self.fits]
            sections += [self.views[k].widget for k in keys]
        sections.append(
            widgets.HTML(
                "<small style='color:#555'>Decode speed: a token attending to the full "
                "context (the slowest step), on one accelerator's roofline; TTFT: the whole "
                "context as the prompt.  The GPU count splits the memory only.</small>"
            )
        )
        sections += [self._heading("solve for"), self.solve_question, self._solve_box]
        results = widgets.VBox(sections, layout=widgets.Layout(flex="1 1 40em"))
        self.widget = widgets.HBox([inputs, results], layout=widgets.Layout(flex_flow="row wrap"))
        self.widget.add_class("llmphys-app")
        self.update()

    # ------------------------------------------------------------------- construction
    @staticmethod
    def _heading(text: str) -> widgets.HTML:
        return widgets.HTML(f"<h3 style='margin:0.6em 0 0.2em 0'>{_escape(text)}</h3>")

    def _model_options(self) -> list[tuple[str, str]]:
        return [(getattr(m, "display_name", key), key) for key, m in self.models.items()]

    def _control_row(self, name: str, value: Any) -> widgets.HBox:
        entry = registry.glossary[name]
        control = control_for(entry, value)
        control.layout = widgets.Layout(width="19em")  # a Layout of its own: never shared
        control.add_class(hook(name))
        control.observe(self._on_control, "value")
        self.controls[name] = control
        label = widgets.HTML(
            f"{_escape(_LABELS.get(name, entry.text))} "
            f"<small style='color:#555'>{_escape(entry.text)}</small>",
            layout=_CONTROL_LABEL,
            tooltip=entry.describe(),
        )
        parts: list[widgets.Widget] = [label, control]
        if entry.choices:
            box = widgets.FloatText(
                value=entry.default or 1.0,
                disabled=control.value != CUSTOM,
                layout=widgets.Layout(width="7em"),
                tooltip=f"custom {entry.text}, in {entry.unit_text}",
            )
            if control.value == CUSTOM and value is not None:
                box.value = float(value)
            box.add_class(hook(name + "_custom"))
            box.observe(self._on_change, "value")
            self.custom[name] = box
            parts.append(box)
        parts.append(widgets.Label(entry.unit_text))
        return widgets.HBox(parts)

    # ------------------------------------------------------------------- reading state
    def settings(self) -> dict[str, float]:
        """The settings as the controls hold them, in glossary units."""
        out = {}
        for name, control in self.controls.items():
            out[name] = read_control(registry.glossary[name], control, self.custom.get(name))
        return out

    def _build_scenario(self) -> Scenario:
        return Scenario(
            self.models[self.model.value],
            self.accelerators[self.hardware.value],
            self.precision.value,
            **self.settings(),
        )

    # ------------------------------------------------------------------- events
    @contextmanager
    def _held(self) -> Iterator[None]:
        """Change widgets without recomputing on each change (the caller updates once)."""
        self._hold += 1
        try:
            yield
        finally:
            self._hold -= 1

    def _show(self, widget: widgets.HTML, error: Any) -> None:
        widget.value = _error_html(str(error))

    @_guarded
    def _on_change(self, change: dict[str, Any] | None = None) -> None:
        if self._hold == 0:
            self.update()

    @_guarded
    def _on_control(self, change: dict[str, Any]) -> None:
        owner = change["owner"]
        name = next((n for n, c in self.controls.items() if c is owner), None)
        if name is not None and settle_control(
            registry.glossary[name], owner, self.custom.get(name)
        ):
            return  # snapped to a whole number: the change comes back here
        self._on_change()

    @_guarded
    def _on_model(self, change: dict[str, Any]) -> None:
        self.upload_message.value = ""  # it spoke of the model before
        self._render_model()
        self._on_change()

    @_guarded
    def _on_hardware(self, change: dict[str, Any]) -> None:
        with self._held():
            self._sync_precisions(self.precision.value)
        self._on_change()

    @_guarded
    def _on_question(self, change: dict[str, Any]) -> None:
        name = change["new"]
        self._solve_box.layout.display = None if name else "none"
        with self._held():
            if name:
                question = QUESTIONS[name]
                self.solve_bound.value = question.bound
                self.solve_target.value = self._default_target(name)
                self._sync_unknowns(prefer=_FIRST_UNKNOWN.get(name))
        self._on_change()

    @_guarded
    def _on_toggle(self, change: dict[str, Any]) -> None:
        self._schedule_derivations()

    @_guarded
    def _on_upload(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0]
        name = str(item.get("name") or "config.json")
        try:
            self.add_config(name, bytes(item["content"]))
        finally:
            with self._held():
                self.upload.value = ()  # the same file can be chosen again

    def add_config(self, name: str, content: bytes) -> bool:
        """Read an uploaded ``config.json`` and select its model; on a bad file say why in
        the page and keep the model selected before.  True when the model was added."""
        current = getattr(self.models.get(self.model.value), "display_name", "")
        try:
            model = read_config(name, content)
        except EXPECTED as exc:
            text = str(exc) if repr(name) in str(exc) else f"{name}: {exc}"
            stays = f" ({current} stays selected)" if current else ""
            self.upload_message.value = _error_html(text + stays)
            return False
        key = f"upload:{name}"
        self.models[key] = model
        self._select_model(key)
        self.upload_message.value = (
            f'<span class="llmphys-upload-ok" style="color:#1b5e20">read {_escape(name)}: '
            f"{_escape(model.display_name)}</span>"
        )
        return True

    def _select_model(self, key: str) -> None:
        with self._held():
            options = []
            for k, m in self.models.items():
                label = getattr(m, "display_name", k)
                if k.startswith("upload:"):
                    label = f"{label} (uploaded {k.removeprefix('upload:')})"
                options.append((label, k))
            if list(self.model.options) != options:
                self.model.options = options
            self.model.value = key if key in self.models else next(iter(self.models))
        self._render_model()
        self._on_change()

    def _sync_precisions(self, wanted: str) -> None:
        accelerator = self.accelerators[self.hardware.value]
        known = list(accelerator.precisions())
        if list(self.precision.options) != known:
            self.precision.options = known
        self.precision.value = wanted if wanted in known else known[0]
        self._render_hardware()

    def _sync_unknowns(self, prefer: str | None = None) -> None:
        name = self.solve_question.value
        if not name or self.scenario is None:
            return
        gloss = registry.glossary
        names = self.scenario.unknowns(name)
        options = [(f"{gloss[n].text}: {gloss[n].meaning}"[:80], n) for n in names]
        current = prefer if prefer in names else self.solve_for.value
        if list(self.solve_for.options) != options:
            self.solve_for.options = options
        self.solve_for.value = current if current in names else names[0]

    def _default_target(self, name: str) -> str:
        if name == "memory_per_gpu" and self.scenario is not None:
            return f"{self.scenario.capacity.to('GiB').magnitude:.6g} GiB"
        return _TARGETS.get(name, "")

    # ------------------------------------------------------------------- the work
    def update(self) -> None:
        """Recompute every figure (and the "solve for" answer) from the widgets' state."""
        self.message.value = ""
        try:
            self.scenario = scenario = self._build_scenario()
        except EXPECTED as exc:
            self.scenario = None
            self._show(self.message, exc)
            for view in self.views.values():
                view.fail("no result: see the message above")
            self.bar.value = self.fits.value = self.inputs_used.value = ""
            return
        for view in self.views.values():
            view.compute(scenario)
        self._render_memory(scenario)
        self._render_inputs(scenario)
        self._render_hardware()
        self._update_solve(scenario)
        self._schedule_derivations()

    def _update_solve(self, scenario: Scenario) -> None:
        self.solution = None
        self.solve_answer.value = self.solve_message.value = ""
        name = self.solve_question.value
        if not name:
            return
        with self._held():
            self._sync_unknowns()
        unknown = self.solve_for.value
        text = self.solve_target.value.strip()
        if not text:
            self._show(self.solve_message, "type a target, such as 80 GB, 2 s or 20 tok/s")
            return
        try:
            self.solution = s = scenario.solve(name, unknown, text, self.solve_bound.value)
        except EXPECTED as exc:
            self._show(self.solve_message, exc)
            return
        entry = registry.glossary[s.unknown]
        unit = f" {entry.unit_text}" if entry.unit_text else ""
        value = float(s.value.magnitude)
        exact = entry.integer or s.rounding is not None
        answer = _span("solve_value", value, f"{text_number(value, sig=4, exact=exact)}{unit}")
        question = s.to_dict()["question"]
        self.solve_answer.value = f"{_escape(question)}: <b>{entry.text} = {answer}</b>"

    def _render_memory(self, scenario: Scenario) -> None:
        per_gpu = self.views["memory_per_gpu"].result
        try:
            self.bar.value = self._bar_html(scenario, per_gpu)
        except EXPECTED as exc:
            self.bar.value = _error_html(f"memory bar: {exc}")
        if per_gpu is None:
            self.fits.value = ""
            return
        used, capacity = per_gpu.to("byte").magnitude, scenario.capacity.to("byte").magnitude
        fits = used <= capacity
        word = "fits" if fits else "does not fit"
        colour = "#1b5e20" if fits else "#b00020"
        self.fits.value = (
            f'<span class="llmphys-fits-verdict" data-value="{str(fits).lower()}" '
            f'style="color:{colour}"><b>{word}</b>: {100 * used / capacity:.0f} % of one '
            "accelerator</span>"
        )

    def _bar_html(self, scenario: Scenario, per_gpu: pint.Quantity | None) -> str:
        """A bar of one accelerator's memory: each part's share per GPU (``memory_per_gpu``
        of the part alone) against the capacity (a red line)."""
        shares = {
            k: scenario.evaluate("memory_per_gpu", total_vram=self.views[k].result)
            for k in ("weight_bytes", "kv_cache_bytes", "workspace_bytes")
            if self.views[k].result is not None
        }
        capacity = scenario.capacity.to("byte").magnitude
        used = per_gpu.to("byte").magnitude if per_gpu is not None else 0.0
        scale = max(capacity, used) or 1.0
        blocks = []
        for key, q in shares.items():
            width = 100 * q.to("byte").magnitude / scale
            title = f"{FIGURES[key].label}: {_quantity_text(q)} per GPU"
            blocks.append(
                f'<div title="{_escape(title)}" style="width:{width:.3f}%;'
                f'background:{_COLOURS[key]};height:100%"></div>'
            )
        legend = " ".join(
            f'<span style="color:{_COLOURS[k]}">■</span> {_escape(FIGURES[k].label)}'
            for k in shares
        )
        cap_text = format_quantity(scenario.capacity, sig=4, binary=True)
        return (
            '<div style="position:relative;display:flex;height:1.4em;max-width:40em;'
            'background:#eee;border:1px solid #999">'
            + "".join(blocks)
            + f'<div title="capacity" style="position:absolute;left:{100 * capacity / scale:.3f}%;'
            'top:-3px;bottom:-3px;border-left:3px solid #b00020"></div></div>'
            f"<small>{legend} (per GPU) &nbsp; <span style='color:#b00020'>|</span> capacity "
            f"of one accelerator: {_escape(cap_text)}</small>"
        )

    def _render_inputs(self, scenario: Scenario) -> None:
        gloss = registry.glossary
        shown = []
        for name, value in scenario.settings.items():
            entry = gloss[name]
            unit = f" {entry.unit_text}" if entry.unit_text else ""
            shown.append(
                f'<span class="llmphys-input" data-name="{name}" data-value="{value!r}">'
                f"{_escape(entry.text)} = {text_number(value, exact=True)}{_escape(unit)}</span>"
            )
        self.inputs_used.value = (
            "<small style='color:#555'>inputs in use: " + ", ".join(shown) + "</small>"
        )

    def _render_model(self) -> None:
        m = self.models.get(self.model.value)
        if m is None:
            self.model_info.value = ""
            return
        v = m.values
        size = f"{v['params'] / 1e9:.4g}B parameters"
        if getattr(m, "is_moe", False):
            size += f" ({v['active_params'] / 1e9:.3g}B active)"
        lines = [f"{_escape(m.attention_text())}; {_escape(size)}"]
        lines += [f"assumed: {_escape(a)}" for a in m.assumptions]
        source = f"source: {m.source}" if m.source else ""
        if source:
            lines.append(_escape(source))
        self.model_info.value = "<small style='color:#555'>" + "<br>".join(lines) + "</small>"

    def _render_hardware(self) -> None:
        name = self.hardware.value
        if not name:
            return
        a = self.accelerators[name]
        bits = [a.capacity_text(), f"{format_quantity(a.mem_bandwidth, sig=4)}"]
        try:
            peak = a.peak_flops(self.precision.value)
            bits.append(f"{format_quantity(peak, sig=4)} dense {self.precision.value}")
        except EXPECTED:
            pass
        self.hardware_info.value = (
            "<small style='color:#555'>" + _escape("; ".join(bits)) + "</small>"
        )

    # ------------------------------------------------------------------- derivations
    def _schedule_derivations(self) -> None:
        loop = _running_loop()
        if loop is None:
            self._render_derivations()
            return
        if self._pending is not None:
            self._pending.cancel()
        self._pending = loop.call_later(DERIVATION_DELAY, self._render_derivations)

    @_guarded
    def _render_derivations(self) -> None:
        self._pending = None
        for view in self.views.values():
            if view.toggle.value or view.derivation.value:
                view.render_derivation()
        if not self.solve_toggle.value or self.solution is None:
            self.solve_derivation.value = ""
            self.solve_derivation.layout.display = "none"
        else:
            self.solve_derivation.layout.display = None
            self.solve_derivation.value = solution_html(self.solution)

    # ------------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        shown = []
        for key in ("total_vram", "memory_per_gpu", "tokens_per_second_per_user", "ttft"):
            view = self.views[key]
            shown.append(
                f"{key}={_quantity_text(view.result)}" if view.result is not None else f"{key}=-"
            )
        return f"<SizingApp {self.model.value} on {self.hardware.value}: {', '.join(shown)}>"
