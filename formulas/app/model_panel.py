"""The sizing page's model inputs: a preset dropdown, an upload button for a Hugging Face
``config.json`` (read with :func:`llmphys.load_hf_config`), what went wrong with an upload,
and the model's facts (attention layout, size, released precisions, context).

Every upload is kept as a model of its own (``upload:<n>:<file name>``): every HF config file
is called ``config.json``, so two of them must not overwrite each other.  A bad file leaves
the model as it was and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from llmphys.app import panels
from llmphys.app.figures import read_config
from llmphys.app.views import EXPECTED, error_html, escape

__all__ = ["UPLOAD", "ModelPanel"]

#: The prefix of an uploaded model's key.
UPLOAD = "upload:"


class ModelPanel:
    """``dropdown``, ``upload`` (FileUpload), ``message`` (an upload's errors), ``info`` and
    ``models`` (``{key: Model}``, the presets then the uploads).  ``changed`` is called after
    a model is selected by :meth:`select` or :meth:`add_config`."""

    def __init__(self, catalog: Mapping[str, Any], changed: Callable[[], None]) -> None:
        self.models: dict[str, Any] = {name: catalog[name] for name in catalog}
        self._changed = changed
        self.dropdown = widgets.Dropdown(
            options=self._options(), layout=widgets.Layout(width="22em")
        )
        self.dropdown.add_class("llmphys-model")
        self.upload = widgets.FileUpload(
            accept=".json,application/json",
            multiple=False,
            description="upload config.json",
            tooltip="a Hugging Face config.json (llama, mistral, mixtral, qwen2, qwen3_moe, "
            "deepseek_v2/v3, gpt_oss, gemma2/3)",
            layout=widgets.Layout(width="14em"),
        )
        self.upload.add_class("llmphys-upload")
        self.message = widgets.HTML()
        self.message.add_class("llmphys-error")
        self.message.add_class("llmphys-upload-message")
        self.info = widgets.HTML()
        self.info.add_class("llmphys-model-info")

    @property
    def current(self) -> Any:
        """The model selected (None when the key is unknown)."""
        return self.models.get(self.dropdown.value)

    def _options(self) -> list[tuple[str, str]]:
        options = []
        for key, m in self.models.items():
            label = getattr(m, "display_name", key)
            if key.startswith(UPLOAD):
                number, file = key.removeprefix(UPLOAD).split(":", 1)
                label = f"{label} (upload {number}, {file})"
            options.append((label, key))
        return options

    def select(self, key: str) -> None:
        """Select model ``key`` (the first model when it is unknown), then ``changed``."""
        options = self._options()
        if list(self.dropdown.options) != options:
            self.dropdown.options = options
        self.dropdown.value = key if key in self.models else next(iter(self.models))
        self.render()
        self._changed()

    def render(self) -> None:
        m = self.current
        self.info.value = "" if m is None else panels.model_info(m)

    def read_upload(self, files: Any) -> None:
        """The FileUpload's new value: its file read as a model (:meth:`add_config`)."""
        if not files:
            return
        item = files[0]
        self.add_config(str(item.get("name") or "config.json"), bytes(item["content"]))

    def add_config(self, name: str, content: bytes) -> bool:
        """Read an uploaded ``config.json`` and select its model; on a bad file say why in
        the page and keep the model selected before.  True when the model was added."""
        current = getattr(self.current, "display_name", "")
        try:
            model = read_config(name, content)
        except EXPECTED as exc:
            text = str(exc) if repr(name) in str(exc) else f"{name}: {exc}"
            stays = f" ({current} stays selected)" if current else ""
            self.message.value = error_html(text + stays)
            return False
        # every upload is kept: two files called config.json are two models
        number = 1 + sum(k.startswith(UPLOAD) for k in self.models)
        key = f"{UPLOAD}{number}:{name}"
        self.models[key] = model
        self.select(key)
        self.message.value = (
            f'<span class="llmphys-upload-ok" style="color:#1b5e20">read {escape(name)}: '
            f"{escape(model.display_name)}</span>"
        )
        return True
