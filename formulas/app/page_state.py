"""The sizing page's state as data, and as the query string of a link that reproduces it.

A :class:`PageState` is what the page's inputs hold: the model and accelerator (preset
names), the compute precision, the link, the assumption set, and each setting as its control
holds it (a number in the glossary's unit; for a precision, its name, ``"released"`` or a
custom number).  :meth:`PageState.scenario` is the deployment it describes (through
:func:`~llmphys.app.figures.scenario_of`, the page's one way to a Scenario).

The query string uses a Scenario's own keyword names, so a link reads as the Python call
does: ``?model=deepseek-v3&hardware=h200&weights=fp8&tp=8&batch=32&prompt_len=32k``.  Only
what differs from the page's start is written; a value is read as the box beside a slider
reads it (``32k`` is 32,768 tokens, ``80GB`` 80e9 bytes).  Reading a link never fails: what it
cannot use (an unknown name, a batch of 0) is left at the start and listed as a sentence.

>>> state, problems = read_query("model=llama-3.1-8b&tp=2&prompt_len=32k&batch=0&tpp=4")
>>> state.model, state.settings["tp"], state.settings["prompt_len"]
('llama-3.1-8b', 2.0, 32768.0)
>>> for p in problems:
...     print(p)
batch='0' was not used (batch: argument 'batch' must be positive; got 0)
tpp is not a setting of the page; did you mean 'tp' or 'pp'?
>>> query_of(state)
'model=llama-3.1-8b&prompt_len=32768&tp=2'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from llmphys.app.figures import ASSUMPTIONS, SETTINGS, START, scenario_of
from llmphys.controls import CUSTOM, choice_name
from llmphys.engine.formula import registry
from llmphys.errors import did_you_mean
from llmphys.scenario import DEFAULTS, Scenario

__all__ = ["RELEASED", "URL_NAMES", "PageState", "link_query", "query_of", "read_link",
           "read_query"]  # fmt: skip

#: The weights' choice "as released": the model's own precisions (a Scenario's weights=None).
RELEASED = "released"

#: A setting's name in a link: the Scenario keyword where it has one, else its glossary name.
URL_NAMES: Mapping[str, str] = {
    "bytes_per_param": "weights",
    "kv_bytes": "kv",
    "act_bytes": "act",
    "new_tokens": "output_len",
}
_SETTING_OF = {URL_NAMES.get(n, n): n for n in (*SETTINGS, *ASSUMPTIONS)}
_FIELDS = ("model", "hardware", "compute", "interconnect", "assumptions")


@dataclass(frozen=True)
class PageState:
    """What the sizing page's inputs hold (see the module docstring)."""

    model: str = DEFAULTS["model"]
    hardware: str = DEFAULTS["hardware"]
    compute: str = DEFAULTS["compute"]
    #: an interconnect preset's name, or "" for the accelerator's usual link
    interconnect: str = ""
    assumptions: str = DEFAULTS["assumptions"]
    #: each setting as its control holds it (a precision: a name, "released" or a number)
    settings: Mapping[str, float | str] = field(default_factory=dict)

    def with_start(self) -> PageState:
        """This state with every setting it does not give at the page's start: the Scenario's
        defaults, the weights as released, the assumption set's values at the compute
        precision, the glossary's default of the rest."""
        import llmphys

        chosen = llmphys.assumption_sets[self.assumptions].at(self.compute)[0]
        start: dict[str, float | str] = {}
        for name in (*SETTINGS, *ASSUMPTIONS):
            entry = registry.glossary[name]
            value: Any = START.get(name, chosen.get(name, entry.default))
            if name == "bytes_per_param":
                value = RELEASED
            elif entry.choices:
                value = _precision(entry, value)
            start[name] = value
        return dataclasses.replace(self, settings={**start, **self.settings})

    def numbers(self) -> dict[str, float | None]:
        """The settings in glossary units, as :func:`~llmphys.app.figures.scenario_of` takes
        them (the weights as released: None)."""
        out: dict[str, float | None] = {}
        for name, value in self.with_start().settings.items():
            entry = registry.glossary[name]
            if value == RELEASED:
                out[name] = None
            elif isinstance(value, str):
                out[name] = float(entry.choices[value])
            else:
                out[name] = float(value)
        return out

    def scenario(self, models: Mapping[str, Any], accelerators: Mapping[str, Any]) -> Scenario:
        """The deployment this state describes, its model and accelerator looked up in
        ``models`` and ``accelerators``."""
        return scenario_of(
            models[self.model],
            accelerators[self.hardware],
            self.compute,
            self.assumptions,
            self.interconnect or None,
            **self.numbers(),
        )


def query_of(state: PageState) -> str:
    """The query string of a link to ``state``: what differs from the page's start, in a
    fixed order."""
    start = PageState(compute=state.compute, assumptions=state.assumptions).with_start()
    pairs = [
        (name, getattr(state, name))
        for name in _FIELDS
        if getattr(state, name) != getattr(PageState(), name)
    ]
    full = state.with_start().settings
    for name in (*SETTINGS, *ASSUMPTIONS):
        value = full[name]
        if value != start.settings[name]:
            pairs.append((URL_NAMES.get(name, name), _text(value)))
    return urlencode(pairs, safe=",")


def read_query(
    query: str,
    models: Mapping[str, Any] | None = None,
    accelerators: Mapping[str, Any] | None = None,
) -> tuple[PageState, list[str]]:
    """The state a link's query string gives, and a sentence for each part it could not use
    (which then stays at the page's start).  ``models`` and ``accelerators`` are the names
    the page offers (the presets by default)."""
    import llmphys

    models = llmphys.models if models is None else models
    accelerators = llmphys.hardware if accelerators is None else accelerators
    fields: dict[str, str] = {}
    settings: dict[str, float | str] = {}
    problems: list[str] = []
    seen: set[str] = set()
    choices = {
        "model": models,
        "hardware": accelerators,
        "interconnect": llmphys.interconnects,
        "assumptions": llmphys.assumption_sets,
    }
    for key, text in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if key in seen:
            problems.append(f"{key} is given twice; the first is used")
            continue
        seen.add(key)
        if key in choices:
            if text in choices[key] or (key == "interconnect" and text == ""):
                fields[key] = text
            else:
                problems.append(f"{key}={text!r} is not known{did_you_mean(text, choices[key])}")
        elif key == "compute":
            fields[key] = text  # checked against the accelerator below
        elif key in _SETTING_OF:
            name = _SETTING_OF[key]
            try:
                settings[name] = _read(name, text)
            except Exception as exc:  # every refusal is a sentence, never a broken page
                problems.append(f"{key}={text!r} was not used ({exc})")
        else:
            problems.append(
                f"{key} is not a setting of the page"
                f"{did_you_mean(key, [*_FIELDS, *_SETTING_OF])}"
            )
    hardware = fields.get("hardware", PageState.hardware)
    known = list(accelerators[hardware].precisions()) if hardware in accelerators else []
    if "compute" in fields and fields["compute"] not in known:
        wrong = fields.pop("compute")
        problems.append(
            f"compute={wrong!r} is not a precision of {hardware} (it has {', '.join(known)})"
        )
    return PageState(**fields, settings=settings), problems


def link_query(state: PageState, pinned: PageState | None = None) -> str:
    """The query string of a link to ``state`` with ``pinned`` beside it (``vs=`` and its own
    query string, encoded).

    >>> link_query(PageState(settings={"tp": 4}), PageState(hardware="h200"))
    'tp=4&vs=hardware%3Dh200'
    """
    query = query_of(state)
    if pinned is None:
        return query
    tail = urlencode([("vs", query_of(pinned))])
    return f"{query}&{tail}" if query else tail


def read_link(
    query: str,
    models: Mapping[str, Any] | None = None,
    accelerators: Mapping[str, Any] | None = None,
) -> tuple[PageState, PageState | None, list[str]]:
    """The state of a link made by :func:`link_query`, the pinned state (None when it has
    none) and the sentences of :func:`read_query` (the pinned one's marked ``B:``)."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    own = urlencode([(k, v) for k, v in pairs if k != "vs"])
    state, problems = read_query(own, models, accelerators)
    vs = [v for k, v in pairs if k == "vs"]
    if not vs:
        return state, None, problems
    pinned, more = read_query(vs[0], models, accelerators)
    return state, pinned, problems + [f"B: {p}" for p in more]


def _read(name: str, text: str) -> float | str:
    """A setting's value as a link writes it: a precision's name (or "released", or a
    number), else a number read as a typed one (``32k``, ``80GB``)."""
    from llmphys.value_box import read_typed

    entry = registry.glossary[name]
    if name == "bytes_per_param" and text.strip().lower() == RELEASED:
        return RELEASED
    if entry.choices and choice_name(entry, text) != CUSTOM:
        return choice_name(entry, text)
    value = read_typed(entry, text)
    return _precision(entry, value) if entry.choices else value


def _precision(entry: Any, value: float) -> str | float:
    """A precision's name for a number equal to a named choice's, else the number (a custom
    precision)."""
    named = choice_name(entry, value)
    return float(value) if named == CUSTOM else named


def _text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return f"{value:.12g}"
