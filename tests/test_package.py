"""Packaging and the public API: import name, registry contents, light imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import llmphys as F

ROOT = Path(__file__).resolve().parents[1]

# DESIGN.md, "Formula names the seed's summary maps to (keep these)"
DESIGN_FORMULAS = [
    "dense_flops",
    "attention_flops",
    "prefill_flops",
    "decode_flops",
    "weight_bytes",
    "kv_cache_bytes",
    "workspace_bytes",
    "total_vram",
    "weight_read",
    "kv_read",
    "kv_write",
    "bandwidth_conservative",
    "bandwidth_optimistic",
    "arithmetic_intensity",
    "prefill_time",
    "ttft",
]
# DESIGN.md, "Symbol names used as keyword arguments (add more as needed, keep these)"
DESIGN_SYMBOLS = [
    "params",
    "active_params",
    "layers",
    "hidden",
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "batch",
    "seq_len",
    "prompt_len",
    "new_tokens",
    "bytes_per_param",
    "kv_bytes",
    "throughput",
    "peak_flops",
    "mem_bandwidth",
    "utilization",
    "workspace_fraction",
    "cache_hit",
    "overhead",
]


def run(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_registry_has_every_design_formula():
    assert set(DESIGN_FORMULAS) <= set(F.registry)


def test_registry_listing_command():
    out = run("import llmphys; print(sorted(llmphys.registry))")
    assert out.returncode == 0, out.stderr
    listed = ast.literal_eval(out.stdout)
    assert set(DESIGN_FORMULAS) <= set(listed)


def test_glossary_has_every_design_symbol():
    assert set(DESIGN_SYMBOLS) <= set(F.glossary)


def test_formulas_reachable_as_attributes():
    for name in F.registry:
        assert getattr(F, name) is F.registry[name]


def test_all_is_importable():
    for name in F.__all__:
        assert hasattr(F, name), name


def test_import_does_not_pull_widgets_or_matplotlib():
    out = run(
        "import sys, llmphys\n"
        "bad = [m for m in ('ipywidgets', 'matplotlib', 'IPython') if m in sys.modules]\n"
        "print(bad)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_folder_imported_under_another_name_is_refused(tmp_path):
    # a kernel started next to the folders would import 'formulas' itself: refuse it clearly
    out = run("import formulas", cwd=ROOT)
    assert out.returncode != 0
    assert "must be imported as 'llmphys', not 'formulas'" in out.stderr


def test_one_unit_registry():
    from llmphys.units import ureg

    assert F.ureg is ureg
    assert F.weight_bytes(params=1, bytes_per_param=1)._REGISTRY is ureg
