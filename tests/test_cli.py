"""The ``llmphys`` command: every command in text and ``--json``, exit codes 0 (success),
1 (unit error, infeasible), 2 (bad usage), messages on stderr, closest names suggested for
unknown ones.

Each command and each exit code is run as a user runs it, in a subprocess (``python -m
llmphys``; the fixture starts them together).  Finer points of messages run in-process through
``main(argv)``, which is the same code without an interpreter start per case."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}

KV = [
    "--set",
    "layers=80",
    "--set",
    "n_kv_heads=8",
    "--set",
    "head_dim=128",
    "--set",
    "kv_bytes=bf16",
    "--set",
    "batch=1",
]
VRAM = [
    *KV,
    "--set",
    "params=70B",
    "--set",
    "bytes_per_param=int4",
    "--set",
    "workspace_fraction=0.12",
]
VRAM_MHA = [*VRAM, "--set", "n_kv_heads=64"]
VRAM_BF16 = [*VRAM_MHA, "--set", "bytes_per_param=bf16"]
BITS = ["--unit", "bits_per_param=bit/parameter", "--result", "byte"]

# the command lines run in a subprocess, started together (each is a fresh interpreter)
COMMANDS: list[tuple[str, ...]] = [
    ("list",),
    ("list", "--json"),
    ("show", "kv_cache_bytes"),
    ("show", "kv_cache_bytes", "--json"),
    ("show", "kv_cache_byts"),
    ("derive", "kv_cache_bytes", *KV, "--set", "seq_len=32Ki"),
    ("derive", "kv_cache_bytes", *KV, "--set", "seq_len=32Ki", "--json"),
    ("derive", "kv_cache_bytes", "--set", "seq_le=1"),
    ("solve", "total_vram", "--for", "seq_len", "--target", "80 GB", *VRAM_MHA),
    ("solve", "total_vram", "--for", "seq_len", "--target", "80 GB", *VRAM_MHA, "--json"),
    ("solve", "total_vram", "--for", "seq_len", "--target", "80 GB", *VRAM_BF16),
    ("check", "params * bits_per_param * byte / (8 * bit)", *BITS),
    ("check", "params * bits_per_param * byte / (8 * bit)", *BITS, "--json"),
    ("check", "params * bits_per_param * 8", *BITS),
    ("check", "__import__('os').system('echo pwned')"),
    ("models",),
    ("models", "--json"),
    ("hardware",),
    ("hardware", "--json"),
]


def _run(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llmphys", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        timeout=180,
    )


@pytest.fixture(scope="module")
def processes() -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(COMMANDS, pool.map(_run, COMMANDS), strict=True))


@pytest.fixture
def cli(processes):
    """``cli(*argv)``: the finished subprocess (command lines of COMMANDS ran in parallel)."""

    def run(*argv: str) -> subprocess.CompletedProcess:
        if argv not in processes:
            processes[argv] = _run(argv)
        return processes[argv]

    return run


@pytest.fixture
def main(capsys, monkeypatch, scratch):
    """``main(*argv)``: the same command in-process, as a finished process (fast)."""
    import llmphys.user
    from llmphys.cli import main as run_main

    monkeypatch.setattr(llmphys.user, "user_registry", scratch)

    def run(*argv: str) -> subprocess.CompletedProcess:
        try:
            code = run_main(list(argv))
        except SystemExit as exc:  # argparse: usage errors and --help
            code = exc.code
        out = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out.out, out.err)

    return run


def ok(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return out.stdout


def ok_json(out: subprocess.CompletedProcess):
    return json.loads(ok(out))


def failed(out: subprocess.CompletedProcess, code: int) -> str:
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    return out.stderr


# ------------------------------------------------------------------------------ list
def test_list(cli):
    lines = ok(cli("list")).splitlines()
    row = next(line for line in lines if line.startswith("kv_cache_bytes "))
    assert row.split()[1] == "B"
    assert "KV cache" in row
    assert any(line.startswith("prefill_flops ") and " FLOP " in line for line in lines)


def test_list_json(cli):
    data = ok_json(cli("list", "--json"))
    by_name = {f["name"]: f for f in data["formulas"]}
    assert by_name["kv_cache_bytes"]["unit"] == "B"
    assert by_name["kv_cache_bytes"]["dimension"] == "[information]"
    assert "seq_len" in by_name["kv_cache_bytes"]["inputs"]
    assert by_name["prefill_time"]["dimension"] == "[time]"


def test_json_before_the_command_works_too(main):
    assert ok_json(main("--json", "list")) == ok_json(main("list", "--json"))


# ------------------------------------------------------------------------------ show
def test_show_formula(cli):
    text = ok(cli("show", "kv_cache_bytes"))
    assert text.startswith("kv_cache_bytes: ")
    assert "Formula\n  M_KV = m_kv · S · B\n       = 2 · L · n_kv · d_h · S · B · b_kv" in text
    assert "\nInputs\n" in text and "\nRationale\n" in text and "\nSource\n" in text
    seq = next(line for line in text.splitlines() if line.strip().startswith("seq_len "))
    assert seq.split()[1:3] == ["S", "tok"]


def test_show_formula_json(cli):
    data = ok_json(cli("show", "kv_cache_bytes", "--json"))
    assert data["name"] == "kv_cache_bytes" and data["unit"] == "B"
    assert data["definition"]["text"] == "m_kv · S · B"
    assert data["expanded"]["text"] == "2 · L · n_kv · d_h · S · B · b_kv"
    inputs = {i["name"]: i for i in data["inputs"]}
    assert inputs["seq_len"]["unit"] == "tok" and inputs["seq_len"]["integer"] is True
    assert inputs["kv_bytes"]["choices"]["bf16"] == 2
    assert data["rationale"] and data["source"].startswith("seed:")
    assert [p["name"] for p in data["parts"]] == ["kv_bytes_per_token"]


def test_show_symbol(main):
    text = ok(main("show", "seq_len"))
    assert text.startswith("seq_len (S): context length")
    assert "unit:     tok (dimensionless)" in text
    assert "kv_cache_bytes" in text  # used by


def test_show_symbol_json(main):
    data = ok_json(main("show", "seq_len", "--json"))
    assert data["symbol"]["name"] == "seq_len" and data["symbol"]["integer"] is True
    assert "kv_cache_bytes" in data["used_by"]


def test_show_unknown_name_suggests_the_closest(cli):
    out = cli("show", "kv_cache_byts")
    assert failed(out, 2) == (
        "llmphys show: error: unknown formula or symbol 'kv_cache_byts'; did you mean "
        "'kv_cache_bytes'? (llmphys list shows every formula)\n"
    )
    assert out.stdout == ""


def test_show_unknown_name_json(main):
    out = main("show", "kv_cache_byts", "--json")
    failed(out, 2)
    error = json.loads(out.stdout)["error"]
    assert error["type"] == "UnknownNameError" and error["exit_code"] == 2
    assert error["suggestions"] == ["kv_cache_bytes"]


# ------------------------------------------------------------------------------ derive
def test_derive(cli):
    text = ok(cli("derive", "kv_cache_bytes", *KV, "--set", "seq_len=32Ki"))
    assert "S    = 32768" in text  # 32Ki = 32,768 tokens
    assert text.rstrip().endswith("M_KV = 10.7 GB")


def test_derive_json(cli):
    data = ok_json(cli("derive", "kv_cache_bytes", *KV, "--set", "seq_len=32Ki", "--json"))
    assert data["formula"] == "kv_cache_bytes"
    assert data["result"]["value"] == 2 * 80 * 8 * 128 * 2 * 32768
    values = {v["name"]: v for v in data["values"]}
    assert values["kv_bytes"]["named"] == "bf16"


def test_derive_binary(main):
    assert (
        ok(main("derive", "kv_cache_bytes", *KV, "--set", "seq_len=32Ki", "--binary"))
        .rstrip()
        .endswith("M_KV = 10 GiB")
    )


def test_derive_explain_adds_the_rationale(main):
    assert "Grows linearly with the context" in ok(
        main("derive", "kv_cache_bytes", *KV, "--set", "seq_len=32Ki", "--explain")
    )


def test_derive_unknown_formula(main):
    assert failed(main("derive", "kv_cache_byte", "--set", "seq_len=1"), 2) == (
        "llmphys derive: error: unknown formula 'kv_cache_byte'; did you mean "
        "'kv_cache_bytes'? (llmphys list shows every formula)\n"
    )


def test_derive_unknown_symbol(cli):
    assert failed(cli("derive", "kv_cache_bytes", "--set", "seq_le=1"), 2) == (
        "llmphys derive: error: formula 'kv_cache_bytes': unknown input 'seq_le'; did you mean "
        "'seq_len'? (inputs: layers, n_kv_heads, head_dim, seq_len, batch, kv_bytes)\n"
    )


def test_derive_unknown_symbol_json(main):
    out = main("derive", "kv_cache_bytes", "--set", "seq_le=1", "--json")
    failed(out, 2)
    assert json.loads(out.stdout)["error"]["suggestions"] == ["seq_len"]


def test_derive_malformed_set(main):
    assert failed(main("derive", "kv_cache_bytes", "--set", "seq_len"), 2) == (
        "llmphys derive: error: --set expects NAME=VALUE, got 'seq_len'\n"
    )


def test_derive_value_of_the_wrong_dimension_is_a_unit_error(main):
    assert failed(main("derive", "kv_cache_bytes", "--set", "seq_len=3 GB"), 1) == (
        "llmphys derive: error: argument 'seq_len' to formula 'kv_cache_bytes' must be in "
        "units convertible to 'token' (dimensionless); got 'GB' ([information])\n"
    )


def test_derive_value_outside_the_domain_is_bad_usage(main):
    stderr = failed(main("derive", "kv_cache_bytes", "--set", "seq_len=-5"), 2)
    assert "argument 'seq_len' must be positive; got -5" in stderr


def test_derive_unknown_precision_name(main):
    stderr = failed(main("derive", "kv_cache_bytes", "--set", "kv_bytes=bf61"), 2)
    assert "--set kv_bytes: unknown name 'bf61'; did you mean 'bf16'?" in stderr


# ------------------------------------------------------------------------------ solve
def test_solve(cli):
    text = ok(cli("solve", "total_vram", "--for", "seq_len", "--target", "80 GB", *VRAM_MHA))
    assert "S = 15563 tok" in text


def test_solve_json(cli):
    data = ok_json(
        cli("solve", "total_vram", "--for", "seq_len", "--target", "80 GB", *VRAM_MHA, "--json")
    )
    assert data["unknown"] == "seq_len"
    assert data["value"]["value"] == 15563


def test_solve_infeasible_exits_1_with_the_reason(cli):
    out = cli("solve", "total_vram", "--for", "seq_len", "--target", "80 GB", *VRAM_BF16)
    stderr = failed(out, 1)
    assert stderr.startswith("llmphys solve: error: ")
    assert "already exceed 80 GB" in stderr
    assert out.stdout == ""


def test_solve_infeasible_json(main):
    out = main("solve", "total_vram", "--for", "seq_len", "--target", "80 GB", *VRAM_BF16, "--json")
    failed(out, 1)
    error = json.loads(out.stdout)["error"]
    assert error["type"] == "InfeasibleError" and error["exit_code"] == 1


def test_solve_unknown_symbol(main):
    stderr = failed(main("solve", "total_vram", "--for", "seq_lenn", "--target", "80 GB"), 2)
    assert stderr.startswith(
        "llmphys solve: error: formula 'total_vram': cannot solve for 'seq_lenn', which is not "
        "one of its inputs; did you mean 'seq_len'? (inputs: params, "
    )


def test_solve_unknown_target_unit(main):
    stderr = failed(
        main("solve", "total_vram", "--for", "seq_len", "--target", "80 GBB", *VRAM_MHA), 2
    )
    assert stderr.startswith("llmphys solve: error: --target: unknown unit 'GBB'; did you mean")


def test_solve_without_a_target_is_a_usage_error(main):
    stderr = failed(main("solve", "total_vram", "--for", "seq_len"), 2)
    assert "the following arguments are required: --target" in stderr


# ------------------------------------------------------------------------------ check
def test_check_ok(cli):
    assert ok(cli("check", "params * bits_per_param * byte / (8 * bit)", *BITS)) == (
        "ok: params*bits_per_param*byte/(8*bit) is in B (as declared), dimension [information]\n"
    )


def test_check_ok_json(cli):
    assert ok_json(cli("check", "params * bits_per_param * byte / (8 * bit)", *BITS, "--json")) == {
        "ok": True,
        "expression": "params*bits_per_param*byte/(8*bit)",
        "unit": "B",
        "dimension": "[information]",
    }


def test_check_without_a_result_reports_the_unit(main):
    assert ok(main("check", "weight_bytes + kv_cache_bytes")) == (
        "ok: weight_bytes + kv_cache_bytes is in B, dimension [information]\n"
    )


def test_check_bits_times_8(cli):
    out = cli("check", "params * bits_per_param * 8", *BITS)
    assert failed(out, 1) == (
        "llmphys check: error: expression 8*params*bits_per_param is in b, but the result is "
        "declared in B: same dimension [information], but 1 b = 0.125 B, so its numbers would "
        "be off by that factor; convert inside the expression (* B / (8 * b)) or declare the "
        "result in b\n"
    )
    assert out.stdout == ""


def test_check_bits_times_8_json(main):
    out = main("check", "params * bits_per_param * 8", *BITS, "--json")
    failed(out, 1)
    error = json.loads(out.stdout)["error"]
    assert error["type"] == "UnitError"
    assert error["terms"] == [
        {"term": "8*params*bits_per_param", "unit": "b", "dimension": "[information]"}
    ]


def test_check_rate_plus_total_json_lists_each_term(main):
    out = main("check", "mem_bandwidth + weight_bytes", "--json")
    failed(out, 1)
    terms = json.loads(out.stdout)["error"]["terms"]
    assert {t["term"]: t["dimension"] for t in terms} == {
        "mem_bandwidth": "[information] / [time]",
        "weight_bytes": "[information]",
    }


def test_check_declared_rate_for_bytes(main):
    assert failed(main("check", "weight_bytes", "--result", "GB/s"), 1) == (
        "llmphys check: error: expression weight_bytes is in B ([information]), but the result "
        "is declared in GB/s ([information] / [time])\n"
    )


def test_check_time_plus_number(main):
    assert "term 80 is dimensionless" in failed(main("check", "prefill_time + 80"), 1)


def test_check_refuses_code_and_runs_nothing(cli):
    out = cli("check", "__import__('os').system('echo pwned')")
    assert failed(out, 2) == (
        "llmphys check: error: dunder name '__import__' is not allowed in formula text "
        "(allowed: numbers, names, + - * / **, parentheses, sqrt, log, exp, ceil, floor, min, "
        "max); nothing was evaluated\n"
    )
    assert out.stdout == ""  # 'echo pwned' never ran


def test_check_refuses_code_json(main):
    out = main("check", "__import__('os').system('echo pwned')", "--json")
    failed(out, 2)
    assert "pwned\n" not in out.stdout
    assert json.loads(out.stdout)["error"]["type"] == "UnsafeFormulaError"


def test_check_unknown_name(main):
    assert failed(main("check", "weight_byte * 2"), 2).startswith(
        "llmphys check: error: unknown name 'weight_byte'; did you mean 'weight_bytes'?"
    )


def test_check_malformed_unit_option(main):
    assert failed(main("check", "x * 2", "--unit", "x"), 2) == (
        "llmphys check: error: --unit expects NAME=VALUE, got 'x'\n"
    )


# ------------------------------------------------------------------------------ presets
def test_models(cli):
    lines = ok(cli("models")).splitlines()
    row = next(line for line in lines if line.startswith("llama-3.1-70b "))
    assert "GQA, 8 KV heads x 128" in row
    assert any(line.startswith("deepseek-v3 ") and "B active)" in line for line in lines)


def test_models_json(cli):
    models = {m["name"]: m for m in ok_json(cli("models", "--json"))["models"]}
    llama = models["llama-3.1-70b"]
    assert llama["attention"] == "GQA" and llama["moe"] is False
    assert 70e9 < llama["params"] < 71e9
    assert models["deepseek-v3"]["moe"] is True


def test_hardware(cli):
    lines = ok(cli("hardware")).splitlines()
    row = next(line for line in lines if line.startswith("a100-80gb "))
    assert '"80 GB" label' in row and "80 GiB" in row and "2.04 TB/s" in row


def test_hardware_json(cli):
    hardware = {h["name"]: h for h in ok_json(cli("hardware", "--json"))["hardware"]}
    a100 = hardware["a100-80gb"]
    assert a100["capacity"] == 80 * 2**30 and a100["capacity_label"] == "80 GB"
    assert a100["peak_flops"]["bf16"] == 312e12
    assert "h100-sxm" in hardware


def test_derive_with_a_model_and_hardware(main):
    text = ok(
        main(
            "derive",
            "prefill_time",
            "--model",
            "llama-3.1-70b",
            "--hardware",
            "a100-80gb",
            "--set",
            "prompt_len=10k",
            "--set",
            "utilization=0.4",
            "--set",
            "causal_factor=1",
        )
    )
    assert re.search(r"\n  L +=  *80 ", text)  # from the model
    assert re.search(r"\n  F_peak += 312e12 FLOP/s ", text)  # from the accelerator
    assert "(312e12 FLOP/s) · 0.4" in text


def test_derive_precision_picks_the_peak(main):
    data = ok_json(
        main(
            "derive",
            "effective_flops",
            "--hardware",
            "h100-sxm",
            "--precision",
            "fp8",
            "--set",
            "utilization=0.5",
            "--json",
        )
    )
    assert data["result"]["value"] == pytest.approx(0.5 * 1979e12)


def test_solve_with_a_model(main):
    data = ok_json(
        main(
            "solve",
            "total_vram",
            "--model",
            "llama-3.1-70b",
            "--for",
            "seq_len",
            "--target",
            "80 GiB",
            "--set",
            "batch=1",
            "--set",
            "bytes_per_param=int4",
            "--set",
            "kv_bytes=bf16",
            "--set",
            "workspace_fraction=0.12",
            "--json",
        )
    )
    assert data["target"]["value"] == 80 * 2**30
    assert data["direction"] == "largest" and data["value"]["value"] > 100_000


def test_set_overrides_a_preset_and_may_give_a_part(main):
    text = ok(
        main(
            "derive",
            "total_vram",
            "--model",
            "llama-3.1-70b",
            "--set",
            "weight_bytes=140GB",
            "--set",
            "seq_len=10k",
            "--set",
            "batch=1",
            "--set",
            "kv_bytes=bf16",
            "--set",
            "workspace_fraction=0.12",
        )
    )
    assert text.rstrip().endswith("M_total = 160 GB")


def test_unknown_model_suggests_the_closest(main):
    stderr = failed(main("derive", "total_vram", "--model", "llama-3.1-70"), 2)
    assert stderr.startswith(
        "llmphys derive: error: unknown model 'llama-3.1-70'; did you mean 'llama-3.1-70b'?"
    )


def test_unknown_hardware_suggests_the_closest(main):
    stderr = failed(main("derive", "prefill_time", "--hardware", "a100"), 2)
    assert stderr.startswith("llmphys derive: error: unknown accelerator 'a100'; did you mean")


def test_precision_is_compute_and_defaults_to_the_apps_accelerator(main):
    # a deployment option without --hardware takes the same default accelerator as the app
    data = ok_json(main("derive", "effective_flops", "--precision", "fp8", "--json"))
    import llmphys as F

    fp8 = F.assumption_sets["typical"].at("fp8")[0]["utilization"]  # typical's at FP8
    assert data["result"]["value"] == pytest.approx(fp8 * 1979e12)  # H100 SXM's FP8 peak
    sources = {v["name"]: v["source"] for v in data["values"]}
    assert sources["peak_flops"].startswith("hardware NVIDIA H100 SXM5") and sources[
        "peak_flops"
    ].endswith("dense fp8")
    assert failed(main("derive", "prefill_time", "--precision", "fp8", "--compute", "bf16"), 2) == (
        "llmphys derive: error: --precision is --compute; give one of them\n"
    )


def test_solve_refuses_a_value_for_the_unknown(main):
    assert failed(
        main(
            "solve", "kv_cache_bytes", "--for", "seq_len", "--target", "1 GB", "--set", "seq_len=1"
        ),
        2,
    ) == ("llmphys solve: error: --set gives seq_len, the symbol to solve for; drop it\n")


# ------------------------------------------------------------------------------ usage
def test_no_command_is_a_usage_error(main):
    assert "the following arguments are required: COMMAND" in failed(main(), 2)


def test_unknown_command_is_a_usage_error(main):
    assert "invalid choice: 'frobnicate'" in failed(main("frobnicate"), 2)


def test_help(main):
    text = ok(main("--help"))
    for command in ["list", "show", "derive", "solve", "check", "models", "hardware"]:
        assert command in text
    assert "Exit status: 0 success, 1 unit error or infeasible question, 2 bad usage" in " ".join(
        text.split()
    )


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("llmphys")
    assert script.exists(), "pip install -e . registers the llmphys console script"
    out = subprocess.run(
        [str(script), "check", "weight_bytes"], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "ok: weight_bytes is in B, dimension [information]\n"


def test_import_llmphys_does_not_load_the_cli_or_the_parser():
    code = (
        "import sys, llmphys\n"
        "lazy = ('llmphys.cli', 'llmphys.check', 'llmphys.user', 'llmphys.engine.parse')\n"
        "print([m for m in lazy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_check_unknown_name_json_lists_suggestions(main):
    out = main("check", "weight_byte * 2", "--json")
    failed(out, 2)
    error = json.loads(out.stdout)["error"]
    assert error["type"] == "UnknownNameError" and error["suggestions"] == ["weight_bytes"]


# ------------------------------------------------------------------------------ app
def test_app_serves_the_packaged_notebook_with_voila_on_loopback(main, monkeypatch):
    import llmphys.app
    import llmphys.app.server

    ran = []
    monkeypatch.setattr(llmphys.app.server, "serve", lambda *a, **k: ran.append((a, k)) or 0)
    out = ok(main("app", "--port", "9123", "--no-browser", "--cull-idle", "30"))
    assert ran == [((9123,), {"open_browser": False, "cull_idle": 30.0})]
    assert out.splitlines()[0] == (
        "llmphys app: serving on http://127.0.0.1:9123/ (Ctrl-C stops it)"
    )
    ok(main("app"))
    assert ran[1] == ((8866,), {"open_browser": True, "cull_idle": 300.0})  # the defaults
    notebook = llmphys.app.notebook_path()
    assert notebook.is_file()
    assert llmphys.app.server.voila_arguments(9123, open_browser=False) == [
        str(notebook),
        "--Voila.ip=127.0.0.1",
        "--port=9123",
        "--Voila.port_retries=0",
        "--show_tracebacks=False",
        "--template=llmphys",
        "--no-browser",
    ]


def test_app_says_a_busy_port_is_taken_before_printing_a_url(main, monkeypatch):
    import socket

    import llmphys.app.server

    monkeypatch.setattr(llmphys.app.server, "serve", lambda *a, **k: 0)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        out = main("app", "--port", str(port), "--no-browser")
        message = failed(out, 2)
    assert f"port {port} on 127.0.0.1 is taken" in message and "e.g. --port " in message
    assert "serving on" not in out.stdout  # no URL that would not answer
    free = int(message.rsplit("--port ", 1)[1].split()[0])
    assert llmphys.app.server.port_free(free)


def test_app_usage_errors(main, monkeypatch):
    import importlib.util

    assert "must be between 1 and 65535; got 0" in failed(main("app", "--port", "0"), 2)
    for bad in ("-1", "nan", "inf"):
        assert "--cull-idle must be 0 (never) or a number of seconds" in failed(
            main("app", "--cull-idle", bad), 2
        )
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "voila" else real(name, *a)
    )
    assert failed(main("app"), 2) == (
        'llmphys app: error: the app needs Voilà: pip install "llmphys[app]"\n'
    )


# ------------------------------------------------------------------ deployments (Scenario)
def test_derive_ttft_of_a_deployment_prints_a_number_with_provenance(main):
    text = ok(
        main(
            "derive",
            "ttft",
            "--model",
            "llama-3.1-70b",
            "--hardware",
            "h100-sxm",
            "--set",
            "prompt_len=10000",
            "--set",
            "utilization=0.6",
        )
    )
    assert re.search(r"\n  t_TTFT = [0-9.]+ s\n?$", text.rstrip() + "\n")
    assert "[model Llama-3.1-70B (config.json)]" in text
    assert "[assumptions typical (" in text and "[workload]" in text
    assert re.search(r"\n  η_F += 0.6 .*\[user\]\n", text)  # the --set value
    import llmphys as F

    s = F.Scenario("llama-3.1-70b", "h100-sxm", prompt_len=10000, utilization=0.6)
    shown = float(text.rstrip().rsplit("= ", 1)[1].split()[0])
    assert shown == pytest.approx(s.evaluate("ttft").to("s").magnitude, rel=5e-3)


def test_solve_ttft_for_the_prompt_of_a_deployment(main):
    data = ok_json(
        main(
            "solve",
            "ttft",
            "--for",
            "prompt_len",
            "--target",
            "2s",
            "--model",
            "llama-3.1-70b",
            "--hardware",
            "h100-sxm",
            "--json",
        )
    )
    assert data["direction"] == "largest" and 1000 < data["value"]["value"] < 100_000


def test_assume_seed_reproduces_the_seed_ttft(main):
    # seed, Total Prefill FLOPs: 1.66e15 FLOP at 200 TFLOPS = 8.3 s; TTFT adds 80 ms
    text = ok(
        main(
            "derive",
            "ttft",
            "--model",
            "llama-3.1-70b",
            "--hardware",
            "a100-80gb",
            "--assume",
            "seed",
            "--set",
            "prompt_len=10000",
            "--set",
            "active_params=70e9",
            "--set",
            "effective_flops=200 TFLOPS",
        )
    )
    assert text.rstrip().endswith("t_TTFT = 8.39 s")


def test_token_counts_read_k_as_1024_and_say_so(main):
    text = ok(main("derive", "kv_cache_bytes", "--model", "llama-3.1-70b",
                   "--set", "seq_len=32k", "--set", "batch=1"))  # fmt: skip
    assert text.startswith("read seq_len=32k as 32,768 tok\n")
    assert text.rstrip().endswith("M_KV = 10.7 GB")  # 32,768 x 327,680 B = 10 GiB


def test_a_set_the_figure_does_not_use_is_refused(main):
    stderr = failed(main("derive", "ttft", "--model", "llama-3.1-8b", "--set", "seq_len=8000"), 2)
    assert stderr.startswith(
        "llmphys derive: error: --set seq_len: ttft does not use seq_len in this deployment"
    )


def test_scenario_command_summarises_a_deployment(main):
    text = ok(main("scenario", "--model", "llama-3.1-70b", "--weights", "fp8", "--tp", "4",
                   "--batch", "32", "--inputs"))  # fmt: skip
    assert text.startswith("Llama-3.1-70B on 4 x NVIDIA H100 SXM5 (n_TP=4, n_PP=1, n_EP=1)")
    assert "decode tokens/s per GPU" in text and "fits: one GPU holds 85.52 GB" in text
    assert "link_bandwidth" in text and "interconnect NVLink 4" in text
    data = ok_json(main("scenario", "--model", "mixtral-8x7b", "--json"))
    assert data["figures"]["ttft"]["value"]["unit"] in ("ms", "s")
