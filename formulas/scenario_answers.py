"""What a :class:`~llmphys.Scenario` answers: the derivation of a figure, an inverse question,
the roofline bound, a sweep over inputs, a comparison, its inputs with provenance and its
summary.

:class:`Answers`, a base class of the Scenario, holds them as its methods (``s.derive(...)``,
``s.solve(...)``), written on the Scenario's public API only (:meth:`~llmphys.Scenario.compiled`,
:meth:`~llmphys.Scenario.values_for`, :meth:`~llmphys.Scenario.source`,
:meth:`~llmphys.Scenario.arguments`); the scenario itself (its inputs, their provenance, its
compiled figures and its copies) is :mod:`llmphys.scenario`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from llmphys.engine import glossary
from llmphys.engine.docs import shared_sections
from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.units import Q_

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.scenario import Scenario

__all__ = ["Answers", "on_a_figure"]

#: the argument of the methods that take one figure, described once (``{params}``)
on_a_figure = shared_sections(
    {"name": """name
        A figure: a registry formula's name (``"memory_per_gpu"``, ``"ttft"``)."""}
)


class Answers:
    """The questions a :class:`~llmphys.Scenario` answers (its base class)."""

    def inputs(self: Scenario, name: str | None = None) -> Any:
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

    @on_a_figure
    def derive(self: Scenario, name: str, explain: bool = False, binary: bool = False) -> Any:
        """The worked derivation of a figure, each value with its provenance.

        Parameters
        ----------
        {params}
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

        f = self.compiled(name).formula
        values = self.values_for(name)
        sources = {n: self.source(n) for n in values}
        return derive(f, explain=explain, binary=binary, sources=sources, **values)

    def solve(
        self: Scenario,
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
        from llmphys.scenario_inputs import glossary_name
        from llmphys.scenario_pool import rules_for

        of = of or "memory_per_gpu"
        unknown = glossary_name(unknown)  # output_len, the constructor's name, is new_tokens
        f = self.compiled(of).formula
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
        given, point = self.arguments(), self.values()
        rules = {n: r for n, r in rules_for(self.model, [unknown]).items()
                 if n in values and n not in given and _varies(r, unknown, point)}  # fmt: skip
        if not rules:
            return solve(f, unknown, target=target, bound=bound, **values)
        return _following(self, of, unknown, target, bound, rules)

    def largest_context(self: Scenario) -> Any:
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

    def bound(self: Scenario) -> Scenario:
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
        kept = {k: v for k, v in self.arguments().items() if k not in ideal.values}
        return type(self)(self.model, self.hardware, **(kept | {"assumptions": ideal}))

    def sweep(self: Scenario, *figures: str, **axes: Any) -> Any:
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
        from llmphys.scenario import FIGURES
        from llmphys.scenario_report import sweep

        return sweep(self, figures or tuple(FIGURES), axes)

    def compare(self: Scenario, other: Scenario, figures: Iterable[str] = ()) -> Any:
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
        from llmphys.scenario import FIGURES, Scenario
        from llmphys.scenario_report import compare

        if not isinstance(other, Scenario):
            raise InputError(
                f"Scenario.compare: compare with another Scenario; got {type(other).__name__}"
            )
        return compare(self, other, tuple(figures) or tuple(FIGURES))

    def summary(self: Scenario) -> Any:
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

    def to_dict(self: Scenario) -> dict[str, Any]:
        """The summary and the inputs as plain data.

        Returns
        -------
        dict
            JSON-serialisable: each quantity as ``{"value": ..., "unit": ...}``.
        """
        return self.summary().to_dict()

    def __repr__(self: Scenario) -> str:
        """``<Scenario model on hardware ...>``: what it is, in one line."""
        from llmphys.scenario_report import title

        return f"<Scenario {title(self)}>"

    def _repr_html_(self: Scenario) -> str:
        """The summary as an HTML table (how a notebook shows a scenario)."""
        return self.summary()._repr_html_()

    def _repr_markdown_(self: Scenario) -> str:
        """The summary as a Markdown table."""
        return self.summary()._repr_markdown_()


def _varies(rule: Any, unknown: str, point: Mapping[str, float]) -> bool:
    """Whether a rule's value changes with ``unknown`` (min(n_PP, B) does not at n_PP = 1)."""
    sources, fn, _ = rule
    at = [fn(*({**point, unknown: x}[src] for src in sources)) for x in (1.0, 2.0**20)]
    return bool(at[0] != at[1])


def _following(s: Any, of: str, unknown: str, target: Any, bound: str,
               rules: Mapping[str, Any]) -> Any:  # fmt: skip
    """Solve for ``unknown`` when it also sets inputs of the figure by the scenario's rules (a
    batch its micro-batches, an expert count the active parameters): a formula that held them
    fixed would answer for another model.  A whole-number unknown is searched on the deployment
    itself (each value with what it sets), the figure monotonic in it: doubling to bracket
    the answer, then halving the bracket."""
    from functools import cache

    from llmphys.engine.relations import bounds_for
    from llmphys.engine.solution import Solution
    from llmphys.errors import InfeasibleError

    f = s.compiled(of).formula
    entry = glossary[unknown]
    names = ", ".join(rules)
    if not entry.integer or bound == "equal":  # a formula holding them fixed would be wrong
        raise InputError(
            f"Scenario.solve: {unknown} also sets {names} (this deployment's rules), which a "
            f"formula would hold fixed; ask at_most or at_least of a whole-number input, or "
            f"sweep {unknown}: s.sweep({of!r}, {unknown}=[...])"
        )
    target = target if isinstance(target, Q_) else Q_(float(target), f.unit)

    @cache
    def figure(x: int) -> Any:
        return s.with_values(**{unknown: x}).evaluate(of)

    def meets(x: int) -> bool:
        try:
            q = figure(x)
        except InputError:  # outside what the model allows
            return False
        return bool(q <= target) if bound == "at_most" else bool(q >= target)

    def refuse(x: int) -> InfeasibleError:
        return InfeasibleError(
            f"Scenario.solve: even {unknown} = {x:,} (with the {names} it sets) gives {of} = "
            f"{figure(x):.4g~P}, not {bound.replace('_', ' ')} {target:.4g~P}"
        )

    span = bounds_for(unknown, {k: v for k, v in s.values().items() if k not in rules})
    lo = max(1, math.ceil(span.lower))
    cap = math.floor(span.upper) if math.isfinite(span.upper) else 2**40
    far = min(cap, lo + 1)
    while figure(far) == figure(lo) and far < cap:  # past a flat stretch, for the direction
        far = min(cap, far * 4)
    increasing = bool(figure(far) >= figure(lo))
    largest = increasing == (bound == "at_most")
    if largest and not meets(lo):
        raise refuse(lo)
    good, bad = lo, None  # meets / misses (for the smallest: the other way round)
    x = lo
    while bad is None and x < cap:  # double until the answer is bracketed
        x = min(cap, 2 * x)
        if meets(x) == largest:
            good = x
        else:
            bad = x
    if largest:
        if bad is None:  # every value up to the end meets: the end
            answer = cap
        else:
            while bad - good > 1:
                mid = (good + bad) // 2
                good, bad = (mid, bad) if meets(mid) else (good, mid)
            answer = good
    else:
        if meets(lo):
            answer = lo
        elif bad is None:  # never meets up to the end
            raise refuse(cap)
        else:  # good: the last that misses, bad: the first that meets
            while bad - good > 1:
                mid = (good + bad) // 2
                good, bad = (good, mid) if meets(mid) else (mid, bad)
            answer = bad
    made = s.with_values(**{unknown: answer})
    return Solution(
        formula=f,
        unknown=unknown,
        target=target.to(f.unit),
        bound=bound,  # type: ignore[arg-type]
        method="numeric",
        rearranged=None,
        exact=Q_(answer, entry.pint_unit),
        value=Q_(answer, entry.pint_unit),
        direction="largest" if largest else "smallest",
        monotonic="increasing" if increasing else "decreasing",
        check=made.evaluate(of),
        given={n: made.value(n) for n in made.values_for(of) if n != unknown},
        note=(
            f"{unknown} also sets {names} (this deployment's rules), so the answer was searched "
            f"on the deployment itself, each {unknown} with the {names} it sets"
        ),
    )
