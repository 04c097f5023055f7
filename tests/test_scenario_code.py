"""A Scenario as code (llmphys.scenario_code): the Python call and the command line it prints
rebuild a deployment with the same figures (the sizing app's "copy as Python" / "as CLI")."""

from __future__ import annotations

import contextlib
import doctest
import io
import json
import shlex

import pytest

import llmphys as F
import llmphys.scenario_code as code
from llmphys.cli import main

CASES = [
    dict(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4, batch=32),
    dict(model="llama-3.1-8b", hardware="a100-80gb", batch=8, prompt_len=2000, output_len=300,
         assumptions={"utilization": 0.3, "bw_utilization": 0.7}),
    dict(model="mixtral-8x7b", hardware="h200", tp=2, ep=2, assumptions="seed",
         price_per_gpu_hour=3.5),
    dict(model="llama-3.1-70b", hardware="h100-sxm", tp=2, pp=2, interconnect="pcie-gen5-x16",
         kv="fp8", prefix_hit=0.5),
]  # fmt: skip
FIGURES = ("ttft", "tpot", "memory_per_gpu", "tokens_per_second_per_gpu")


def scenario(case: dict) -> F.Scenario:
    case = dict(case)
    return F.Scenario(case.pop("model"), case.pop("hardware"), **case)


@pytest.mark.parametrize("case", CASES)
def test_the_python_code_rebuilds_the_same_figures(case):
    s = scenario(case)
    namespace: dict = {}
    source = code.python_code(s).replace("print(s.summary())", "")
    exec(compile(source, "<copied>", "exec"), namespace)  # the code the app prints
    rebuilt = namespace["s"]
    for figure in FIGURES:
        assert rebuilt.evaluate(figure).magnitude == pytest.approx(
            s.evaluate(figure).magnitude, rel=1e-12
        ), figure
    assert rebuilt.features == s.features


@pytest.mark.parametrize("case", CASES)
def test_the_command_line_rebuilds_the_same_figures(case):
    s = scenario(case)
    words = shlex.split(code.cli_command(s).replace("\\\n", " "))
    assert words[:2] == ["llmphys", "scenario"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--json", *words[1:]]) == 0
    figures = json.loads(out.getvalue())["figures"]
    for figure in ("ttft", "tpot", "tokens_per_second_per_gpu"):
        value = figures[figure]["value"]
        got = F.Q_(value["value"], value["unit"]).to(s.evaluate(figure).units).magnitude
        assert got == pytest.approx(s.evaluate(figure).magnitude, rel=1e-3), figure


def test_module_doctest():
    assert doctest.testmod(code).failed == 0
