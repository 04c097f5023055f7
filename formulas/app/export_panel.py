"""The sizing page's folded "copy and export" section: the deployment as Python and as an
``llmphys scenario`` command that give the same numbers (:mod:`llmphys.scenario_code`), and
download links for its summary as JSON and CSV.  Built only while open (the summary is not
free)."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from llmphys.app import panels
from llmphys.app.views import EXPECTED, error_html

__all__ = ["ExportPanel"]


class ExportPanel:
    """``python``, ``cli`` and ``links`` (HTML) in ``box``, a folded Accordion."""

    def __init__(self) -> None:
        self.python = widgets.HTML()
        self.cli = widgets.HTML()
        self.links = widgets.HTML()
        self.box = widgets.Accordion(
            children=[
                widgets.VBox(
                    [
                        widgets.HTML("<b>copy as Python</b>"),
                        self.python,
                        widgets.HTML("<b>copy as a command line</b>"),
                        self.cli,
                        self.links,
                    ]
                )
            ],
            selected_index=None,
        )
        self.box.set_title(0, "copy as Python or CLI, download JSON or CSV")
        self.box.add_class("llmphys-export")
        self._scenario: Any = None
        self.box.observe(lambda _: self.render(self._scenario), "selected_index")

    def render(self, scenario: Any) -> None:
        """Show ``scenario`` (None: no deployment) when the section is open."""
        self._scenario = scenario
        if self.box.selected_index is None:
            return
        if scenario is None:
            self.python.value = self.cli.value = self.links.value = ""
            return
        try:
            self.python.value, self.cli.value, self.links.value = panels.export_html(scenario)
        except EXPECTED as exc:
            self.links.value = error_html(str(exc))
