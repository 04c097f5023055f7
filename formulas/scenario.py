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
only in values (:meth:`Scenario.replace`) reuses it: one compiled call per figure.  What a
scenario answers (derivations, inverse questions, sweeps, reports) is written on its public
methods, in :mod:`llmphys.scenario_answers`.

>>> import llmphys as F
>>> s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=2, batch=8)
>>> print(f"{s.evaluate('tokens_per_second_per_user'):.4g~P}")
46.93 tok/s
>>> s.source("layers"), s.source("utilization")[:20]
('model Llama-3.1-70B (config.json)', 'assumptions typical ')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import pint

from llmphys import scenario_answers as answers
from llmphys.engine import Formula, glossary, registry
from llmphys.engine.binding import finite
from llmphys.engine.coercion import coerce
from llmphys.engine.relations import check_relations
from llmphys.engine.variants import Variants
from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.features import LAYOUT, MIXED_WEIGHTS, SPECULATIVE
from llmphys.presets.assumptions import AssumptionSet, assumption_set
from llmphys.presets.model import COUNTED
from llmphys.scenario_inputs import (
    WEIGHT_CLASSES,
    accelerator_of,
    argument_name,
    check_layout,
    model_of,
)
from llmphys.scenario_pool import DERIVED, DERIVED_SOURCES, Input, fill, rederived, switched
from llmphys.units import Q_

__all__ = ["DEFAULTS", "DERIVED", "FIGURES", "Compiled", "Input", "Scenario"]

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


class Compiled(NamedTuple):
    """A figure as a deployment computes it (:meth:`Scenario.compiled`)."""

    #: the formula: the variant the deployment uses
    formula: Formula
    #: its compiled numpy function over plain numbers in glossary units
    function: Callable[..., Any]
    #: the names of the values it takes, in order: inputs and parts given by value
    names: tuple[str, ...]


class Scenario(answers.Answers):
    """A deployment: a model on ``hardware`` at precisions, a layout, a workload and a set of
    assumptions.  Immutable; :meth:`replace` gives a changed copy.  ``None`` for ``model``,
    ``hardware`` or ``compute`` means :data:`~llmphys.scenario.DEFAULTS`' (what a front end
    passes for a choice not made).

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
        # an architecture value changed: the model as changed, checked and counted as a
        # config's (its layer counts adding up, its parameters counted again)
        changed = {k: v for k, v in overrides.items()
                   if k in self.model.values and k not in COUNTED}  # fmt: skip
        if changed:
            self.model = self.model.replace(**changed)
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
        # the layout against the model as given here (a head or layer count the user changed)
        arch = {n: pool[n].value for n in m.values}
        #: layers of the most loaded pipeline stage (an uneven split is given as that part)
        self.stage_layers = check_layout(m, layout, arch)
        stage, pp = self.stage_layers, pool["pp"].value
        if stage is not None and stage * pp != arch["layers"]:
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
        # an override may contradict the model (experts_per_token=16 of 8 experts): refused
        # here, before any figure is a wrong number
        check_relations(self._values, f"Scenario({m.display_name})")
        self._compiled: dict[str, Compiled] = {}

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
    @property
    def capacity(self) -> pint.Quantity:
        """One accelerator's memory (what the driver reports): the budget of every GPU."""
        return Q_(self._values["gpu_memory"], glossary["gpu_memory"].pint_unit)

    def __contains__(self, name: object) -> bool:
        """True when the scenario has a value for input ``name``."""
        return name in self._values

    def values(self) -> dict[str, float]:
        """Every input's value, in glossary units (a copy): the model's, the accelerator's, the
        workload's, the assumption set's and the user's.

        Returns
        -------
        dict of str to float
            Input name -> value (see :meth:`source` for where each came from).
        """
        return dict(self._values)

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

    @answers.on_a_figure
    def compiled(self, name: str) -> Compiled:
        """A figure compiled for this deployment: once, and shared by the scenarios that
        differ from it only in values (:meth:`replace`, :meth:`with_values`).

        {params}

        Returns
        -------
        Compiled
            The formula (this deployment's variant), its compiled function and the names of
            the values it takes: ``function(*[s.value(n) for n in names])`` is the figure in
            the formula's unit, as a plain number.

        Raises
        ------
        InputError
            The deployment has no value for one of the figure's inputs.
        """
        found = self._compiled.get(name)
        if found is None:
            f = self.formula(name)
            overridable = f.overridable_parts()
            keep = frozenset(p for p in self.parts if p in overridable)
            fn, names = f.numeric(keep)
            missing = [n for n in names if n not in self._values]
            if missing:
                raise _missing(missing[0], self, f)
            found = self._compiled[name] = Compiled(f, fn, names)
        return found

    @answers.on_a_figure
    def values_for(self, name: str) -> dict[str, float]:
        """The values a figure takes here: its inputs and the parts given by value.

        {params}

        Returns
        -------
        dict of str to float
            Input name -> value in its glossary unit.
        """
        return {n: self._values[n] for n in self.compiled(name).names}

    @answers.on_a_figure
    def evaluate(self, name: str) -> pint.Quantity:
        """A figure of this deployment, with its unit (also ``s[name]`` and ``s.name``).

        {params}

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
        f, fn, names = self.compiled(name)
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

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this deployment on its model and hardware:
        ``Scenario(s.model, s.hardware, **s.arguments())``.

        Returns
        -------
        dict of str to Any
            The constructor's named arguments as given (``weights``, ``tp``, ...;
            ``assumptions`` as its set), then every override: glossary inputs and parts
            given by value, and the values :meth:`with_values` changed.
        """
        return {**self._args, **self._overrides}

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
        args = self.arguments() | changes
        model = args.pop("model", self.model)
        hardware = args.pop("hardware", self.hardware)
        if "hardware" in changes and "interconnect" not in changes:
            args["interconnect"] = None  # the new accelerator's own link
        made = Scenario(model, hardware, **args)
        if made.features == self.features and made.model is self.model:  # same formulas
            made._compiled = self._compiled if made.parts.keys() == self.parts.keys() else {}
        return made

    def with_values(self, **values: float) -> Scenario:
        """A copy with input values changed (numbers in glossary units), reusing every compiled
        figure: what a slider does.  What the values imply follows them as in the constructor
        (``seq_len`` a changed prompt, the model's parameter counts a changed architecture
        value), unless given.  Structural changes (model, hardware, precisions by name,
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
            ``name`` is not a plain input here (a layout degree, or not an input), or the
            values contradict the model (more experts per token than experts).
        """
        structural = switched(values, self.features) or any(
            n in self.model.values or n in _PRECISION_INPUTS for n in values
        )
        if structural:  # other formulas (a feature switched on, a precision mix), or the
            return self.replace(**values)  # layout and the model's counts checked again
        made = object.__new__(Scenario)
        made.__dict__.update(self.__dict__)
        new = dict(self._values)
        for name, value in values.items():
            if name not in new or name in ("tp", "pp", "ep", "n_gpus"):
                raise InputError(
                    f"Scenario.with_values: {name!r} is not a plain input here; use replace()"
                )
            new[name] = float(coerce(glossary[name], value, "Scenario"))
        # what the changed values imply (the context from the prompt, the model's counts from
        # its architecture), as the constructor derives it
        implied = {
            name: found
            for name, found in (
                rederived(self.model, new, values, {*self._overrides, *values})
                if DERIVED_SOURCES.intersection(values)
                else {}
            ).items()
            if float(found[0]) != new[name]  # what changed (min(1, B) at n_PP = 1 does not)
        }
        if implied:
            pool = dict(self.pool)
            for name, (value, source) in implied.items():
                new[name] = float(value)
                pool[name] = Input(name, new[name], source)
            made.pool = MappingProxyType(pool)
        check_relations(new, f"Scenario({self.model.display_name})", {*values, *implied})
        made._values = new
        # as the constructor names them (new_tokens is its output_len)
        named = {argument_name(n): v for n, v in values.items()}
        made._overrides = {**self._overrides, **named}
        return made


#: the precisions of the weights: a change may mix them (another variant), and
#: ``bytes_per_param`` sets every class the user did not give
_PRECISION_INPUTS = frozenset(WEIGHT_CLASSES.values())


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
