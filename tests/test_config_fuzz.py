"""Malformed config.json files (issue 16, item 9): every field of every fixture config removed
or replaced by a value of each wrong kind.  Each case must end in a ConfigError (or another
llmphys error) or a Model, never a foreign exception or a hang; a field the family reads and
checks is never read wrongly (``mlp_bias: "yes"`` is refused, not taken as no bias)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import llmphys as F
from llmphys.errors import LlmphysError

from support import HangError, time_limit

TESTS = Path(__file__).parent
#: the hand-written configs and the real ones of tests/fixtures/hf (their 'config')
FIXTURES = sorted((TESTS / "fixtures" / "configs").glob("*.json")) + sorted(
    (TESTS / "fixtures" / "hf").glob("*.json")
)


def read(path: Path) -> dict:
    held = json.loads(path.read_text())
    return held["config"] if path.parent.name == "hf" else held
#: fields every config may carry, given or not by the fixture
EXTRA = ["quantization_config", "max_position_embeddings", "rope_scaling", "text_config",
         "layer_types", "torch_dtype"]  # fmt: skip
BAD = {
    "missing": None,
    "text": "yes",
    "list": [1],
    "dict": {"a": 1},
    "bool": True,
    "negative": -3,
    "zero": 0,
    "fraction": 2.5,
    "huge int": 10**400,
    "beyond 2**40": 2**41,
    "nan": float("nan"),
}
STATS: Counter[str] = Counter()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_field_of_every_config_with_every_wrong_kind(path):
    base = read(path)
    for key in [*base, *(k for k in EXTRA if k not in base)]:
        for kind, value in BAD.items():
            config = {k: v for k, v in base.items() if not (kind == "missing" and k == key)}
            if kind != "missing":
                config[key] = value
            STATS["cases"] += 1
            try:
                with time_limit(5, f"load_hf_config({path.name}, {key} = {kind})"):
                    F.load_hf_config(config)
                STATS["models"] += 1
            except LlmphysError:
                STATS["errors"] += 1
            except HangError:
                raise
            except Exception as exc:  # the point: nothing foreign escapes
                pytest.fail(f"{path.name}: {key} = {kind}: {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("value", ["yes", 1, [True], {"a": 1}])
def test_a_switch_of_the_wrong_kind_is_refused_not_read_as_false(value):
    base = json.loads((Path(__file__).parent / "fixtures/configs/llama.json").read_text())
    with pytest.raises(F.ConfigError, match="'mlp_bias' must be true or false"):
        F.load_hf_config({**base, "mlp_bias": value})


def test_the_counts(capsys):
    if STATS["cases"] == 0:
        pytest.skip("run with the whole module")
    assert STATS["errors"] + STATS["models"] == STATS["cases"]
    with capsys.disabled():
        print(
            f"\nconfig fuzz: {STATS['cases']:,} malformed configs over {len(FIXTURES)} "
            f"families: {STATS['errors']:,} llmphys errors, {STATS['models']:,} models, "
            "0 foreign exceptions, 0 hangs"
        )
