"""Every LaTeX string the toolkit shows renders (issue 22): formulas and their expansions,
glossary symbols (the widget labels), derivations of deployments, solutions (the rounding notes
among them), widget headers and results, through MathJax itself, the renderer of JupyterLab and
of the docs site (Node.js; ``mathjax-full`` is installed from npm on the first run)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import llmphys as F
from llmphys.engine import glossary, registry

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".cache" / "mathjax"
MATHJAX = "mathjax-full@3.2.2"
MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)


@pytest.fixture(scope="module")
def render():
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("the LaTeX test needs Node.js and npm (MathJax runs in Node)")
    if not (CACHE / "node_modules" / "mathjax-full").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
                        "--loglevel=error", MATHJAX], check=True, timeout=600)  # fmt: skip

    def failures(strings: list[str]) -> list[tuple[str, str]]:
        done = subprocess.run(
            [node, str(HERE / "mathjax_check.js")], input=json.dumps(strings), text=True,
            capture_output=True, check=True, cwd=CACHE, timeout=600,
            env={"NODE_PATH": str(CACHE / "node_modules"), "PATH": str(Path(node).parent)},
        )  # fmt: skip
        return [(strings[i], error) for i, error in json.loads(done.stdout)]

    return failures


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _math(text: str) -> list[str]:
    """The math of a markdown or HTML text: each $$...$$ and $...$."""
    return [a or b for a, b in MATH.findall(text)]


def test_the_checker_catches_what_mathjax_refuses(render):
    bad = render([r"\text{rounded up: n_GPU}", r"\frac{a}{", r"\unknownmacro x", r"x_{a}^{2}"])
    assert [error for _, error in bad] == [
        "'_' allowed only in math mode", "Missing close brace",
        r"Undefined control sequence \unknownmacro",
    ]  # fmt: skip


def test_formulas_and_symbols_render(render):
    strings = [glossary[name].latex for name in glossary]
    for name in registry:
        f = registry[name]
        strings += [f.to_latex(), f"{f.entry.latex} = {f.to_latex(f.expand())}"]
        strings += _math(f._repr_markdown_())
    assert render(strings) == []


SCENARIOS = {
    # every figure of a dense model on one GPU, then the figures other deployments derive
    # differently (their variants: layout, MLA and experts with speculation and a prefix
    # cache, hybrid recurrent layers)
    "dense, one GPU": dict(model="llama-3.1-70b", hardware="h100-sxm", batch=8),
    "dense on 4 GPUs": dict(model="llama-3.1-70b", hardware="h100-sxm", batch=8, tp=4),
    "MLA and experts": dict(model="deepseek-v3", hardware="h200", speculative="mtp",
                            prefix_hit=0.5),
    "hybrid": dict(model="qwen3-next-80b-a3b", hardware="h100-sxm"),
}


def _figures(s: F.Scenario, every: bool) -> list[str]:
    """Every registry formula, or only the deployment's variants that no other variant uses as
    a part (a derivation writes out each of its parts: the roots cover the rest)."""
    if every:
        return list(registry)
    variants = [n for n in registry if s.formula(n) is not registry[n]]
    parts = {g.name for n in variants for g, _ in s.formula(n).chain() if g.name != n}
    return [n for n in variants if n not in parts]


@pytest.mark.parametrize("which", SCENARIOS)
def test_every_derivation_of_a_deployment_renders(render, which):
    s = F.Scenario(**SCENARIOS[which])
    strings = []
    for name in _figures(s, every=which == "dense, one GPU"):
        try:
            derivation = s.derive(name)
        except F.errors.LlmphysError:
            continue  # a figure this deployment has no inputs for
        strings.append(derivation.latex())  # its markdown and HTML wrap this same block
    assert len(strings) > 15
    assert render(strings) == []


def test_solutions_render(render):
    s = F.Scenario("deepseek-v3", "h100-sxm")  # needs several GPUs: a rounded-up answer
    answers = [
        s.solve("n_gpus", of="memory_per_gpu"),
        s.replace(tp=8, hardware="h200", weights="fp8").solve("seq_len", of="memory_per_gpu"),
        F.Scenario(weights="fp8").solve("batch", of="memory_per_gpu"),
        F.Scenario(weights="fp8").solve("prompt_len", "2 s", of="ttft"),
        F.Scenario(weights="fp8").solve("price_per_gpu_hour", "0.5 USD/Mtoken",
                                        of="cost_per_million_tokens"),
        F.solve("kv_cache_bytes", "seq_len", target=F.units.Q_(40, "GB"), layers=80, n_kv_heads=8,
                head_dim=128, batch=1, kv_bytes="bf16"),
        F.solve("kv_cache_bytes", "seq_len", layers=80, n_kv_heads=8, head_dim=128, batch=1,
                kv_bytes="bf16"),  # symbolic: the rearranged formula
    ]  # fmt: skip
    strings = []
    for a in answers:
        strings += [a.latex(), *_math(a._repr_markdown_()), *_math(a._repr_html_())]
    bad = render(strings)
    assert bad == []
    assert any(r"n\_GPU" in s for s in strings)  # the note names the unknown, escaped


def test_widget_panels_render(render):
    import ipywidgets as widgets

    from llmphys.widgets import explore

    strings = []
    for name in ("kv_cache_bytes", "memory_per_gpu", "ttft", "cost_per_million_at_rate"):
        panel = explore(name)
        panel.show_derivation.value = True
        strings += [m for w in _walk(panel.widget) if isinstance(w, widgets.HTMLMath)
                    for m in _math(w.value)]  # fmt: skip
    assert len(strings) > 20  # headers, results, derivations and every control's label
    assert render(strings) == []
