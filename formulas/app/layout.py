"""How the sizing page is arranged: the inputs on the left, the figures on the right (one
column under the other when the page is narrow), in the order of the module docstring of
:mod:`llmphys.app.page`.  Arrangement only: the widgets are the page's."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from llmphys.app.views import escape

__all__ = ["SECTIONS", "page"]

#: The figures' sections, in page order: a title and the keys of its figures.
SECTIONS = (
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

_LAYOUT_NOTE = (
    "<small style='color:#555'>Every figure follows the layout: n_TP GPUs split the weights and "
    "KV heads (what stays replicated is counted on each), decode is the layout's roofline step "
    "with its all-reduces at the mean context (prompt + output / 2), prefill is split over the "
    "n_TP GPUs.</small>"
)


#: The page's own styles: the upload button reads "upload config.json", not ipywidgets' count
#: of the files it holds (always "(0)": the page empties it after reading each file, so the
#: same file can be chosen again), and the link to the page looks like a link.
STYLE = """<style>
.llmphys-upload { font-size: 0 !important; width: auto !important; padding: 0 12px; }
.llmphys-upload i { font-size: var(--jp-widgets-font-size, 13px); margin-right: 0.4em; }
.llmphys-upload::after { content: "upload config.json";
  font-size: var(--jp-widgets-font-size, 13px); }
a.llmphys-share { color: #1a5fb4; text-decoration: underline; }
</style>"""


def heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<h3 style='margin:0.6em 0 0.2em 0'>{escape(text)}</h3>")


def page(app: Any) -> widgets.HBox:
    """The page's widget tree for a :class:`~llmphys.app.page.SizingApp` ``app``."""
    settings = app.settings_panel
    inputs = widgets.VBox(
        [
            heading("model"),
            widgets.HBox([app.model, app.upload]),
            app.upload_message,
            app.model_info,
            heading("accelerator"),
            widgets.HBox([app.hardware, app.precision]),
            app.interconnect,
            app.hardware_info,
            heading("settings"),
            *settings.rows,
            settings.typed_note,
            app.context_note,
            settings.assumptions,
            app.inputs_used,
        ],
        layout=widgets.Layout(width="46em", margin="0 2em 0 0"),
    )
    sections: list[widgets.Widget] = [app.share, app.link_message, app.message]
    for title, keys in SECTIONS:
        sections.append(heading(title))
        if title == "memory":
            sections += [app.bar, app.fits]
        sections += [app.views[k].widget for k in keys]
    sections.append(widgets.HTML(_LAYOUT_NOTE))
    sections += [heading("throughput against interactivity"), app.frontier.box]
    sections += [heading("compare two deployments"), app.compare.box]
    sections += [heading("solve for"), app.solve_question, app.solve.box]
    sections.append(app.export)
    results = widgets.VBox(sections, layout=widgets.Layout(flex="1 1 40em"))
    tree = widgets.HBox(
        [widgets.HTML(STYLE, layout=widgets.Layout(display="none")), inputs, results],
        layout=widgets.Layout(flex_flow="row wrap"),
    )
    tree.add_class("llmphys-app")
    return tree
