"""Scenario: one deployment bound once (model, hardware, precisions, layout, workload,
assumptions), and every figure, derivation, inverse answer and sweep of it.

This is the one place where presets meet formulas.  A scenario fills every input symbol with
a value and says where the value came from (its *provenance*):

======================  ==============================================================
``model``               the model's architecture (a preset or a ``config.json``)
``hardware``            the accelerator's datasheet (peak at the compute precision,
                        bandwidth, the capacity the driver reports)
``interconnect``        the GPU-to-GPU link of the layout
``precision``           the weight, KV-cache and activation precisions
``workload``            batch, prompt and output lengths, and the context they imply
``layout``              tensor, pipeline and expert parallel degrees, GPUs, micro-batches
``assumptions <set>``   efficiencies and modelling choices (``ideal``, ``seed``, ``typical``)
``user``                a keyword override
``default``             the glossary's default (the seed's running example), for inputs
                        nothing above fills (shown, so that it is never silent)
======================  ==============================================================

Figures are registry formulas in the variant the deployment needs: the model's architecture
variants (MLA, sliding windows, experts...), and on more than one GPU the layout's (memory per
GPU with what stays replicated, the decode step of the layout with its communication, prefill
split over the tensor-parallel group).  A figure is compiled once; a scenario that differs
only in values (:meth:`Scenario.replace`) reuses it: one compiled call per figure.

>>> import llmphys as F
>>> s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=2, batch=8)
>>> print(f"{s.evaluate('tokens_per_second_per_user'):.4g~P}")
46.93 tok/s
>>> s.source("layers"), s.source("utilization")[:20]
('model Llama-3.1-70B (config.json)', 'assumptions typical ')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import pint

from llmphys.engine import Formula, glossary, registry
from llmphys.engine.binding import finite
from llmphys.engine.coercion import coerce
from llmphys.engine.variants import Variants
from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.features import LAYOUT, MIXED_WEIGHTS, SPECULATIVE
from llmphys.presets.assumptions import AssumptionSet, assumption_set
from llmphys.scenario_inputs import WEIGHT_CLASSES, accelerator_of, check_layout, model_of
from llmphys.scenario_pool import DERIVED, Input, fill, switched
from llmphys.units import Q_

__all__ = ["DEFAULTS", "DERIVED", "FIGURES", "Input", "Scenario"]

#: What a scenario is when nothing is said: Llama 3.1 70B on one H100 SXM in BF16, one
#: 4K-token prompt answered with 1K tokens, the ``typical`` assumptions.  The CLI and the app
#: start from the same.
DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "model": "llama-3.1-70b",
        "hardware": "h100-sxm",
        "weights": None,
        "kv": "bf16",
        "compute": "bf16",
        "act": "bf16",
        "tp": 1,
        "pp": 1,
        "ep": 1,
        "batch": 1,
        "prompt_len": 4096,
        "output_len": 1024,
        "assumptions": "typical",
        "speculative": None,
    }
)

#: The figures of a deployment, in reading order: formula name -> label.
FIGURES: Mapping[str, str] = MappingProxyType(
    {
        "weight_bytes": "weights (all GPUs)",
        "kv_cache_bytes": "KV cache (all GPUs)",
        "memory_per_gpu": "memory per GPU",
        "ttft": "time to first token",
        "tpot": "time per output token",
        "e2e_latency": "end-to-end latency",
        "tokens_per_second_per_user": "decode tokens/s per user",
        "tokens_per_second_per_gpu": "decode tokens/s per GPU",
    }
)


class Scenario:
    """A deployment: a model on ``hardware`` at precisions, a layout, a workload and a set of
    assumptions.  Immutable; :meth:`replace` gives a changed copy.

    ``model`` is a preset name, a :class:`~llmphys.presets.Model`, or a ``config.json`` path
    or dict; ``hardware`` a preset name or an :class:`~llmphys.presets.Accelerator`; ``None``
    for either (or for ``compute``) means :data:`~llmphys.scenario.DEFAULTS`'.
    ``weights``, ``kv``, ``act`` (activations) are precisions (``"fp8"``) or bytes per
    element; ``compute`` picks the accelerator's dense peak.  ``interconnect`` defaults to
    the accelerator's usual link.  ``assumptions`` is a set's name (``ideal``, ``seed``,
    ``typical``) or a dict of values on top of ``typical``.  Any other glossary symbol may be
    given by keyword (``utilization=0.6``, ``seq_len=32768``), as may a part of a figure by
    value (``effective_flops=200e12``): the user's value wins.

    Parameters
    ----------
    model : str, Model, os.PathLike or dict
        The model: a preset name (``"llama-3.1-70b"``), a :class:`~llmphys.presets.Model`, or
        a Hugging Face ``config.json`` (its path, or the parsed dict).
    hardware : str or Accelerator
        The accelerator: a preset name (``"h100-sxm"``) or an
        :class:`~llmphys.presets.Accelerator`.
    weights : str or float
        The weights' precision: a name (``"fp8"``) or bytes per parameter (``None``: as the
        checkpoint stores them).
    kv : str or float
        The KV cache's precision.
    compute : str
        The precision of the matrix multiplies: picks the accelerator's dense peak.
    act : str or float
        The activations' precision.
    tp : int
        The tensor-parallel degree.
    pp : int
        The pipeline-parallel degree (pipeline stages).
    ep : int
        The expert-parallel degree.
    batch : int or Quantity
        Concurrent sequences.
    prompt_len : int or Quantity
        Prompt tokens per sequence.
    output_len : int or Quantity
        Generated tokens per sequence.
    interconnect : str or Interconnect, optional
        The GPU-to-GPU link (default: the accelerator's usual one).
    assumptions : str, dict or AssumptionSet
        Efficiencies and modelling choices: a set's name (``"ideal"``, ``"seed"``,
        ``"typical"``) or values on top of ``typical``.
    speculative : str, optional
        Decode speculatively: ``"draft"`` (a draft model; its ``draft_cost_ratio`` and the
        acceptance given by keyword) or ``"mtp"`` (the model's own multi-token-prediction
        modules).
    **overrides
        Any glossary input (``utilization=0.6``) or a figure's part by value
        (``effective_flops=200e12``): the user's value wins over every preset.

    Raises
    ------
    InputError
        A value of the wrong dimension or out of range, or a layout the model cannot take.
    UnknownNameError
        A preset or keyword that does not exist (the closest names are suggested).
    """

    def __init__(
        self,
        model: Any = DEFAULTS["model"],
        hardware: Any = DEFAULTS["hardware"],
        *,
        weights: Any = DEFAULTS["weights"],
        kv: Any = DEFAULTS["kv"],
        compute: str | None = DEFAULTS["compute"],
        act: Any = DEFAULTS["act"],
        tp: int = DEFAULTS["tp"],
        pp: int = DEFAULTS["pp"],
        ep: int = DEFAULTS["ep"],
        batch: Any = DEFAULTS["batch"],
        prompt_len: Any = DEFAULTS["prompt_len"],
        output_len: Any = DEFAULTS["output_len"],
        interconnect: Any = None,
        assumptions: str | Mapping[str, Any] | AssumptionSet = DEFAULTS["assumptions"],
        speculative: str | None = DEFAULTS["speculative"],
        **overrides: Any,
    ) -> None:
        # None is "the default" for what a caller may not have chosen (a widget, a plot)
        self.model = model_of(DEFAULTS["model"] if model is None else model)
        self.hardware = accelerator_of(DEFAULTS["hardware"] if hardware is None else hardware)
        compute = DEFAULTS["compute"] if compute is None else compute
        self.compute = str(compute).strip().lower()
        self.assumptions = assumption_set(assumptions)
        self._args = {
            "weights": weights, "kv": kv, "compute": compute, "act": act, "tp": tp, "pp": pp,
            "ep": ep, "batch": batch, "prompt_len": prompt_len, "output_len": output_len,
            "interconnect": interconnect, "assumptions": self.assumptions,
            "speculative": speculative,
        }  # fmt: skip
        if "new_tokens" in overrides:
            raise InputError("Scenario: give the output length as output_len= (new_tokens)")
        filled = fill(self.model, self.hardware, self.compute, self.assumptions, self._args,
                      overrides)  # fmt: skip
        pool, m = filled.pool, self.model
        #: the link between the GPUs (also on one GPU when the accelerator has a usual one,
        #: so that a sweep over the layout has it)
        self.link = filled.link
        self.parts: dict[str, float] = filled.parts
        layout = {n: pool[n].value for n in ("tp", "pp", "ep")}
        gpus = filled.n_gpus
        #: layers of the most loaded pipeline stage (an uneven split is given as that part)
        self.stage_layers = check_layout(m, layout)
        stage, pp = self.stage_layers, pool["pp"].value
        if stage is not None and stage * pp != m.values["layers"]:
            self.parts.setdefault("layers_per_stage", float(stage))
        self.n_gpus = gpus
        classes = {pool[n].value for n in WEIGHT_CLASSES.values()}
        self.features = (
            *m.features,
            *((MIXED_WEIGHTS,) if len(classes) > 1 else ()),
            *((LAYOUT,) if gpus > 1 else ()),
            *switched(overrides),
            *self.assumptions.features,
            *((SPECULATIVE,) if speculative is not None else ()),
        )
        self.pool: Mapping[str, Input] = MappingProxyType(pool)
        self._overrides = dict(overrides)
        self._variants = Variants.of(self.features, registry)
        self._values = {k: v.value for k, v in pool.items()} | self.parts
        self._compiled: dict[str, tuple[Formula, Any, tuple[str, ...]]] = {}

    @classmethod
    def from_values(cls, model: Any = DEFAULTS["model"], hardware: Any = DEFAULTS["hardware"],
                    **values: Any) -> Scenario:  # fmt: skip
        """A scenario whose values are named as in the glossary (``new_tokens`` for the output
        length), as front ends that hold glossary inputs pass them.

        Parameters
        ----------
        model
            As for :class:`Scenario`.
        hardware
            As for :class:`Scenario`.
        **values
            Constructor arguments and glossary inputs; ``new_tokens`` stands for
            ``output_len``.

        Returns
        -------
        Scenario
            The deployment.
        """
        if "new_tokens" in values:
            if "output_len" in values:
                raise InputError("Scenario: give new_tokens or output_len, not both")
            values["output_len"] = values.pop("new_tokens")
        return cls(model, hardware, **values)

    # ------------------------------------------------------------------- identity
    def __repr__(self) -> str:
        from llmphys.scenario_report import title

        return f"<Scenario {title(self)}>"

    @property
    def capacity(self) -> pint.Quantity:
        """One accelerator's memory (what the driver reports): the budget of every GPU."""
        return Q_(self._values["gpu_memory"], glossary["gpu_memory"].pint_unit)

    def __contains__(self, name: object) -> bool:
        """True when the scenario has a value for input ``name``."""
        return name in self._values

    def value(self, name: str) -> float:
        """The value of an input.

        Parameters
        ----------
        name
            A glossary input (``"layers"``, ``"batch"``).

        Returns
        -------
        float
            Its value, a plain number in the symbol's glossary unit.
        """
        if name in self._values:
            return self._values[name]
        raise _missing(name, self)

    def source(self, name: str) -> str:
        """Where the value of an input came from (its provenance).

        Parameters
        ----------
        name
            A glossary input.

        Returns
        -------
        str
            ``"model Llama-3.1-70B (config.json)"``, ``"user"``, ``"default"``...
        """
        if name in self.parts:
            return "user" if name in self._overrides else "layout: ceil(L / n_PP) layers"
        if name not in self.pool:
            raise _missing(name, self)
        found = self.pool[name]
        if found.value != self._values[name]:  # changed by with_values()
            return "user"
        return found.source

    # ------------------------------------------------------------------- formulas
    def formula(self, name: str | Formula) -> Formula:
        """A formula as this deployment uses it (its model and layout variants).

        Parameters
        ----------
        name
            A registry formula or its name.

        Returns
        -------
        Formula
            The variant this deployment evaluates (``name`` itself when none applies).
        """
        return self._variants.formula(name)

    def _compile(self, name: str) -> tuple[Formula, Any, tuple[str, ...]]:
        found = self._compiled.get(name)
        if found is None:
            f = self.formula(name)
            overridable = f.overridable_parts()
            keep = frozenset(p for p in self.parts if p in overridable)
            fn, names = f.numeric(keep)
            missing = [n for n in names if n not in self._values]
            if missing:
                raise _missing(missing[0], self, f)
            found = self._compiled[name] = (f, fn, names)
        return found

    def values_for(self, name: str) -> dict[str, float]:
        """The values a figure takes here: its inputs and the parts given by value.

        Parameters
        ----------
        name
            A registry formula's name.

        Returns
        -------
        dict of str to float
            Input name -> value in its glossary unit.
        """
        _, _, names = self._compile(name)
        return {n: self._values[n] for n in names}

    def evaluate(self, name: str) -> pint.Quantity:
        """A figure of this deployment, with its unit (also ``s[name]`` and ``s.name``).

        Parameters
        ----------
        name
            Any registry formula's name (``"memory_per_gpu"``, ``"ttft"``).

        Returns
        -------
        Quantity
            The figure, in the formula's unit.

        Raises
        ------
        InputError
            The result is infinite, not a number or negative (the message says which input
            makes it so).
        """
        f, fn, names = self._compile(name)
        v = self._values
        result = fn(*[v[n] for n in names])
        if result - result != 0 or result < 0:  # inf, nan or negative: say why
            finite(f, result, self.values_for(name))
        return Q_(float(result), f.unit)

    def __getitem__(self, name: str) -> pint.Quantity:
        return self.evaluate(name)

    def __getattr__(self, name: str) -> pint.Quantity:
        if name.startswith("_") or name not in registry:
            raise AttributeError(f"'Scenario' object has no attribute {name!r}")
        return self.evaluate(name)

    def inputs(self, name: str | None = None) -> Any:
        """Every input with its value, unit and provenance, as a table.

        Parameters
        ----------
        name
            A figure: only the inputs it takes (default: every input).

        Returns
        -------
        llmphys.display.Table
            One row per input (Markdown in a notebook, aligned text in a terminal).
        """
        from llmphys.scenario_report import inputs_table

        return inputs_table(self, name)

    def derive(self, name: str, explain: bool = False, binary: bool = False) -> Any:
        """The worked derivation of a figure, each value with its provenance.

        Parameters
        ----------
        name
            A registry formula's name.
        explain
            Add a sentence per step saying what it computes.
        binary
            Show byte results in binary units (GiB) beside the decimal ones.

        Returns
        -------
        llmphys.engine.derive.Derivation
            The derivation (LaTeX in a notebook, text in a terminal).
        """
        from llmphys.engine.derive import derive

        f, _, _ = self._compile(name)
        values = self.values_for(name)
        sources = {n: self.source(n) for n in values}
        return derive(f, explain=explain, binary=binary, sources=sources, **values)

    def solve(
        self,
        unknown: str,
        target: Any = None,
        *,
        of: str | None = None,
        bound: str | None = None,
    ) -> Any:
        """The value of input ``unknown`` at which figure ``of`` meets ``target``.

        ``of`` defaults to ``memory_per_gpu`` with one GPU's capacity as the target (the
        largest ``seq_len`` or ``batch`` that fits).  ``bound`` defaults to ``at_least`` for a
        rate (tokens/s) and ``at_most`` otherwise.

        Parameters
        ----------
        unknown
            The input to solve for (``"seq_len"``, ``"batch"``); the others keep this
            deployment's values.
        target : Quantity, str or float, optional
            The value the figure must meet: a quantity, text (``"80 GB"``) or a number in the
            figure's unit (default: the capacity, for ``memory_per_gpu``).
        of
            The figure (default ``"memory_per_gpu"``).
        bound
            ``"at_most"``, ``"at_least"`` or ``"equal"``.

        Returns
        -------
        llmphys.Solution
            The answer, rounded to a whole value where the input is a count.
        """
        from llmphys.engine.parse import parse_value
        from llmphys.engine.solve import solve

        of = of or "memory_per_gpu"
        f, _, _ = self._compile(of)
        if target is None:
            if of != "memory_per_gpu":
                raise InputError(f"Scenario.solve: give a target for {of}")
            target = self.capacity
        elif isinstance(target, str):
            target = parse_value(target, f.entry, "target")
        values = self.values_for(of)
        if unknown not in values:
            raise UnknownNameError(
                f"Scenario.solve: {unknown!r} is not an input of {of} here"
                f"{did_you_mean(unknown, values)} (inputs: {', '.join(values)})",
                unknown,
            )
        del values[unknown]
        if bound is None:
            rate = f.unit.dimensionality == Q_(1, "1/second").dimensionality  # tokens/s
            bound = "at_least" if rate else "at_most"
        return solve(f, unknown, target=target, bound=bound, **values)

    def largest_context(self) -> Any:
        """The longest sequence (prompt + output, tokens) this deployment takes: what memory
        holds (``solve("seq_len")``) capped at the model's own limit (its
        ``max_position_embeddings``), with which of the two binds.

        Returns
        -------
        llmphys.scenario_report.ContextAnswer
            The length (``.value``, tokens), which limit binds (``.binds``) and why
            (``.message``).
        """
        from llmphys.scenario_report import largest_context

        return largest_context(self)

    def sweep(self, *figures: str, **axes: Any) -> Any:
        """Figures over a grid of inputs: an :class:`xarray.Dataset` with one variable per
        figure (default: :data:`~llmphys.scenario.FIGURES`) and one dimension per axis
        (``batch=[1, 8, 64]``, ``prompt_len=...``, ``tp=[1, 2, 4, 8]``).  Axis values are
        numbers in the symbol's glossary unit or quantities.

        Parameters
        ----------
        *figures
            Registry formulas' names (default: :data:`~llmphys.scenario.FIGURES`).
        **axes
            Input name -> the values it takes.

        Returns
        -------
        xarray.Dataset
            One variable per figure (its unit in ``attrs``), over every combination of the
            axes.
        """
        from llmphys.scenario_report import sweep

        return sweep(self, figures or tuple(FIGURES), axes)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some arguments changed.

        Parameters
        ----------
        **changes
            Any constructor argument or override (``hardware="b200"``, ``tp=4``).

        Returns
        -------
        Scenario
            The changed deployment (this one is left as it is).
        """
        args = {k: v for k, v in self._args.items()}
        args.update(self._overrides)
        args.update(changes)
        model = args.pop("model", self.model)
        hardware = args.pop("hardware", self.hardware)
        if "hardware" in changes and "interconnect" not in changes:
            args["interconnect"] = None  # the new accelerator's own link
        made = Scenario(model, hardware, **args)
        if made.features == self.features and made.model is self.model:  # same formulas
            made._compiled = self._compiled if made.parts.keys() == self.parts.keys() else {}
        return made

    def bound(self) -> Scenario:
        """The same deployment at the roofline bound: the ``ideal`` assumption set, with any
        override of its values dropped.  The ``typical`` set (the default) gives what to
        expect.

        This is the roofline of this layout: its decode communication hidden, its prefill
        all-reduces counted (at the interconnect's alpha-beta cost).  The validation's bound
        (:func:`llmphys.validation.scenario`) treats a run's GPUs as one with free
        communication, a bound on every layout: for several GPUs it is the lower of the two.
        No published run in ``llmphys.validation`` beats either.

        Returns
        -------
        Scenario
            The deployment under the ``ideal`` assumptions (this one when it is already).
        """
        from llmphys.presets.assumptions import assumption_sets

        ideal = assumption_sets["ideal"]
        if self.assumptions is ideal:
            return self
        args = {**self._args, "assumptions": ideal}
        keep = {k: v for k, v in self._overrides.items() if k not in ideal.values}
        return Scenario(self.model, self.hardware, **args, **keep)

    def with_values(self, **values: float) -> Scenario:
        """A copy with input values changed (numbers in glossary units), reusing every compiled
        figure: what a slider does.  Structural changes (model, hardware, precisions by name,
        layout degrees) go through :meth:`replace`.

        Parameters
        ----------
        **values
            Input name -> value (a number in its glossary unit, or a quantity).

        Returns
        -------
        Scenario
            The changed deployment.

        Raises
        ------
        InputError
            ``name`` is not a plain input here (a layout degree, or not an input).
        """
        if switched(values, self.features):
            return self.replace(**values)  # a feature switched on: other formulas
        made = object.__new__(Scenario)
        made.__dict__.update(self.__dict__)
        new = dict(self._values)
        for name, value in values.items():
            if name not in new or name in ("tp", "pp", "ep", "n_gpus"):
                raise InputError(
                    f"Scenario.with_values: {name!r} is not a plain input here; use replace()"
                )
            new[name] = float(coerce(glossary[name], value, "Scenario"))
        made._values = new
        made._overrides = {**self._overrides, **values}
        return made

    def compare(self, other: Scenario, figures: Iterable[str] = ()) -> Any:
        """This deployment beside another: the figures and the inputs that differ.

        Parameters
        ----------
        other
            The other deployment.
        figures
            Registry formulas' names (default: :data:`~llmphys.scenario.FIGURES`).

        Returns
        -------
        llmphys.scenario_report.Comparison
            Both values and their ratio per figure, then the inputs that differ (a table).
        """
        from llmphys.scenario_report import compare

        return compare(self, other, tuple(figures) or tuple(FIGURES))

    def summary(self) -> Any:
        """The deployment at a glance: memory per GPU and whether it fits, the largest context
        and batch, the fewest GPUs, decode speed per user and per GPU, TTFT, TPOT, end-to-end
        latency.

        Returns
        -------
        llmphys.scenario_report.Summary
            The rows (``summary["ttft"]`` gives one's value); an HTML table in a notebook.
        """
        from llmphys.scenario_report import summary

        return summary(self)

    def to_dict(self) -> dict[str, Any]:
        """The summary and the inputs as plain data.

        Returns
        -------
        dict
            JSON-serialisable: each quantity as ``{"value": ..., "unit": ...}``.
        """
        return self.summary().to_dict()

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def _repr_markdown_(self) -> str:
        return self.summary()._repr_markdown_()


def _missing(name: str, s: Scenario, f: Formula | None = None) -> InputError:
    what = f" for {f.name}" if f is not None else ""
    if name in glossary:
        entry = glossary[name]
        return InputError(
            f"Scenario: no value{what} for {name!r} ({entry.text}: {entry.meaning}); the model "
            f"{s.model.display_name!r} does not give it: pass {name}=... "
        )
    return UnknownNameError(
        f"Scenario: unknown input {name!r}{did_you_mean(name, s._values)}", name
    )
