"""The box beside a log slider (issue 22, item 4): it shows the value as people write it and
reads a typed value as typed, suffixes included, without clamping it to the slider's range."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmphys.engine import glossary
from llmphys.engine.coercion import coerce
from llmphys.engine.parse import parse_value
from llmphys.value_box import shown
from llmphys.widgets import explore

LOG_SLIDERS = sorted(e.name for e in glossary.inputs() if e.range and e.log_scale)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(LOG_SLIDERS), st.floats(0, 1))
def test_what_the_box_shows_reads_back(name, where):
    entry = glossary[name]
    lo, hi = entry.range
    value = lo * (hi / lo) ** where
    if entry.integer:
        value = float(max(1, round(value)))
    back = float(coerce(entry, parse_value(shown(entry, value), entry), name))
    assert back == pytest.approx(value, rel=5e-4)  # four significant figures at worst


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [("params", 70e9, "70B"), ("params", 70_553_706_496, "70.55B"), ("seq_len", 32768, "32k"),
     ("seq_len", 10_000, "10000"), ("layers", 80, "80"), ("mem_bandwidth", 3.35e12, "3.35 TB/s")],
)  # fmt: skip
def test_values_as_people_write_them(name, value, text):
    assert shown(glossary[name], value) == text


def test_a_typed_value_is_read_as_typed():
    panel = explore("weight_bytes")
    slider, box = panel.controls["params"], panel._rows["params"].children[2]
    assert not slider.readout and box.value == "70B"
    box.value = "40"  # forty parameters, below the slider's range: widened, not clamped
    assert slider.value == 40 and panel.result.magnitude == 80
    box.value = "1.5T"
    assert slider.value == 1.5e12 and box.value == "1.5T"
    slider.value = 7e9  # the slider moves the box
    assert box.value == "7B"
    box.value = "banana"  # unreadable: the value stays, the tooltip says why
    assert slider.value == 7e9 and box.value == "7B" and "not a number" in box.tooltip
    box.value = "-3"
    assert slider.value == 7e9 and "positive" in box.tooltip


def test_a_token_count_reads_k_as_1024():
    panel = explore("kv_cache_bytes")
    box = panel._rows["seq_len"].children[2]
    box.value = "128k"
    assert panel.controls["seq_len"].value == 131_072 and box.value == "128k"
