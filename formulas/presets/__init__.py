"""Presets: the reference models and accelerators, shipped as data.

``llmphys.models[name]`` is a :class:`Model` built from a hand-written ``config.json``
(``models.json`` beside this file) through :func:`llmphys.load_hf_config`;
``llmphys.hardware[name]`` is an :class:`Accelerator` from ``hardware.toml``.  Every entry
carries its source and an as-of date.  The data files are read on first access, never at
``import llmphys``; each preset is built the first time it is asked for.

Names are case-insensitive; a model is also found by its Hugging Face id.  An unknown name
raises :class:`~llmphys.UnknownNameError` suggesting the closest ones:

>>> import llmphys as F
>>> try:  # a refusal: its type and message
...     F.models["70b"]
... except Exception as error:
...     print(f"{type(error).__name__}: {error}")
UnknownNameError: unknown model '70b'; did you mean 'llama-3.1-70b'? (known: ...)
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from typing import Any, Generic, TypeVar

from llmphys.errors import UnknownNameError, did_you_mean
from llmphys.presets.accelerator import Accelerator, accelerator_from_entry
from llmphys.presets.model import Breakdown, BreakdownRow, Model

__all__ = [
    "Accelerator",
    "Breakdown",
    "BreakdownRow",
    "Catalog",
    "Model",
    "hardware",
    "models",
    "read_toml",
]

T = TypeVar("T")


class Catalog(Mapping[str, T], Generic[T]):
    """Presets by name, loaded on first access.

    ``loader`` returns ``{name: raw entry}``; ``build(name, entry)`` makes the preset, once.
    ``aliases(name, entry)`` gives other names it answers to (display name, Hugging Face id).
    """

    def __init__(
        self,
        kind: str,
        loader: Callable[[], Mapping[str, Any]],
        build: Callable[[str, Mapping[str, Any]], T],
        aliases: Callable[[str, Mapping[str, Any]], list[str]] = lambda name, entry: [],
    ) -> None:
        self.kind = kind
        self._loader = loader
        self._build = build
        self._aliases = aliases
        self._raw: dict[str, Mapping[str, Any]] | None = None
        self._alias: dict[str, str] = {}
        self._built: dict[str, T] = {}

    @classmethod
    def from_toml(
        cls, kind: str, package: str, filename: str, build: Callable[[str, Mapping[str, Any]], T]
    ) -> Catalog[T]:
        """The presets of a TOML data file: one table each, also found by its ``name`` field.

        Parameters
        ----------
        kind
            What a preset is, for messages (``"accelerator"``).
        package
            The package that ships the file (presets are package data: no network).
        filename
            The file's name in it.
        build
            ``build(name, table)`` makes the preset of one table.

        Returns
        -------
        Catalog
            The catalog, read on first access.
        """
        return cls(
            kind, lambda: read_toml(package, filename), build, lambda name, entry: [entry["name"]]
        )

    def _entries(self) -> dict[str, Mapping[str, Any]]:
        if self._raw is None:
            raw = dict(self._loader())
            for name, entry in raw.items():
                for alias in [name, *self._aliases(name, entry)]:
                    self._alias[alias.strip().lower()] = name
            self._raw = raw
        return self._raw

    def key(self, name: str) -> str:
        """The canonical name of a preset.

        Parameters
        ----------
        name
            A preset's name or alias, in any case.

        Returns
        -------
        str
            The name the catalog files it under.

        Raises
        ------
        UnknownNameError
            No preset has that name (the closest are suggested).
        """
        entries = self._entries()
        if not isinstance(name, str):
            raise UnknownNameError(f"{self.kind} names are text; got {name!r}", str(name))
        found = self._alias.get(name.strip().lower())
        if found is None:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}{did_you_mean(name.strip(), entries)} "
                f"(known: {', '.join(entries)})",
                name,
                [],
            )
        return found

    def __getitem__(self, name: str) -> T:
        key = self.key(name)
        if key not in self._built:
            self._built[key] = self._build(key, self._entries()[key])
        return self._built[key]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        self._entries()
        return name.strip().lower() in self._alias

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __len__(self) -> int:
        return len(self._entries())

    def __repr__(self) -> str:
        if self._raw is None:
            return f"<Catalog of {self.kind}s (not loaded yet)>"
        return f"<Catalog of {len(self._raw)} {self.kind}s: {', '.join(self._raw)}>"


def _model_entries() -> Mapping[str, Any]:
    text = resources.files(__name__).joinpath("models.json").read_text(encoding="utf-8")
    return json.loads(text)["models"]


def _build_model(name: str, entry: Mapping[str, Any]) -> Model:
    from llmphys.hf_config import model_from_config

    return model_from_config(
        entry["config"],
        name=name,
        display_name=entry["display_name"],
        source=entry["source"],
        as_of=entry["as_of"],
        hf_id=entry["hf_id"],
        published=entry.get("published"),
        context_note=entry.get("context_source", ""),
        precision_note=entry.get("precision_source", ""),
    )


def read_toml(package: str, filename: str) -> Mapping[str, Any]:
    """A TOML data file shipped in ``package`` (presets are package data: no network)."""
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    return tomllib.loads(text)


#: The reference models (each with its config's and its parameter count's source), by name.
models: Catalog[Model] = Catalog(
    "model",
    _model_entries,
    _build_model,
    lambda name, entry: [entry["display_name"], entry["hf_id"]],
)

#: The reference accelerators (each with its datasheet and an as-of date), by name.
hardware: Catalog[Accelerator] = Catalog.from_toml(
    "accelerator", __name__, "hardware.toml", accelerator_from_entry
)
