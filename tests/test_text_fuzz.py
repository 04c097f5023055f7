"""Formula text from a random grammar (issue 16): every text is refused with an llmphys error,
or becomes a formula that is called, derived and solved with llmphys errors or finite numbers;
nothing foreign escapes, no case runs past its time limit, and the whole run stays under a
memory limit.

The texts mix what users type with what breaks parsers and computer algebra: glossary names,
unit constants, unknown and near-miss names, numbers from 0 to 1e400, huge exponents, deep
nesting, functions inside and outside the whitelist, and junk characters.  The cases are drawn
with a fixed seed, so every run tries the same ones; they run in a child interpreter with its
address space limited (``RLIMIT_AS``), so a case that tries to build a huge number fails as a
``MemoryError`` there instead of taking the machine.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import resource
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import llmphys as F
from llmphys.engine import Registry
from llmphys.engine.glossary import Glossary
from llmphys.errors import LlmphysError

from support import HangError, time_limit

CASES = 5000
SEED = 20261206
SECONDS = 10  # per case: parse, check, define, call, derive and solve together
MEMORY = 3 * 2**30  # bytes of address space the child may add to what it starts with

NAMES = ["params", "bytes_per_param", "seq_len", "batch", "layers", "hidden", "n_kv_heads",
         "head_dim", "kv_bytes", "mem_bandwidth", "peak_flops", "weight_bytes",
         "kv_cache_bytes", "ttft", "experts_per_token", "n_experts"]  # fmt: skip
UNITS = ["GB", "GiB", "byte", "bit", "s", "ms", "FLOP", "TB/s", "token", "parameter"]
ODD = ["paramz", "x", "__class__", "os", "lambda", "None", "True", "1x", "params.real"]
NUMBERS = ["0", "1", "2", "0.5", "1e-300", "1e300", "1e400", "123456789012345678901234567890",
           "7", "3.14159", "0x10", "1_000", "-1"]  # fmt: skip
FUNCTIONS = ["ceil", "floor", "max", "min", "log", "exp", "sqrt", "abs", "eval", "open", "sin"]
OPERATORS = ["+", "-", "*", "/", "**", "//", "%", "@", "<", "==", "and"]
JUNK = ["(", ")", ",", "[", "]", "{", "}", ";", "'", '"', "\\", "\n", "#", "$", "λ", "\x00"]


def text(rng: random.Random, depth: int = 0) -> str:
    """One formula text: mostly well formed, sometimes not."""
    roll = rng.random()
    if depth > 4 or roll < 0.3:
        pool = rng.choice([NAMES, NAMES, UNITS, NUMBERS, ODD])
        return rng.choice(pool)
    if roll < 0.55:
        op = rng.choice(OPERATORS[:5] if rng.random() < 0.8 else OPERATORS)
        return f"{text(rng, depth + 1)} {op} {text(rng, depth + 1)}"
    if roll < 0.7:
        name = rng.choice(FUNCTIONS[:8] if rng.random() < 0.8 else FUNCTIONS)
        args = ", ".join(text(rng, depth + 1) for _ in range(rng.choice([1, 1, 2, 3])))
        return f"{name}({args})"
    if roll < 0.8:
        return f"({text(rng, depth + 1)})"
    if roll < 0.88:  # towers and deep nesting
        inner = text(rng, depth + 1)
        for _ in range(rng.randint(2, 40)):
            inner = f"({inner})" if rng.random() < 0.5 else f"({inner})**{rng.choice(NUMBERS)}"
        return inner
    if roll < 0.95:  # junk spliced in
        left = text(rng, depth + 1)
        cut = rng.randint(0, len(left))
        return left[:cut] + rng.choice(JUNK) + left[cut:]
    return rng.choice(NAMES) * rng.randint(1, 2000)  # a very long name


def one_case(source: str, index: int) -> str:
    """Run one text through every front door; the outcome's name."""
    registry = Registry(Glossary(parent=F.glossary), parent=F.registry)
    try:
        unit = F.check_units(source, registry=registry)
        f = F.define(f"fuzz_{index}", source, result=unit, registry=registry)
    except LlmphysError:
        return "refused"
    values = {name: F.glossary[name].default for name in f.input_names}
    for run in (
        lambda: f(**values),
        lambda: f.derive(**values),
        lambda: _solve(f, values),
    ):
        try:
            result = run()
        except LlmphysError:
            continue
        _finite(result, source)
    return "formula"


def _solve(f: F.Formula, values: dict[str, Any]) -> Any:
    if not f.input_names:
        raise F.InputError("no input to solve for")
    unknown = f.input_names[0]
    target = f(**values) * 1.37
    given = {k: v for k, v in values.items() if k != unknown}
    return F.solve(f, unknown, target=target, **given)


def _finite(result: Any, source: str) -> None:
    if hasattr(result, "unknown"):  # a Solution
        result = result.value
    elif hasattr(result, "steps"):  # a Derivation
        result = result.result
    magnitude = float(getattr(result, "magnitude", result))
    assert math.isfinite(magnitude), (source, result)


def _address_space() -> int:
    """Bytes of address space this process uses now (a test run's modules and threads)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _child(sources: list[str], out: Any) -> None:
    limit = _address_space() + MEMORY  # on top of what the forked test process holds
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stats: Counter[str] = Counter()
    for index, source in enumerate(sources):
        try:
            with time_limit(SECONDS, f"text {source[:80]!r}"):
                stats[one_case(source, index)] += 1
        except HangError:
            out.put(("hang", source[:200]))
            return
        except Exception as exc:  # the point: nothing foreign escapes
            out.put(("foreign", f"{type(exc).__name__}: {str(exc)[:300]} for {source[:200]!r}"))
            return
    out.put(("done", dict(stats)))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc")
def test_random_formula_text_is_refused_or_computed():
    rng = random.Random(SEED)
    sources = [text(rng) for _ in range(CASES)]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads
    out = context.Queue()
    child = context.Process(target=_child, args=(sources, out))
    child.start()
    child.join(timeout=CASES * 2)
    if child.is_alive():
        child.kill()
        pytest.fail("the text fuzz ran past its total time")
    assert child.exitcode == 0 or not out.empty(), f"the fuzz child died ({child.exitcode})"
    kind, detail = out.get(timeout=10)
    assert kind == "done", (kind, detail)
    assert sum(detail.values()) == CASES
    assert detail.get("refused", 0) > 0 and detail.get("formula", 0) > 0
    print(f"\nformula text: {CASES} texts, {detail}, 0 foreign, 0 hangs")
