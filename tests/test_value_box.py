"""The box beside a log slider (issue 22, item 4): it shows the value as people write it and
reads a typed value as typed, suffixes included, without clamping it to the slider's range."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmphys.engine import glossary
from llmphys.engine.coercion import coerce
from llmphys.engine.parse import parse_value
from llmphys.errors import LlmphysError
from llmphys.value_box import read_typed, shown
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
     ("seq_len", 10_000, "10000"), ("seq_len", 2_000_000, "2000000"), ("layers", 80, "80"),
     ("mem_bandwidth", 3.35e12, "3.35 TB/s")],
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


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [("params", "40", 40), ("params", "40G", 40e9), ("params", "40 G", 40e9),
     ("params", "70.0G", 70e9), ("params", "40B", 40e9), ("params", "1.5T", 1.5e12),
     ("params", "70553706496", 70_553_706_496), ("seq_len", "32k", 32_768),
     ("seq_len", "10000", 10_000), ("layers", "80", 80),
     ("mem_bandwidth", "3.35 TB/s", 3.35e12), ("mem_bandwidth", "3350 GB/s", 3.35e12)],
)  # fmt: skip
def test_typed_text_means_what_it_says(name, text, value):
    # a plain number is in the entry's unit, never scaled by the suffix the box showed; G is
    # the SI prefix a slider's own readout writes (70.0G), a billion
    assert read_typed(glossary[name], text) == value


@pytest.mark.parametrize(
    ("name", "text"), [("params", "-3"), ("params", "40X"), ("mem_bandwidth", "3G")]
)
def test_typed_text_that_means_nothing_is_refused(name, text):
    with pytest.raises(LlmphysError):
        read_typed(glossary[name], text)


def test_a_typed_value_is_kept_exactly_never_clamped():
    panel = explore("total_vram", models={}, hardware={})
    slider, box = panel.controls["params"], panel._rows["params"].children[2]
    box.value = "40G"  # in a box showing 70B: forty billion
    assert slider.value == 40e9 and box.value == "40B" and panel.values["params"] == 40e9
    box.value = "40"  # forty, below the slider's range (1e8): the range widens to hold it
    assert slider.value == 40 and panel.values["params"] == 40 and 10**slider.min < 40
    box.value = "5T"  # above it
    assert slider.value == 5e12 and 10**slider.max > 5e12
    box.value = "70553706496"  # exactly, not to the four figures the box shows
    assert slider.value == 70_553_706_496 and box.value == "70.55B"
    assert panel.values["params"] == 70_553_706_496
    panel = explore("decode_memory_time", models={}, hardware={})
    slider, box = panel.controls["mem_bandwidth"], panel._rows["mem_bandwidth"].children[2]
    box.value = "3350 GB/s"  # a unit converts
    assert slider.value == 3.35e12 and box.value == "3.35 TB/s"
    assert panel.values["mem_bandwidth"] == 3.35e12


def test_a_key_press_moves_on_from_a_typed_value():
    panel = explore("weight_bytes", models={}, hardware={})
    slider, box = panel.controls["params"], panel._rows["params"].children[2]
    box.value = "40"
    tenth = (slider.max - slider.min) / 10  # what a browser's key press sends
    slider.set_state({"value": 10 ** (math.log10(slider.value) + tenth)})
    assert slider.value == 41 and box.value == "41"  # 40 * 1.023, at least one more
    box.value = "1.5T"
    tenth = (slider.max - slider.min) / 10
    slider.set_state({"value": 10 ** (math.log10(slider.value) - tenth)})
    assert slider.value == round(1.5e12 / 10**0.01) and box.value == "1.466T"
