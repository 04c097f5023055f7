"""The glossary's tables (llmphys/symbols/*.toml, read by llmphys.symbols.table): each topic's
symbols come out of its table in order, with the types the table gives, and a malformed row is
refused at import with a message naming the table and the symbol."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

import llmphys as F
from llmphys.errors import FormulaDefinitionError
from llmphys.symbols import architecture, efficiency, parallel, precision, seed, serving
from llmphys.symbols.table import _entry

TOPICS = {
    "seed.toml": seed.INPUTS,
    "architecture.toml": architecture.ARCHITECTURE,
    "parallel.toml": parallel.PARALLEL,
    "precision.toml": precision.PRECISION,
    "serving.toml": serving.SERVING,
    "efficiency.toml": efficiency.EFFICIENCY,
}


@pytest.mark.parametrize("filename", TOPICS)
def test_a_topic_is_its_table_in_order(filename):
    text = resources.files("llmphys.symbols").joinpath(filename).read_text(encoding="utf-8")
    table = tomllib.loads(text)
    entries = TOPICS[filename]
    assert [e.name for e in entries] == list(table)
    for entry in entries:
        assert F.glossary[entry.name] is entry
        assert entry.kind == "input"


def test_values_keep_their_types():
    assert F.glossary["vocab_size"].default == 128256
    assert isinstance(F.glossary["vocab_size"].default, int)
    assert F.glossary["params"].default == 70e9
    assert F.glossary["gpu_memory"].default == 80 * 2**30  # exactly 80 GiB
    assert F.glossary["layers"].range == (1, 200)  # a tuple, as Entry declares
    assert F.glossary["kv_bytes"].choices is F.PRECISIONS
    assert F.glossary["new_tokens"].domain == "nonnegative"
    assert F.glossary["head_dim"].latex == r"d_{\mathrm{h}}"
    assert F.glossary["q_lora_rank"].text == "d_c'"


ROW = {"latex": "x", "text": "x", "unit": "", "meaning": "a test symbol"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {**ROW, "colour": "red"},
            "glossary: t.toml [x_test] has unknown field 'colour'; a symbol's fields are latex, "
            "text, unit, meaning, domain, integer, default, range, choices (the first 4 required)",
        ),
        (
            {k: v for k, v in ROW.items() if k != "text"},
            "glossary: t.toml [x_test] lacks 'text'; a symbol's fields are latex, text, unit, "
            "meaning, domain, integer, default, range, choices (the first 4 required)",
        ),
        (
            {**ROW, "choices": "colours"},
            "glossary: t.toml [x_test] has unknown choices 'colours'; use one of precisions",
        ),
        (
            {**ROW, "unit": "furlongz"},
            "glossary: t.toml [x_test] has unit 'furlongz', which llmphys's unit registry does "
            "not know",
        ),
        (
            {**ROW, "domain": "odd"},
            "glossary: 'x_test' has unknown domain 'odd'; use one of positive, nonnegative, "
            "fraction, unit_interval",
        ),
    ],
)
def test_a_malformed_row_is_refused(fields, message):
    with pytest.raises(FormulaDefinitionError) as error:
        _entry("t.toml", "x_test", fields)
    assert str(error.value) == message
