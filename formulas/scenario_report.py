"""What a :class:`~llmphys.Scenario` shows: its inputs with provenance, its summary, a
comparison of two deployments, and sweeps over a grid of inputs.  No physics here: every
number is a figure of the scenario (a registry formula) or a sizing question of it.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pint

from llmphys.display import Table
from llmphys.engine import glossary, registry
from llmphys.engine.formatting import format_quantity, text_number
from llmphys.errors import InfeasibleError, InputError, UnknownNameError, did_you_mean
from llmphys.units import Q_

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine import Formula
    from llmphys.scenario import Scenario

__all__ = [
    "Comparison",
    "ContextAnswer",
    "Summary",
    "compare",
    "figure_functions",
    "inputs_table",
    "largest_context",
    "summary",
    "sweep",
    "title",
]


def _shown(q: pint.Quantity) -> str:
    return format_quantity(q, 4)


def _input_value(s: Scenario, name: str) -> str:
    value = s.value(name)
    if name in s.parts:
        return _shown(Q_(value, registry[name].unit))
    unit = glossary[name].unit_text
    return text_number(value, 6, exact=True) + (f" {unit}" if unit else "")


# ----------------------------------------------------------------------------- inputs
class InputsTable(Table):
    """The inputs of a scenario: value, unit and where each came from (``sources``)."""

    def __init__(self, s: Scenario, names: Sequence[str]) -> None:
        self.sources = {n: s.source(n) for n in names}
        self.values = {n: s.value(n) for n in names}
        rows = []
        for n in names:
            entry = glossary[n]
            rows.append([n, entry.text, _input_value(s, n), self.sources[n]])
        super().__init__(["input", "symbol", "value", "source"], rows)


def inputs_table(s: Scenario, figure: str | None = None) -> InputsTable:
    """Every input of ``s`` (or of ``figure``), in glossary order, with its provenance."""
    if figure is None:
        names = sorted(s.values(), key=lambda n: (glossary.order(n), n))
    else:
        names = list(s.values_for(figure))
    return InputsTable(s, names)


# ----------------------------------------------------------------------------- summary
@dataclass
class Row:
    key: str
    label: str
    value: Any  # a quantity, a number, text
    text: str
    note: str = ""
    bound: Any = None  # the same figure at the roofline bound (ideal), beside the expected one
    bound_text: str = ""


@dataclass
class Summary:
    """A deployment at a glance (``str()``, Markdown, HTML, ``to_dict()``)."""

    title: str
    rows: list[Row] = field(default_factory=list)
    fits: bool = True
    #: what the values are: "expected" (``typical``) or the assumption set's name
    column: str = "expected"

    def __getitem__(self, key: str) -> Any:
        for row in self.rows:
            if row.key == key:
                return row.value
        raise KeyError(f"{key!r}; the summary has {', '.join(r.key for r in self.rows)}")

    def __str__(self) -> str:
        width = max(len(r.label) for r in self.rows)
        lines = [self.title]
        bounds = any(r.bound_text for r in self.rows)
        text_width = max(len(r.text) for r in self.rows)
        if bounds:
            lines.append(f"  {''.ljust(width)}  {self.column.ljust(text_width)}  bound (ideal)")
        for r in self.rows:
            note = f"  ({r.note})" if r.note else ""
            shown = f"{r.text.ljust(text_width)}  {r.bound_text}" if r.bound_text else r.text
            lines.append(f"  {r.label.ljust(width)}  {shown}{note}".rstrip())
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.title}**", "", f"| | {self.column} | bound (ideal) |", "|---|---|---|"]
        lines += [
            f"| {r.label} | {r.text}{f' ({r.note})' if r.note else ''} | {r.bound_text} |"
            for r in self.rows
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = (
            f"<tr><th></th><th style='text-align:left'>{html.escape(self.column)}</th>"
            "<th style='text-align:left'>bound (ideal)</th></tr>"
        )
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(r.label)}</th>"
            f"<td style='text-align:left'>{html.escape(r.text)}"
            f"{'<br><small>' + html.escape(r.note) + '</small>' if r.note else ''}</td>"
            f"<td style='text-align:left'>{html.escape(r.bound_text)}</td></tr>"
            for r in self.rows
        )
        return f"<b>{html.escape(self.title)}</b><table>{head}{body}</table>"

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, pint.Quantity):
                return {"value": float(v.magnitude), "unit": f"{v.units:~P}"}
            return v

        return {
            "title": self.title,
            "fits": self.fits,
            "figures": {
                r.key: {
                    "label": r.label,
                    "value": plain(r.value),
                    "text": r.text,
                    "note": r.note,
                    "bound": plain(r.bound),
                }
                for r in self.rows
            },
        }


def _named(value: Any, unit: str) -> str:
    """A precision as given: its name, or its bytes."""
    return value if isinstance(value, str) else f"{float(value):g} {unit}"


def _weights_text(s: Scenario) -> str:
    """The weights' precision in words: one name, or each class's (``experts mxfp4, body
    bf16``), as released when the user did not choose; a class given by keyword
    (``bytes_per_param="int4"``) as given."""
    from llmphys.scenario_inputs import WEIGHT_CLASSES, weight_precisions

    a = s.arguments()
    chosen = weight_precisions(s.model, a["weights"])
    every = a.get("bytes_per_param")  # the seed's one precision: every class not given
    names = {}
    for key, sym in WEIGHT_CLASSES.items():
        if key == "experts" and not s.model.is_moe:
            continue
        given = a.get(sym, every)
        names[key] = chosen[sym][0] if given is None else given
    shown = {k: _named(v, "B/param") for k, v in names.items()}
    if len(set(shown.values())) == 1:
        text = next(iter(shown.values()))
    else:
        text = ", ".join(f"{k} {v}" for k, v in shown.items())
    released = a["weights"] is None and every is None and not any(
        sym in a for sym in WEIGHT_CLASSES.values()
    )
    return f"{text} (as released)" if released else text


def title(s: Scenario) -> str:
    """The deployment in one line: model, GPUs and layout, precisions, workload, assumptions."""
    a = s.arguments()
    layout = ", ".join(f"n_{k.upper()}={s.value(k):g}" for k in ("tp", "pp", "ep"))
    kv = _named(a.get("kv_bytes", a["kv"]), "B/element")
    return (
        f"{s.model.display_name} on {s.n_gpus} x {s.hardware.display_name} ({layout}); "
        f"weights {_weights_text(s)}, KV {kv}, compute {s.compute}; batch "
        f"{s.value('batch'):g}, {s.value('prompt_len'):g} in / {s.value('new_tokens'):g} out; "
        f"assumptions {s.assumptions.name}"
        + (f"; speculative decoding ({a['speculative']})" if a.get("speculative") else "")
    )


# ----------------------------------------------------------------------------- context
@dataclass(frozen=True)
class ContextAnswer:
    """The largest context per sequence of a deployment: ``value`` (tokens), which limit
    ``binds`` (``"memory"`` or ``"model"``), the memory answer (``memory``, a
    :class:`~llmphys.Solution`) and the model's own ``limit`` with its ``source``."""

    value: pint.Quantity
    binds: str
    memory: Any
    limit: int | None
    source: str

    @property
    def message(self) -> str:
        if self.memory is None:  # an attention-free model: memory does not bound the context
            free = "memory does not grow with the context: no layer keeps a KV cache"
            if self.binds == "model":
                return f"the model's limit binds ({self.source.split(' (', 1)[0]}); {free}"
            return f"{free}, and the model states no limit of its own"
        held = f"{self.memory.value.magnitude:,.0f}"
        if self.binds == "model":
            where = self.source.split(" (", 1)[0]  # the config's fields, not the citation
            return f"the model's limit binds ({where}); memory would hold {held}"
        if self.limit is None:
            return "memory binds (the model's own context limit is not known)"
        return f"memory binds (the model takes up to {self.limit:,})"

    @property
    def text(self) -> str:
        """The value as shown: a number of tokens, or "no limit"."""
        return "no limit" if self.binds == "none" else f"{self.value.magnitude:,.0f} tok"

    def __str__(self) -> str:
        return f"{self.text}: {self.message}"


def largest_context(s: Scenario) -> ContextAnswer:
    """What memory holds for ``seq_len``, capped at the model's ``context_limit``; for a model
    whose memory does not depend on the context (attention-free: a state per sequence, no KV
    cache), the model's own limit or none (``binds == "none"``, an infinite value)."""
    limit = s.model.context_limit
    if "seq_len" not in s.values_for("memory_per_gpu"):
        if limit is not None:
            return ContextAnswer(Q_(limit, "token"), "model", None, limit, s.model.context_source)
        return ContextAnswer(Q_(math.inf, "token"), "none", None, None, "")
    memory = s.solve("seq_len")
    if limit is not None and memory.value.to("token").magnitude >= limit:
        return ContextAnswer(Q_(limit, "token"), "model", memory, limit, s.model.context_source)
    return ContextAnswer(memory.value, "memory", memory, limit, s.model.context_source)


def summary(s: Scenario) -> Summary:
    """Memory per GPU and whether it fits, the largest context and batch at this layout, the
    fewest GPUs (and layout) that hold it, decode speed, TTFT, TPOT, end-to-end latency."""
    from llmphys.sizing import fewest_gpus_layout

    name = s.assumptions.name
    out = Summary(title(s), column="expected" if name.startswith("typical") else name)
    add = out.rows.append
    for key, label in (
        ("weights_per_gpu", "weights per GPU"),
        ("kv_cache_per_gpu", "KV cache per GPU"),
        ("workspace_per_gpu", "workspace per GPU"),
    ):
        q = s.evaluate(key).to("GB")
        add(Row(key, label, q, _shown(q)))
    need = s.evaluate("memory_per_gpu").to("GB")
    cap = s.capacity.to("GB")
    out.fits = bool(need <= cap)
    verdict = "fits" if out.fits else "does not fit"
    held = f"{_shown(cap)} = {s.capacity.to('GiB'):.4g~P}"
    limit, context = s.model.context_limit, s.value("seq_len")
    beyond = (
        f"; but {context:,.0f} tokens of context is beyond the model's limit of {limit:,} "
        f"({s.model.context_source.split(' (', 1)[0]})"
        if limit is not None and context > limit
        else ""
    )
    add(Row("memory_per_gpu", "memory per GPU", need, _shown(need),
            f"{verdict}: one GPU holds {held}{beyond}"))  # fmt: skip
    label = "largest context per sequence"
    try:
        context = largest_context(s)
        add(Row("largest_context", label, context.value, context.text, context.message))
    except InfeasibleError as exc:
        add(Row("largest_context", label, None, "none", str(exc).split(". ")[0]))
    try:
        solved = s.solve("batch")
        add(Row("largest_batch", "largest batch that fits", solved.value,
                f"{solved.value:,.0f~P}"))  # fmt: skip
    except InfeasibleError as exc:
        add(Row("largest_batch", "largest batch that fits", None, "none",
                str(exc).split(". ")[0]))  # fmt: skip
    try:
        best = fewest_gpus_layout(s)
        layout = f"n_TP={best.value('tp'):g}, n_PP={best.value('pp'):g}"
        add(Row("fewest_gpus", "fewest GPUs that hold it", best.n_gpus,
                f"{best.n_gpus} ({layout})"))  # fmt: skip
    except InfeasibleError as exc:
        add(Row("fewest_gpus", "fewest GPUs that hold it", None, "none", str(exc)))
    from llmphys.scenario import FIGURES

    ideal = s.bound()
    for key in ("ttft", "tpot", "e2e_latency", "tokens_per_second_per_user",
                "tokens_per_second_per_gpu"):  # fmt: skip
        q, b = _readable(s.evaluate(key)), _readable(ideal.evaluate(key))
        note = ""
        if key == "ttft" and s.value("batch") > 1:
            note = f"the batch's {s.value('batch'):g} prompts prefilled together"
        shown = (b, _shown(b)) if ideal is not s else (None, "")
        add(Row(key, FIGURES[key], q, _shown(q), note, *shown))
    return out


def _readable(q: pint.Quantity) -> pint.Quantity:
    """A time under a second in milliseconds; anything else as it is."""
    return q.to("ms") if str(q.units) == "second" and q.magnitude < 1 else q


# ----------------------------------------------------------------------------- compare
@dataclass
class Comparison:
    """Figures and inputs of two scenarios side by side; only what differs."""

    left: str
    right: str
    figures: list[tuple[str, pint.Quantity, pint.Quantity]]
    inputs: list[tuple[str, str, str]]

    def ratio(self, name: str) -> float:
        for key, a, b in self.figures:
            if key == name:
                return float((b / a).to("").magnitude)
        raise KeyError(name)

    def table(self) -> Table:
        rows = [
            [k, _shown(a), _shown(b), f"{(b / a).to('').magnitude:.3g}x"]
            for k, a, b in self.figures
        ]
        rows += [[f"input {k}", x, y, ""] for k, x, y in self.inputs]
        return Table(["", self.left, self.right, "right / left"], rows)

    def __str__(self) -> str:
        return str(self.table())

    def _repr_markdown_(self) -> str:
        return self.table()._repr_markdown_()


def compare(a: Scenario, b: Scenario, figures: Sequence[str]) -> Comparison:
    rows = []
    for name in figures:
        x, y = a.evaluate(name), b.evaluate(name).to(a.evaluate(name).units)
        if not np.isclose(x.magnitude, y.magnitude, rtol=1e-12, atol=0):
            rows.append((name, x, y))
    inputs = []
    values_a, values_b = a.values(), b.values()
    for name in sorted(set(values_a) | set(values_b), key=lambda n: (glossary.order(n), n)):
        va, vb = values_a.get(name), values_b.get(name)
        if va != vb:
            inputs.append((name, "-" if va is None else _input_value(a, name),
                           "-" if vb is None else _input_value(b, name)))  # fmt: skip
    return Comparison(repr(a)[10:-1], repr(b)[10:-1], rows, inputs)


# ----------------------------------------------------------------------------- sweep
_LAYOUT = ("tp", "pp", "ep")


def figure_functions(
    s: Scenario, figures: Sequence[str], axes: Sequence[str], where: str = "Scenario.sweep"
) -> tuple[Callable[[Mapping[str, Any]], dict[str, Any]], dict[str, Formula]]:
    """The compiled functions of ``figures`` of ``s`` when the inputs ``axes`` vary: a function
    of those inputs' arrays (numpy or dask, broadcastable) giving each figure's array, and each
    figure's formula (the scenario's variant, with the layout's when a layout input varies).
    The scenario's own rules (``seq_len`` from the prompt and output, the GPU count) follow
    the arrays."""
    from llmphys.engine.variants import Variants
    from llmphys.features import LAYOUT
    from llmphys.scenario_inputs import stage_layers
    from llmphys.scenario_pool import rules_for, switched

    parts = dict(s.parts)
    features = s.features
    stage = None  # a swept layout: the layers of the most loaded stage follow n_PP
    if any(n in axes for n in _LAYOUT):
        if s.link is None:
            raise InputError(
                f"{where}: {s.hardware.display_name} has no usual interconnect on record; a "
                "sweep over the layout needs the scenario's interconnect=..."
            )
        if "layers_per_stage" not in s.arguments():  # the most loaded stage at each n_PP
            parts.pop("layers_per_stage", None)
            stage = (("layers", "pp"), stage_layers)
        if LAYOUT not in features:
            features = (*features, LAYOUT)
    features = (*features, *switched(axes, features))  # a swept hit rate: the cached prefill
    variants = Variants.of(features, registry)
    # the scenario's rules follow the axes: seq_len a swept prompt, the model's counts a swept
    # expert count (each unless the user gave it)
    derived = [(name, sources, rule) for name, (sources, rule, _)
               in rules_for(s.model, axes).items() if name not in s.arguments()]  # fmt: skip
    if stage is not None:
        derived.append(("layers_per_stage", *stage))
    given = s.values()
    compiled = []
    formulas: dict[str, Formula] = {}
    for name in figures:
        f = variants.formula(name)
        keep = frozenset(p for p in (*parts, *(("layers_per_stage",) if stage else ()))
                         if p in f.overridable_parts())  # fmt: skip
        fn, names = f.numeric(keep)
        missing = [n for n in names if n not in keep and n not in given and n not in axes
                   and n not in {d for d, _, _ in derived}]  # fmt: skip
        if missing:
            raise InputError(f"{where}: {name} needs {missing[0]!r}, which the scenario lacks")
        compiled.append((name, fn, names, keep))
        formulas[name] = f

    def evaluate(arrays: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = dict(given)
        values.update(arrays)
        for name, sources, rule in derived:
            values[name] = rule(*(values[src] for src in sources))
        return {
            name: fn(*(parts[n] if n in keep and n in parts else values[n] for n in names))
            for name, fn, names, keep in compiled
        }

    return evaluate, formulas


def sweep(s: Scenario, figures: Sequence[str], axes: Mapping[str, Any]) -> Any:
    """``figures`` of ``s`` over the grid of ``axes`` (see :meth:`Scenario.sweep`)."""
    import xarray as xr

    from llmphys.engine.coercion import coerce
    from llmphys.engine.relations import check_relations
    from llmphys.scenario_inputs import glossary_name
    from llmphys.scenario_pool import DERIVED

    if not axes:
        raise InputError("Scenario.sweep: give at least one axis, e.g. batch=[1, 8, 64]")
    axes = {glossary_name(k): v for k, v in axes.items()}
    arrays: dict[str, np.ndarray] = {}
    for name, value in axes.items():
        if name not in glossary or glossary[name].kind != "input":
            raise UnknownNameError(
                f"Scenario.sweep: {name!r} is not an input{did_you_mean(name, s.values())}", name
            )
        arrays[name] = np.atleast_1d(np.asarray(coerce(glossary[name], value, "Scenario.sweep")))
    grids = np.meshgrid(*arrays.values(), indexing="ij")
    # an axis may not contradict the model (16 experts per token of 8): refused as a call is;
    # what the rules derive (n_microbatches) follows the axes, so only the user's stands
    fixed = {k: v for k, v in s.values().items() if k not in DERIVED or k in s.arguments()}
    check_relations({**fixed, **dict(zip(arrays, grids, strict=True))}, "Scenario.sweep")
    if any(n in arrays for n in _LAYOUT):  # each layout of the grid, as the constructor checks
        from llmphys.scenario_inputs import check_layout

        degrees = [np.unique(arrays.get(n, s.value(n))) for n in _LAYOUT]
        for layout in itertools.product(*degrees):
            try:
                check_layout(s.model, dict(zip(_LAYOUT, layout, strict=True)), s.values())
            except InputError as e:
                raise InputError(str(e).replace("Scenario:", "Scenario.sweep:", 1)) from None
    evaluate, formulas = figure_functions(s, figures, list(arrays))
    results = evaluate(dict(zip(arrays, grids, strict=True)))
    data = {}
    for name in figures:
        f = formulas[name]
        result = np.broadcast_to(np.asarray(results[name], dtype=float), grids[0].shape)
        bad = ~np.isfinite(result)
        if bad.any():  # the refusal a call makes: no inf or NaN in the grid
            at = np.argwhere(bad)[0]
            point = ", ".join(
                f"{n}={a[i]:.6g}" for (n, a), i in zip(arrays.items(), at, strict=True)
            )
            raise InputError(
                f"Scenario.sweep: {name} is not a finite number at {point} (an input too "
                "large, or a division by zero); narrow the axis"
            )
        data[name] = xr.DataArray(
            result, dims=list(arrays), attrs={"units": f"{f.unit:~P}", "long_name": f.meaning}
        )
    coords = {n: (n, a, {"units": glossary[n].unit_text}) for n, a in arrays.items()}
    return xr.Dataset(data, coords=coords, attrs={"scenario": repr(s)})
