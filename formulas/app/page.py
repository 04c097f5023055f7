"""The sizing page: :class:`SizingApp`, an ipywidgets tree over one :class:`llmphys.Scenario`.

Layout (top to bottom, inputs on the left and figures on the right when the page is wide):

* **a link to this page** (its state as a query string, :mod:`llmphys.app.page_state`;
  served by ``llmphys app``, the address bar follows it, and opening the link rebuilds the
  page: :meth:`SizingApp.from_query`);
* **model**: a preset dropdown and an upload button for a Hugging Face ``config.json``
  (:mod:`llmphys.app.model_panel`), with the model's released precisions and context;
* **accelerator**, its compute precision (the dense peak FLOP rate used) and the link between
  GPUs (the accelerator's usual one unless another is picked);
* **settings**: weight precision (first "as released": the model's own) and KV precision,
  prompt and output lengths, batch, the layout (tensor, pipeline and expert parallel
  degrees), a price per GPU-hour, and the assumptions (folded: a named set, ``typical``
  first, and its values; yes/no ones as check boxes), each control built from its glossary
  entry by :func:`llmphys.widgets.control_for`, a slider with a box that reads a typed value
  and never clamps it (:mod:`llmphys.app.settings_panel`); a workload beyond the model's
  context is said;
* **memory**: weights, KV cache, workspace, total, and per GPU of the layout, a bar against
  the capacity;
* **limits**: the largest context and batch that fit at this layout and the fewest GPUs (and
  their layout);
* **speed**: decode tokens/s per user and per GPU of the layout, TTFT, TPOT, end-to-end,
  each expected (the chosen assumption set) with the roofline bound (``ideal``) beside it;
* **cost and energy**: price per million output and input tokens at the price typed, energy
  per token at the TDP, expected and bound;
* **throughput against interactivity**: the frontier over batches
  (:mod:`llmphys.app.frontier_panel`);
* **compare two deployments**: pin this one as B, change anything, read both side by side
  with the differences highlighted (:mod:`llmphys.app.compare_panel`);
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

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from llmphys.app import layout, panels
from llmphys.app.compare_panel import ComparePanel
from llmphys.app.export_panel import ExportPanel
from llmphys.app.figures import (
    FIGURES,
    START,
)
from llmphys.app.frontier_panel import FrontierPanel
from llmphys.app.hardware_panel import HardwarePanel
from llmphys.app.model_panel import UPLOAD, ModelPanel
from llmphys.app.page_state import PageState, link_query, read_link
from llmphys.app.settings_panel import SettingsPanel
from llmphys.app.solve_panel import SolvePanel
from llmphys.app.views import (
    EXPECTED,
    FigureView,
    error_html,
    hook,
    quantity_text,
    solution_html,
)
from llmphys.app.warmup import WarmUp
from llmphys.controls import DERIVATION_DELAY, Deferred, settle_control
from llmphys.engine.formula import registry
from llmphys.scenario import DEFAULTS, Scenario

__all__ = ["FigureView", "SizingApp", "hook", "solution_html"]


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
    set's values or their glossary defaults: Llama 3.1 70B as released (BF16) on one H100 SXM,
    a 4K prompt and 1K output tokens, the ``typical`` assumptions.
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
        # the page's start is one definition, the link's (what a link leaves out)
        start = PageState(compute=precision, assumptions=assumptions, settings=settings)
        settings = dict(start.with_start().settings)
        self.model_panel = ModelPanel(
            llmphys.models if models is None else models, self._on_change
        )
        self.models = self.model_panel.models
        self.accelerators: Mapping[str, Any] = llmphys.hardware if hardware is None else hardware
        self.scenario: Scenario | None = None
        self._hold = 0
        self._derivations = Deferred(DERIVATION_DELAY, self._render_derivations)
        self._warmup = WarmUp(lambda: (self.model.value, self.scenario))

        self.message = widgets.HTML()
        self.message.add_class("llmphys-error")
        # model (the panel's widgets are also the page's attributes) and accelerator
        self.model = self.model_panel.dropdown
        self.upload = self.model_panel.upload
        self.upload_message = self.model_panel.message
        self.model_info = self.model_panel.info
        self.hardware_panel = HardwarePanel(self.accelerators)
        self.hardware = self.hardware_panel.dropdown
        self.precision = self.hardware_panel.precision
        self.interconnect = self.hardware_panel.interconnect
        self.hardware_info = self.hardware_panel.info

        # settings and assumptions, each control from its glossary entry
        self.settings_panel = SettingsPanel(settings, chosen, self._on_control, self._on_change)
        self.controls = self.settings_panel.controls
        self.custom = self.settings_panel.custom
        self.assumption_set = self.settings_panel.assumption_set
        self.inputs_used = widgets.HTML()
        self.inputs_used.add_class("llmphys-inputs")
        self.context_note = widgets.HTML()

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
        self.hardware_panel.select(accelerator, precision)
        self.model.observe(self._on_model, "value")
        self.hardware.observe(self._on_hardware, "value")
        self.precision.observe(self._on_precision, "value")
        self.interconnect.observe(self._on_change, "value")
        self.assumption_set.observe(self._on_assumption_set, "value")
        self.upload.observe(self._on_upload, "value")
        self.solve_question.observe(self._on_question, "value")

        # the link to this state (the served page keeps the address bar on it)
        self.share = widgets.HTML()
        self.share.add_class("llmphys-share-box")
        self.link_message = widgets.HTML()
        self.link_message.add_class("llmphys-link-message")
        self.frontier = FrontierPanel(self._on_change)
        self.compare = ComparePanel(self.state, self.apply_state, self._state_scenario,
                                    self._on_pinned)  # fmt: skip
        # copy as Python / as CLI and downloads: built when opened (the summary is not free)
        self.export_panel = ExportPanel()
        self.export = self.export_panel.box
        self.export_python = self.export_panel.python
        self.export_cli = self.export_panel.cli
        self.export_links = self.export_panel.links
        self.widget = layout.page(self)
        self.update()

    # ------------------------------------------------------------------- reading state
    def settings(self) -> dict[str, float | None]:
        """The settings as the controls hold them, in glossary units (the weights as
        released: None)."""
        return self.settings_panel.read()

    # ------------------------------------------------------------------- state and links
    def state(self) -> PageState:
        """What the inputs hold (a :class:`~llmphys.app.page_state.PageState`)."""
        return PageState(
            model=self.model.value,
            hardware=self.hardware.value,
            compute=self.precision.value,
            interconnect=self.interconnect.value,
            assumptions=self.assumption_set.value,
            settings=self.settings_panel.held(),
        )

    def apply_state(self, state: PageState) -> None:
        """Put ``state`` on the page's inputs (a value beyond a slider's range widens it),
        then recompute once."""
        import llmphys

        with self._held():
            if state.model in self.models:
                self._select_model(state.model)
            self.hardware.value = state.hardware
            self.hardware_panel.sync(state.compute)
            self.interconnect.value = state.interconnect
            self.assumption_set.value = state.assumptions
            chosen = llmphys.assumption_sets[state.assumptions]
            self.settings_panel.reset_to(chosen, self.precision.value)
            self.settings_panel.put(state.with_start().settings)
        self.update()

    @classmethod
    def from_query(cls, query: str, **options: Any) -> SizingApp:
        """The page a link's query string describes (``?model=deepseek-v3&tp=8``, B pinned
        with ``vs=``; see :mod:`llmphys.app.page_state`).  What the link gives that cannot be
        used is said in the page (``llmphys-link-message``) and left at the start.
        ``options`` are :class:`SizingApp`'s."""
        app = cls(**options)
        state, pinned, problems = read_link(query, app.models, app.accelerators)
        app.apply_state(state)
        if pinned is not None:
            app.compare.set(pinned)
        if problems:
            app.link_message.value = error_html(
                "the link's " + "; ".join(problems) + ": the page's start is used instead"
            )
        return app

    def query(self) -> str:
        """The query string of a link to the page as it is (B pinned included, as ``vs=``);
        an uploaded model is not in it (a link cannot carry the file)."""
        state = self.state()
        if state.model.startswith(UPLOAD):
            state = dataclasses.replace(state, model=PageState.model)
        return link_query(state, self.compare.pinned)

    def _on_pinned(self) -> None:
        self.compare.update(self.scenario, {k: v.result for k, v in self.views.items()})
        if self.scenario is not None:
            self.frontier.update(self.scenario, self.compare.scenario)
        self._render_share()

    def _render_share(self) -> None:
        self.share.value = panels.share_html(self.query(), self.model.value.startswith(UPLOAD))

    def _state_scenario(self, state: PageState) -> Scenario:
        return state.scenario(self.models, self.accelerators)


    def _build_scenario(self) -> Scenario:
        return self._state_scenario(self.state())

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
            self.hardware_panel.sync(self.precision.value)
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
        """A derivation opened or closed: rendered at once (the quiet delay is for inputs
        that move while derivations are open, not for the click itself)."""
        owner = change["owner"]
        if owner is self.solve.toggle:
            self.solve.render_derivation()
            return
        for view in self.views.values():
            if view.toggle is owner:
                view.render_derivation()

    @_guarded
    def _on_upload(self, change: dict[str, Any]) -> None:
        try:
            self.model_panel.read_upload(change["new"])
        finally:
            with self._held():
                self.upload.value = ()  # the same file can be chosen again

    def add_config(self, name: str, content: bytes) -> bool:
        """Read an uploaded ``config.json`` and select its model; on a bad file say why in
        the page and keep the model selected before.  True when the model was added."""
        return self.model_panel.add_config(name, content)

    def _select_model(self, key: str) -> None:
        with self._held():
            self.model_panel.select(key)
        self._render_model()  # the model's facts and its "as released" precisions
        self._on_change()


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
            self.context_note.value = ""
            self.solve.clear("no answer: the inputs above make no deployment (see the message)")
            self.frontier.clear()
            self.compare.update(None, {})
            self._render_share()
            return
        try:  # the same deployment at the roofline, beside the expected speed figures
            bound = None if scenario.assumptions.name == "ideal" else scenario.bound()
        except EXPECTED:  # pragma: no cover - the bound of a valid deployment is valid
            bound = None
        for view in self.views.values():
            view.compute(scenario, bound)
        self._render_memory(scenario)
        self._render_inputs(scenario)
        self.context_note.value = panels.context_note(scenario)
        self.hardware_panel.render()
        self.solve.update(scenario)
        self._on_pinned()
        self.export_panel.render(self.scenario)
        self._derivations.schedule()
        self._warmup.changed()  # compile the layout's variants once the page is quiet

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
        self.model_panel.render()
        m = self.model_panel.current
        if m is not None:
            self.settings_panel.show_released(m)


    def warm(self) -> SizingApp:
        """Compile now what the first layout change would compile (:class:`WarmUp`, which
        otherwise waits for the page to be idle); the served page calls it before it is
        shown.  Returns the page."""
        self._warmup.run()
        return self

    # ------------------------------------------------------------------- derivations
    @_guarded
    def _render_derivations(self) -> None:
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
