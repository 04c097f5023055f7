"""``llmphys search`` and ``llmphys disaggregate`` (issue 19): the same answers as the Python
API, as a table, CSV or JSON, and refusals with exit status 1 (no answer) or 2 (bad usage)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

import llmphys as F
from llmphys.cli import main

SEARCH = ["search", "--models", "llama-3.1-8b,llama-3.1-70b", "--hardware", "h100-sxm,h200",
          "--weights", "bf16,fp8", "--tp", "1,2,4", "--batch", "1..256",
          "--set", "price_per_gpu_hour=2.5"]  # fmt: skip


def _api_pareto():
    return F.search(models=["llama-3.1-8b", "llama-3.1-70b"], hardware=["h100-sxm", "h200"],
                    weights=["bf16", "fp8"], tp=[1, 2, 4], batch=[2**i for i in range(9)],
                    price_per_gpu_hour=2.5)  # fmt: skip


def test_search_json_is_the_api_pareto_set(capsys):
    assert main([*SEARCH, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    api = _api_pareto()
    assert out["points"] == api.points == 2 * 2 * 2 * 3 * 9
    got = pd.DataFrame(out["pareto"])
    want = api.pareto.reset_index(drop=True)
    assert list(got["batch"]) == list(want["batch"])
    assert list(got["cost_per_million_tokens"]) == pytest.approx(
        list(want["cost_per_million_tokens"]), rel=1e-12
    )
    # no point of the Pareto set is dominated by another
    for _, p in got.iterrows():
        better = got[(got["cost_per_million_tokens"] <= p["cost_per_million_tokens"])
                     & (got["tokens_per_second_per_user"] >= p["tokens_per_second_per_user"])]
        assert len(better) == 1  # itself
    assert out["objectives"] == [["cost_per_million_tokens", "min"],
                                 ["tokens_per_second_per_user", "max"]]  # fmt: skip


def test_search_csv_and_table(capsys):
    assert main([*SEARCH, "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(table) == len(_api_pareto().pareto)
    assert {"model", "hardware", "weights", "tp", "batch"} <= set(table.columns)
    assert main(SEARCH) == 0
    assert "216 design points" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--batch", "8..2"], "LO..HI"),
        (["--batch", "x"], "not a number"),
        (["--objective", "cost_per_million_tokens:least"], "FIGURE:min"),
        (["--set", "price_per_gpu_hour=2 GB"], "price_per_gpu_hour"),
    ],
)
def test_search_refusals(capsys, extra, words):
    code = 1 if "GB" in extra[-1] else 2  # a unit error is a "no", bad usage a 2
    assert main(["search", "--models", "llama-3.1-8b", *extra]) == code
    assert words in capsys.readouterr().err


def test_disaggregate_cli_is_the_api(capsys):
    args = ["disaggregate", "--model", "llama-3.1-70b", "--weights", "fp8", "--rate", "10",
            "--ttft", "1 s", "--tpot", "50 ms", "--json"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    s = F.Scenario("llama-3.1-70b", weights="fp8")
    d = F.disaggregate(s, arrival_rate=10, ttft=1, tpot=0.05)
    assert (out["prefill_gpus"], out["decode_gpus"]) == (d.prefill_gpus, d.decode_gpus)
    assert out["pd_ratio"] == pytest.approx(d.pd_ratio, rel=1e-12)
    assert [p["pool"] for p in out["pools"]] == ["prefill", "decode"]
    assert main(args[:-1]) == 0
    assert "P:D = 1 :" in capsys.readouterr().out
    # no prefill meets 1 ms: exit status 1, the fastest prefill named
    assert main([*args[:-5], "--ttft", "1 ms", "--tpot", "50 ms"]) == 1
    assert "the fastest" in capsys.readouterr().err


def test_scenario_cli_speculative(capsys):
    assert main(["scenario", "--model", "deepseek-v3", "--hardware", "h200", "--tp", "8",
                 "--speculative", "mtp", "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert "speculative decoding (mtp)" in out["title"]
    assert main(["scenario", "--speculative", "mtp"]) == 2  # Llama 3.1 70B has no MTP
    assert "has none" in capsys.readouterr().err
