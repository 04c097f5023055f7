"""The sizing page: :class:`SizingApp`, an ipywidgets tree over one :class:`llmphys.Scenario`.

Layout (top to bottom, inputs on the left and figures on the right when the page is wide):

* **model**: a preset dropdown and an upload button for a Hugging Face ``config.json``
  (read with :func:`llmphys.load_hf_config`; a malformed or unsupported file leaves the model
  as it was and says why);
* **accelerator**, its compute precision (the dense peak FLOP rate used) and the link between
  GPUs (the accelerator's usual one unless another is picked);
* **settings**: weight and KV precisions, prompt and output lengths, batch, the layout
  (tensor, pipeline and expert parallel degrees), a price per GPU-hour, and the assumptions
  (folded: a named set, ``typical`` first, and its values; yes/no ones as check boxes), each
  control built from its glossary entry by :func:`llmphys.widgets.control_for`;
* **memory**: weights, KV cache, workspace, total, and per GPU of the layout, a bar against
  the capacity;
* **limits**: the largest context and batch that fit at this layout and the fewest GPUs (and
  their layout);
* **speed**: decode tokens/s per user and per GPU of the layout, TTFT, TPOT, end-to-end,
  each expected (the chosen assumption set) with the roofline bound (``ideal``) beside it;
* **cost and energy**: price per million output and input tokens at the price typed, energy
  per token at the TDP, expected and bound;
* **solve for**: any input of a figure's formula, for a target typed as "2 s" or "80 GB"
  (a bare number is read in the figure's unit, and the page says so);
* **copy and export** (folded): the deployment as Python and as an ``llmphys scenario``
  command that give the same numbers, and its figures as JSON or CSV.

Every figure has a "show derivation" toggle (then "hide derivation").  Errors are shown as
the toolkit's messages, in the page (a long one as its first clause, the whole on demand):
the page keeps working.

Each figure's value carries a stable hook for programs (the browser test reads them):
``<span class="llmphys-<key>" data-value="<number in the formula's unit>">``, the key of
:data:`~llmphys.app.figures.FIGURES` with ``-`` for ``_`` (``llmphys-total-vram``).  Inputs
carry ``llmphys-model``, ``llmphys-hardware``, ``llmphys-precision``, ``llmphys-interconnect``,
``llmphys-assumptions``, ``llmphys-upload`` and ``llmphys-<setting>`` (``llmphys-prompt-len``);
the inputs in use are listed, each with its provenance as a tooltip, as
``<span class="llmphys-input" data-name=... data-value=...>``; errors appear in elements of
class ``llmphys-error``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from llmphys.app import panels
from llmphys.app.figures import (
    ASSUMPTIONS,
    FIGURES,
    START,
    read_config,
    scenario_of,
)
from llmphys.app.frontier_panel import FrontierPanel
from llmphys.app.settings_panel import SettingsPanel
from llmphys.app.solve_panel import SolvePanel
from llmphys.app.views import (
    EXPECTED,
    FigureView,
    error_html,
    escape,
    hook,
    quantity_text,
    solution_html,
)
from llmphys.controls import DERIVATION_DELAY, running_loop, settle_control
from llmphys.engine.formula import registry
from llmphys.scenario import DEFAULTS, Scenario

__all__ = ["FigureView", "SizingApp", "hook", "solution_html"]

_SECTIONS = (
    (
        "memory",
        ("weight_bytes", "kv_cache_bytes", "workspace_bytes", "total_vram", "memory_per_gpu"),
    ),
    ("limits", ("largest_context", "largest_batch", "fewest_gpus")),
    (
        "speed",
        ("tokens_per_second_per_user", "tokens_per_second_per_gpu", "ttft", "tpot", "e2e_latency"),
    ),
    (
        "cost and energy",
        ("cost_per_million_tokens", "cost_per_million_input_tokens", "energy_per_token"),
    ),
)


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

    It starts with ``model`` on ``accelerator`` (computing at ``precision``) under the
    ``assumptions`` set and the ``settings`` given (names of
    :data:`~llmphys.app.figures.SETTINGS` and :data:`~llmphys.app.figures.ASSUMPTIONS`), the
    others at :attr:`START` (the Scenario's defaults, as the CLI and the Python API), the
    set's values or their glossary defaults: Llama 3.1 70B in BF16 on one H100 SXM, a 4K
    prompt and 1K output tokens, the ``typical`` assumptions.
    """

    #: Settings the page starts with: the Scenario's defaults.
    START: Mapping[str, Any] = START

    def __init__(
        self,
        model: str = DEFAULTS["model"],
        accelerator: str = DEFAULTS["hardware"],
        precision: str = DEFAULTS["compute"],
        *,
        assumptions: str = DEFAULTS["assumptions"],
        models: Mapping[str, Any] | None = None,
        hardware: Mapping[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        import llmphys

        chosen = llmphys.assumption_sets[assumptions]
        settings = {
            **self.START,
            **{n: v for n, v in chosen.at(precision)[0].items() if n in ASSUMPTIONS},
            **settings,
        }
        catalog = llmphys.models if models is None else models
        self.models: dict[str, Any] = {name: catalog[name] for name in catalog}
        self.accelerators: Mapping[str, Any] = llmphys.hardware if hardware is None else hardware
        self.scenario: Scenario | None = None
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
        self.interconnect = widgets.Dropdown(
            options=[("the accelerator's usual link", "")]
            + [(llmphys.interconnects[n].display_name, n) for n in llmphys.interconnects],
            value="",
            description="link",
            layout=widgets.Layout(width="22em"),
        )
        self.interconnect.add_class("llmphys-interconnect")

        # settings and assumptions, each control from its glossary entry
        self.settings_panel = SettingsPanel(settings, chosen, self._on_control, self._on_change)
        self.controls = self.settings_panel.controls
        self.custom = self.settings_panel.custom
        self.assumption_set = self.settings_panel.assumption_set
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

        # solve for (the widgets are also the page's attributes, for programs and tests)
        self.solve = SolvePanel(self._held, self._on_change, self._on_toggle)
        self.solve_question = self.solve.question
        self.solve_for = self.solve.unknown
        self.solve_bound = self.solve.bound
        self.solve_target = self.solve.target
        self.solve_answer = self.solve.answer
        self.solve_message = self.solve.message
        self.solve_toggle = self.solve.toggle
        self.solve_derivation = self.solve.derivation

        # the initial state, then the observers
        self._select_model(model)
        self.hardware.value = (
            self.accelerators[accelerator].name if accelerator in self.accelerators else names[0]
        )
        self._sync_precisions(precision)
        self.model.observe(self._on_model, "value")
        self.hardware.observe(self._on_hardware, "value")
        self.precision.observe(self._on_precision, "value")
        self.interconnect.observe(self._on_change, "value")
        self.assumption_set.observe(self._on_assumption_set, "value")
        self.upload.observe(self._on_upload, "value")
        self.solve_question.observe(self._on_question, "value")

        inputs = widgets.VBox(
            [
                self._heading("model"),
                widgets.HBox([self.model, self.upload]),
                self.upload_message,
                self.model_info,
                self._heading("accelerator"),
                widgets.HBox([self.hardware, self.precision]),
                self.interconnect,
                self.hardware_info,
                self._heading("settings"),
                *self.settings_panel.rows,
                self.settings_panel.assumptions,
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
                "<small style='color:#555'>Every figure follows the layout: n_TP GPUs split "
                "the weights and KV heads (what stays replicated is counted on each), decode "
                "is the layout's roofline step with its all-reduces at the mean context "
                "(prompt + output / 2), prefill is split over the n_TP GPUs.</small>"
            )
        )
        self.frontier = FrontierPanel(self._on_change)
        sections += [self._heading("throughput against interactivity"), self.frontier.box]
        sections += [self._heading("solve for"), self.solve_question, self.solve.box]
        # copy as Python / as CLI and downloads: built when opened (the summary is not free)
        self.export_python = widgets.HTML()
        self.export_cli = widgets.HTML()
        self.export_links = widgets.HTML()
        self.export = widgets.Accordion(
            children=[
                widgets.VBox(
                    [
                        widgets.HTML("<b>copy as Python</b>"),
                        self.export_python,
                        widgets.HTML("<b>copy as a command line</b>"),
                        self.export_cli,
                        self.export_links,
                    ]
                )
            ],
            selected_index=None,
        )
        self.export.set_title(0, "copy as Python or CLI, download JSON or CSV")
        self.export.add_class("llmphys-export")
        self.export.observe(self._on_export, "selected_index")
        sections.append(self.export)
        results = widgets.VBox(sections, layout=widgets.Layout(flex="1 1 40em"))
        self.widget = widgets.HBox([inputs, results], layout=widgets.Layout(flex_flow="row wrap"))
        self.widget.add_class("llmphys-app")
        self.update()

    # ------------------------------------------------------------------- construction
    @staticmethod
    def _heading(text: str) -> widgets.HTML:
        return widgets.HTML(f"<h3 style='margin:0.6em 0 0.2em 0'>{escape(text)}</h3>")

    def _model_options(self) -> list[tuple[str, str]]:
        return [(getattr(m, "display_name", key), key) for key, m in self.models.items()]

    # ------------------------------------------------------------------- reading state
    def settings(self) -> dict[str, float]:
        """The settings as the controls hold them, in glossary units."""
        return self.settings_panel.read()

    def _build_scenario(self) -> Scenario:
        return scenario_of(
            self.models[self.model.value],
            self.accelerators[self.hardware.value],
            self.precision.value,
            self.assumption_set.value,
            self.interconnect.value or None,
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
        widget.value = error_html(str(error))

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
    def _on_assumption_set(self, change: dict[str, Any]) -> None:
        import llmphys

        with self._held():
            self.settings_panel.reset_to(
                llmphys.assumption_sets[change["new"]], self.precision.value
            )
        self._on_change()

    @_guarded
    def _on_precision(self, change: dict[str, Any]) -> None:
        """A set's value that differs at the new compute precision (``typical``'s utilization
        at FP8) follows it, unless the user moved it."""
        import llmphys

        chosen = llmphys.assumption_sets[self.assumption_set.value]
        with self._held():
            self.settings_panel.follow(chosen, change["old"], change["new"])
        self._on_change()

    @_guarded
    def _on_question(self, change: dict[str, Any]) -> None:
        self.solve.pick(change["new"], self.scenario)
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
            self.upload_message.value = error_html(text + stays)
            return False
        # every upload is kept: two files called config.json are two models
        number = 1 + sum(k.startswith("upload:") for k in self.models)
        key = f"upload:{number}:{name}"
        self.models[key] = model
        self._select_model(key)
        self.upload_message.value = (
            f'<span class="llmphys-upload-ok" style="color:#1b5e20">read {escape(name)}: '
            f"{escape(model.display_name)}</span>"
        )
        return True

    def _select_model(self, key: str) -> None:
        with self._held():
            options = []
            for k, m in self.models.items():
                label = getattr(m, "display_name", k)
                if k.startswith("upload:"):
                    number, file = k.removeprefix("upload:").split(":", 1)
                    label = f"{label} (upload {number}, {file})"
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
            self.solve.clear("no answer: the inputs above make no deployment (see the message)")
            self.frontier.clear()
            return
        try:  # the same deployment at the roofline, beside the expected speed figures
            bound = None if scenario.assumptions.name == "ideal" else scenario.bound()
        except EXPECTED:  # pragma: no cover - the bound of a valid deployment is valid
            bound = None
        for view in self.views.values():
            view.compute(scenario, bound)
        self._render_memory(scenario)
        self._render_inputs(scenario)
        self._render_hardware()
        self.solve.update(scenario)
        self.frontier.update(scenario)
        self._render_export()
        self._schedule_derivations()

    def _render_export(self) -> None:
        if getattr(self, "export", None) is None or self.export.selected_index is None:
            return
        if self.scenario is None:
            self.export_python.value = self.export_cli.value = self.export_links.value = ""
            return
        try:
            python, cli, links = panels.export_html(self.scenario)
        except EXPECTED as exc:
            self._show(self.export_links, exc)
            return
        self.export_python.value, self.export_cli.value, self.export_links.value = (
            python,
            cli,
            links,
        )

    @_guarded
    def _on_export(self, change: dict[str, Any]) -> None:
        self._render_export()

    def _render_memory(self, scenario: Scenario) -> None:
        per_gpu = self.views["memory_per_gpu"].result
        try:
            self.bar.value = panels.memory_bar(scenario, per_gpu)
        except EXPECTED as exc:
            self.bar.value = error_html(f"memory bar: {exc}")
        self.fits.value = "" if per_gpu is None else panels.fits(per_gpu, scenario.capacity)

    def _render_inputs(self, scenario: Scenario) -> None:
        self.inputs_used.value = panels.inputs_in_use(scenario, list(self.controls))

    def _render_model(self) -> None:
        m = self.models.get(self.model.value)
        self.model_info.value = "" if m is None else panels.model_info(m)

    def _render_hardware(self) -> None:
        name = self.hardware.value
        if name:
            a = self.accelerators[name]
            self.hardware_info.value = panels.hardware_info(a, self.precision.value)

    # ------------------------------------------------------------------- derivations
    def _schedule_derivations(self) -> None:
        loop = running_loop()
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
        self.solve.render_derivation()

    @property
    def solution(self) -> Any:
        """The last answer of "solve for" (a :class:`~llmphys.Solution`), or None."""
        return self.solve.solution

    # ------------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        shown = []
        for key in ("total_vram", "memory_per_gpu", "tokens_per_second_per_user", "ttft"):
            view = self.views[key]
            shown.append(
                f"{key}={quantity_text(view.result)}" if view.result is not None else f"{key}=-"
            )
        return f"<SizingApp {self.model.value} on {self.hardware.value}: {', '.join(shown)}>"
