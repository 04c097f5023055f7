"""HTML of the sizing page's read-outs: the memory bar and verdict, the inputs in use with
their provenance, the model's and the accelerator's one-line descriptions.  Each takes the
:class:`llmphys.Scenario` (or preset) it shows; no physics here."""

from __future__ import annotations

from typing import Any

import pint

from llmphys.app.views import EXPECTED, escape, quantity_text
from llmphys.engine.formatting import format_quantity, text_number
from llmphys.engine.formula import registry
from llmphys.scenario import Scenario

__all__ = [
    "PARTS",
    "export_html",
    "fits",
    "hardware_info",
    "inputs_in_use",
    "memory_bar",
    "model_info",
]

#: the per-GPU parts of the memory bar, with their labels and colours
PARTS = {
    "weights_per_gpu": ("weights", "#4c72b0"),
    "kv_cache_per_gpu": ("KV cache", "#dd8452"),
    "workspace_per_gpu": ("workspace", "#55a868"),
}


def memory_bar(scenario: Scenario, per_gpu: pint.Quantity | None) -> str:
    """A bar of one accelerator's memory: each part per GPU of the layout against the capacity
    (a red line)."""
    shares = {k: scenario.evaluate(k) for k in PARTS}
    capacity = scenario.capacity.to("byte").magnitude
    used = per_gpu.to("byte").magnitude if per_gpu is not None else 0.0
    scale = max(capacity, used) or 1.0
    blocks = []
    for key, q in shares.items():
        label, colour = PARTS[key]
        width = 100 * q.to("byte").magnitude / scale
        title = f"{label}: {quantity_text(q)} per GPU"
        blocks.append(
            f'<div title="{escape(title)}" style="width:{width:.3f}%;'
            f'background:{colour};height:100%"></div>'
        )
    legend = " ".join(
        f'<span style="color:{colour}">■</span> {escape(label)}' for label, colour in PARTS.values()
    )
    cap_text = format_quantity(scenario.capacity, sig=4, binary=True)
    return (
        '<div style="position:relative;display:flex;height:1.4em;max-width:40em;'
        'background:#eee;border:1px solid #999">'
        + "".join(blocks)
        + f'<div title="capacity" style="position:absolute;left:{100 * capacity / scale:.3f}%;'
        'top:-3px;bottom:-3px;border-left:3px solid #b00020"></div></div>'
        f"<small>{legend} (per GPU) &nbsp; <span style='color:#b00020'>|</span> capacity "
        f"of one accelerator: {escape(cap_text)}</small>"
    )


def fits(per_gpu: pint.Quantity, capacity: pint.Quantity) -> str:
    """The verdict: fits or does not fit, and the share of one accelerator used."""
    used, cap = per_gpu.to("byte").magnitude, capacity.to("byte").magnitude
    ok = used <= cap
    word = "fits" if ok else "does not fit"
    colour = "#1b5e20" if ok else "#b00020"
    return (
        f'<span class="llmphys-fits-verdict" data-value="{str(ok).lower()}" '
        f'style="color:{colour}"><b>{word}</b>: {100 * used / cap:.0f} % of one '
        "accelerator</span>"
    )


def inputs_in_use(scenario: Scenario, names: list[str]) -> str:
    """The inputs ``names`` as the scenario has them, each with its provenance as a tooltip."""
    gloss = registry.glossary
    shown = []
    for name in names:
        value = scenario.value(name)
        entry = gloss[name]
        unit = f" {entry.unit_text}" if entry.unit_text else ""
        shown.append(
            f'<span class="llmphys-input" data-name="{name}" data-value="{value!r}" '
            f'title="{escape(scenario.source(name))}">'
            f"{escape(entry.text)} = {text_number(value, exact=True)}{escape(unit)}</span>"
        )
    return "<small style='color:#555'>inputs in use: " + ", ".join(shown) + "</small>"


def model_info(m: Any) -> str:
    """A model's attention layout, size, assumptions and source, small."""
    v = m.values
    size = f"{v['params'] / 1e9:.4g}B parameters"
    if getattr(m, "is_moe", False):
        size += f" ({v['active_params'] / 1e9:.3g}B active)"
    lines = [f"{escape(m.attention_text())}; {escape(size)}"]
    from llmphys.app.settings_panel import released_text

    released = f"released in {released_text(m)}"
    if m.context_limit is not None:
        released += f"; context {m.context_limit:,} tokens"
    lines.append(escape(released))
    lines += [f"assumed: {escape(a)}" for a in m.assumptions]
    if m.source:
        lines.append(escape(f"source: {m.source}"))
    return "<small style='color:#555'>" + "<br>".join(lines) + "</small>"


def context_note(s: Any) -> str:
    """A warning when the prompt and the output together exceed the model's context
    (``max_position_embeddings``): the figures are still computed (the physics does not
    stop there), but the model was not trained for it.  Empty otherwise."""
    limit = s.model.context_limit
    if limit is None:
        return ""
    prompt, output = s.value("prompt_len"), s.value("new_tokens")
    if prompt + output <= limit:
        return ""
    return (
        "<span class='llmphys-context-note' style='color:#b26a00'>"
        f"prompt + output = {prompt + output:,.0f} tokens: beyond {escape(s.model.display_name)}"
        f"'s context of {limit:,} tokens ({escape(s.model.context_source.split(';')[0])})"
        "</span>"
    )


def share_html(query: str, upload: bool = False) -> str:
    """The link to the page's state (``llmphys-share``; the served page keeps the address
    bar on it), noting that an uploaded model is not in it."""
    note = (
        " <small style='color:#555'>(the uploaded model is not in the link: it cannot carry "
        "the file)</small>"
        if upload
        else ""
    )
    return (
        f'<a class="llmphys-share" href="?{escape(query)}" title="a link that reproduces this '
        f'page">link to this page</a>{note}'
    )


def hardware_info(a: Any, precision: str) -> str:
    """An accelerator's capacity, bandwidth, dense peak at ``precision`` and usual link."""
    bits = [a.capacity_text(), f"{format_quantity(a.mem_bandwidth, sig=4)}"]
    try:
        peak = a.peak_flops(precision)
        bits.append(f"{format_quantity(peak, sig=4)} dense {precision}")
    except EXPECTED:
        pass
    if a.interconnect:
        bits.append(f"usual link: {a.interconnect}")
    return "<small style='color:#555'>" + escape("; ".join(bits)) + "</small>"


def export_html(scenario: Any) -> tuple[str, str, str]:
    """The deployment as code and data: "copy as Python", "copy as CLI" (each rebuilding the
    same figures: :mod:`llmphys.scenario_code`) and download links for its summary as JSON
    and CSV."""
    import base64
    import csv
    import html
    import io
    import json

    from llmphys.scenario_code import cli_command, python_code

    style = 'style="white-space:pre-wrap"'
    python = f'<pre class="llmphys-copy-python" {style}>{html.escape(python_code(scenario))}</pre>'
    try:
        command = cli_command(scenario)
    except ValueError as exc:  # an accelerator that is not a preset has no CLI name
        command = f"# {exc}"
    cli = f'<pre class="llmphys-copy-cli" {style}>{html.escape(command)}</pre>'
    data = scenario.to_dict()
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["figure", "label", "value", "unit", "bound", "bound unit"])
    for key, item in data["figures"].items():
        value, bound = item["value"], item["bound"]
        writer.writerow([
            key, item["label"],
            value["value"] if isinstance(value, dict) else value,
            value["unit"] if isinstance(value, dict) else "",
            bound["value"] if isinstance(bound, dict) else "",
            bound["unit"] if isinstance(bound, dict) else "",
        ])  # fmt: skip

    def link(kind: str, mime: str, text: str) -> str:
        encoded = base64.b64encode(text.encode()).decode()
        return (
            f'<a class="llmphys-export-{kind}" download="llmphys-scenario.{kind}" '
            f'href="data:{mime};base64,{encoded}">{kind.upper()}</a>'
        )

    links = (
        "download the figures: "
        + link("json", "application/json", json.dumps(data, indent=2))
        + " · "
        + link("csv", "text/csv", rows.getvalue())
    )
    return python, cli, links
