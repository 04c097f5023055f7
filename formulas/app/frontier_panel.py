"""The sizing page's frontier: tokens per second per GPU against tokens per second per user
over the batch, for the deployment in use (:func:`llmphys.frontier`), the points past one
GPU's memory drawn hollow, the batch in use ringed; and the question "the largest batch that
fits with at least X tokens/s per user" (:meth:`~llmphys.serving.Frontier.best_at`).

The chart is an SVG drawn here (no plotting library in the page): each point carries its
numbers as ``data-`` attributes (``llmphys-frontier-point``), the hooks the browser test
reads.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets

from llmphys.app.views import EXPECTED, error_html, escape, page_number, span
from llmphys.scenario import Scenario

__all__ = ["BATCHES", "FrontierPanel", "frontier_svg"]

#: the batches the frontier is drawn over: powers of two, 1 to 4,096
BATCHES: tuple[int, ...] = tuple(2**i for i in range(13))

_W, _H, _M = 520, 300, 52  # size and margin of the chart, px


def _scale(values: list[float], size: float, flip: bool = False) -> Any:
    low, high = math.log10(min(values)), math.log10(max(values))
    span_ = max(high - low, 1e-9)

    def at(v: float) -> float:
        frac = (math.log10(v) - low) / span_
        return _M + (1 - frac if flip else frac) * (size - 2 * _M)

    return at


def frontier_svg(points: Any, batch: float, pinned: Any = None) -> str:
    """The frontier as an SVG: per-user rate across, per-GPU rate up, both logarithmic; with
    ``pinned`` (the points of the deployment pinned as B, on the same axes) drawn beside it,
    orange and dashed (``llmphys-frontier-point-b``)."""
    users = [float(v) for v in points["tokens_per_second_per_user"]]
    gpus = [float(v) for v in points["tokens_per_second_per_gpu"]]
    both_users, both_gpus = list(users), list(gpus)
    if pinned is not None:
        both_users += [float(v) for v in pinned["tokens_per_second_per_user"]]
        both_gpus += [float(v) for v in pinned["tokens_per_second_per_gpu"]]
    x, y = _scale(both_users, _W), _scale(both_gpus, _H, flip=True)
    parts = [
        f'<svg class="llmphys-frontier" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" xmlns="http://www.w3.org/2000/svg" '
        'style="font:11px sans-serif;background:#fff">',
        f'<line x1="{_M}" y1="{_H - _M}" x2="{_W - _M / 2}" y2="{_H - _M}" stroke="#444"/>',
        f'<line x1="{_M}" y1="{_M / 2}" x2="{_M}" y2="{_H - _M}" stroke="#444"/>',
        f'<text x="{_W / 2}" y="{_H - 12}" text-anchor="middle">'
        "decode tokens/s per user (log)</text>",
        f'<text x="14" y="{_H / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_H / 2})">tokens/s per GPU (log)</text>',
    ]
    for value, at, horizontal in ((min(both_users), x, True), (max(both_users), x, True),
                                  (min(both_gpus), y, False),
                                  (max(both_gpus), y, False)):  # fmt: skip
        label = page_number(value)
        if horizontal:
            parts.append(f'<text x="{at(value):.1f}" y="{_H - _M + 14}" '
                         f'text-anchor="middle">{label}</text>')  # fmt: skip
        else:
            parts.append(f'<text x="{_M - 4}" y="{at(value) + 4:.1f}" '
                         f'text-anchor="end">{label}</text>')  # fmt: skip
    if pinned is not None:
        parts.append(_pinned_curve(pinned, x, y))
    line = [(x(u), y(g)) for u, g, fit in zip(users, gpus, points["fits"], strict=True) if fit]
    if len(line) > 1:
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in line)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#4c72b0"/>')
    rows = zip(points["batch"], users, gpus, points["fits"], strict=True)
    for b, u, g, fit in rows:
        fill = "#4c72b0" if fit else "#fff"
        stroke = "#4c72b0" if fit else "#999"
        ring = float(b) == float(batch)
        parts.append(
            f'<circle class="llmphys-frontier-point" data-batch="{float(b)!r}" '
            f'data-user="{u!r}" data-gpu="{g!r}" data-fits="{str(bool(fit)).lower()}" '
            f'cx="{x(u):.1f}" cy="{y(g):.1f}" r="{6 if ring else 4}" fill="{fill}" '
            f'stroke="{"#dd8452" if ring else stroke}" stroke-width="{2 if ring else 1}">'
            f"<title>batch {int(b)}: {page_number(u)} tok/s per user, {page_number(g)} "
            f"tok/s per GPU{'' if fit else ', does not fit'}</title></circle>"
        )
    legend = "● fits  ○ past one GPU's memory  ◎ batch in use"
    if pinned is not None:
        legend += "  ◆ B (pinned)"
    parts.append(
        f'<text x="{_W - _M / 2}" y="{_M / 2}" text-anchor="end" fill="#555">{legend}</text>'
        "</svg>"
    )
    return "".join(parts)


def _pinned_curve(points: Any, x: Any, y: Any) -> str:
    """B's frontier: a dashed orange line through the batches that fit, a point per batch."""
    rows = list(zip(points["batch"], points["tokens_per_second_per_user"],
                    points["tokens_per_second_per_gpu"], points["fits"], strict=True))  # fmt: skip
    line = " ".join(f"{x(float(u)):.1f},{y(float(g)):.1f}" for _, u, g, fit in rows if fit)
    parts = [f'<polyline points="{line}" fill="none" stroke="#dd8452" stroke-dasharray="4 3"/>']
    for b, u, g, fit in rows:
        parts.append(
            f'<rect class="llmphys-frontier-point-b" data-batch="{float(b)!r}" '
            f'data-user="{float(u)!r}" data-gpu="{float(g)!r}" '
            f'data-fits="{str(bool(fit)).lower()}" x="{x(float(u)) - 3:.1f}" '
            f'y="{y(float(g)) - 3:.1f}" width="6" height="6" '
            f'fill="{"#dd8452" if fit else "#fff"}" stroke="#dd8452">'
            f"<title>B, batch {int(b)}: {page_number(float(u))} tok/s per user, "
            f"{page_number(float(g))} tok/s per GPU</title></rect>"
        )
    return "".join(parts)


class FrontierPanel:
    """The chart and the question; :meth:`update` draws them for a deployment."""

    def __init__(self, changed: Any) -> None:
        self.frontier: Any = None
        #: the frontier of the deployment pinned as B, and that deployment
        self.pinned: Any = None
        self._pinned_of: Any = None
        self.chart = widgets.HTML()
        self.chart.add_class("llmphys-frontier-chart")
        self.floor = widgets.BoundedFloatText(
            value=20, min=0.001, max=1e6, description="at least",
            layout=widgets.Layout(width="12em"),
        )  # fmt: skip
        self.floor.add_class("llmphys-frontier-floor")
        self.answer = widgets.HTML()
        self.answer.add_class("llmphys-frontier-answer")
        self.floor.observe(changed, "value")
        self.box = widgets.VBox(
            [
                self.chart,
                widgets.HBox([self.floor, widgets.HTML("tokens/s per user: the largest batch")]),
                self.answer,
            ]
        )

    def clear(self) -> None:
        self.frontier = None
        self.chart.value = self.answer.value = ""

    def update(self, scenario: Scenario, pinned: Scenario | None = None) -> None:
        """Draw the frontier of ``scenario``, and of ``pinned`` (B) beside it when given."""
        import llmphys

        try:
            self.frontier = llmphys.frontier(scenario, over={"batch": list(BATCHES)})
        except EXPECTED as exc:
            self.frontier = None
            self.chart.value = error_html(str(exc))
            self.answer.value = ""
            return
        if pinned is not self._pinned_of:  # B is immutable: its frontier is drawn once
            self._pinned_of, self.pinned = pinned, None
            if pinned is not None:
                try:
                    self.pinned = llmphys.frontier(pinned, over={"batch": list(BATCHES)})
                except EXPECTED:
                    self.pinned = None
        self.chart.value = frontier_svg(
            self.frontier.points,
            scenario.value("batch"),
            None if self.pinned is None else self.pinned.points,
        )
        try:
            best = self.frontier.best_at(float(self.floor.value))
        except EXPECTED as exc:
            self.answer.value = error_html(str(exc))
            return
        self.answer.value = (
            f"batch {span('frontier_batch', float(best['batch']), page_number(best['batch']))}: "
            f"{escape(page_number(best['tokens_per_second_per_user']))} tok/s per user, "
            f"{escape(page_number(best['tokens_per_second_per_gpu']))} tok/s per GPU"
            " <small style='color:#555'>(of the batches drawn, powers of two)</small>"
        )
