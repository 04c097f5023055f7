"""Notebook 00 in JupyterLab, driven by Debian's chromium (issue 22: answers stay folded after
Run All; a key press moves a log slider a little).

Marked ``browser``, and launched exactly as :mod:`test_app_browser` launches chromium: the
system chromium through Playwright (``executable_path``), headless, every request that does
not go to the loopback server aborted.  Without chromium these FAIL, saying so; without
JupyterLab (``pip install -e ".[jupyter]"``) they are skipped, saying so.

The server is ``python -m jupyterlab`` on a free loopback port with a token, serving a
temporary folder holding a copy of ``notebooks/00_start_here.ipynb``, with JupyterLab's
settings, workspaces, runtime and config folders of its own (no news fetched from the web, no
state of the user's read or written).  It runs in its own process group and is always shut
down: through its API (which shuts its kernels down), then by signals, and a kernel left
behind (kernels run in sessions of their own) is killed by its id.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmphys.app.server import free_port

from support import loopback_only, start_server, stop_app

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "00_start_here.ipynb"
SERVER_START = 60  # seconds for JupyterLab to answer
LOAD = 60_000  # ms for the page to load and the kernel to start
RUN_ALL = 90_000  # ms for Run All (about 4 s of work)
UPDATE = 20_000  # ms for a widget change to come back from the kernel

#: JupyterLab's settings for the test: no news or update check from the web
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


# ----------------------------------------------------------------------------- the server
def _api(url: str, token: str, method: str = "GET") -> Any:
    request = urllib.request.Request(
        url, method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _wait_for_one_kernel(page: Any, base: str, token: str) -> None:
    """Wait until the server runs one kernel, idle, with the page connected to it.  (Waiting
    through the page: the page's requests pass through this process's route handler, which
    runs only while Playwright is called.)"""
    deadline = time.monotonic() + LOAD / 1000
    while True:
        kernels = _api(f"{base}api/kernels", token)
        if (
            len(kernels) == 1
            and kernels[0]["execution_state"] == "idle"
            and kernels[0]["connections"] >= 1
        ):
            page.wait_for_timeout(1000)  # a second kernel would have started by now
            if len(_api(f"{base}api/kernels", token)) == 1:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the notebook's kernel is not ready: {kernels}")
        page.wait_for_timeout(300)


def _kernel_pids(folder: Path) -> list[int]:
    """Processes whose command line names this test's folder (its kernels: a kernel runs in a
    session of its own, outside the server's process group)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if str(folder).encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
    return pids


def _shut_down(process: subprocess.Popen, base: str, token: str, folder: Path) -> None:
    """Ask the server to shut down (it ends its kernels), then make sure of it."""
    if process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            _api(f"{base}api/shutdown", token, method="POST")
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    stop_app(process)  # SIGTERM, then SIGKILL, to the server's process group
    for pid in _kernel_pids(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """JupyterLab on a free loopback port, serving a copy of notebook 00: (URL, token)."""
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip(
            'JupyterLab is not installed (pip install -e ".[jupyter]"): notebook 00 in '
            "JupyterLab is not tested"
        )
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    for name, values in SETTINGS.items():
        path = folder / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    for sub in ("workspaces", "runtime", "config", "ipython"):
        (folder / sub).mkdir()
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "IPYTHONDIR": str(folder / "ipython"),
    }
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--ServerApp.terminals_enabled=False", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    log_path = folder / "server.log"
    process = start_server(command, folder, env)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited ({process.returncode}):\n{log_path.read_text()}")
            with contextlib.suppress(OSError, ValueError):
                _api(f"{base}api/status", token)
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer in {SERVER_START} s:\n{log_path.read_text()}"
                )
            time.sleep(0.3)
        yield base, token
    finally:
        _shut_down(process, base, token, folder)


@pytest.fixture(scope="module")
def notebook(
    lab: tuple[str, str], browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Notebook 00 open in JupyterLab after Run > Run All Cells, the kernel idle again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    base, token = lab
    folder = tmp_path_factory.mktemp("lab-page")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    loopback_only(context, base)
    page = context.new_page()
    page.set_default_timeout(UPDATE)
    try:
        page.goto(f"{base}lab/tree/{NOTEBOOK.name}?reset&token={token}")
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        idle.wait_for(timeout=LOAD)
        try:
            _wait_for_one_kernel(page, base, token)  # JupyterLab may start two and keep one
        except BaseException:
            page.screenshot(path=str(folder / "opened.png"))
            raise
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        started = time.monotonic()
        try:
            page.wait_for_function(_ALL_RAN, arg=_code_cells(), timeout=RUN_ALL)
        except PlaywrightTimeout:
            page.screenshot(path=str(folder / "run-all.png"), full_page=True)
            states = page.evaluate(_STATES, _code_cells())
            pytest.fail(f"Run All did not finish in {RUN_ALL / 1000:.0f} s: cells {states}")
        idle.wait_for(timeout=RUN_ALL)
        page.ran_in = time.monotonic() - started  # type: ignore[attr-defined]
        yield page
    finally:
        context.close()


def _cells() -> list[dict[str, Any]]:
    return json.loads(NOTEBOOK.read_text())["cells"]


def _code_cells() -> list[int]:
    return [i for i, c in enumerate(_cells()) if c["cell_type"] == "code"]


#: every code cell has run: an execution count in its prompt, or (its code folded) an output
_ALL_RAN = """indices => {
    const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');
    return indices.every(i => {
        const cell = cells[i];
        if (!cell) return false;
        const prompt = cell.querySelector('.jp-InputArea-prompt');
        if (prompt) return /^\\[\\d+\\]:$/.test(prompt.textContent.trim());
        return cell.querySelector('.jp-OutputArea-output') !== null;
    });
}"""


#: each code cell's prompt and whether it has an output (a report when Run All stalls)
_STATES = """indices => indices.map(i => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
    const prompt = cell && cell.querySelector('.jp-InputArea-prompt');
    return [i, prompt ? prompt.textContent : null,
            !!(cell && cell.querySelector('.jp-OutputArea-output'))];
})"""


def _cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


# ----------------------------------------------------------------------------- the tests
def test_run_all_shows_no_error_and_no_answer_until_it_is_opened(
    notebook: Any, tmp_path: Path
) -> None:
    page = notebook
    cells = _cells()
    assert page.locator(".jp-Notebook .jp-Cell").count() == len(cells)
    assert page.ran_in < 60, f"Run All took {page.ran_in:.0f} s"

    # no cell shows an error (a traceback, or anything on stderr)
    errors = page.locator(
        ".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    assert errors.count() == 0, errors.all_inner_texts()
    tracebacks = page.locator(".jp-Notebook .jp-OutputArea-output", has_text="Traceback")
    assert tracebacks.count() == 0, tracebacks.all_inner_texts()

    # every folded block on the page (the answers' outputs, the markdown hints) is closed
    folded = page.locator(".jp-Notebook details")
    assert folded.count() >= 6
    assert folded.evaluate_all("els => els.filter(e => e.open).length") == 0

    answers = [i for i, c in enumerate(cells) if "hide-cell" in c["metadata"].get("tags", [])]
    assert len(answers) == 3, answers  # the three problems
    for index in answers:
        output = _cell(page, index).locator(".jp-OutputArea")
        output.scroll_into_view_if_needed()
        details = output.locator("details.llmphys-answer")
        assert details.count() == 1, f"cell {index}: {output.inner_text()!r}"
        summary, text = details.locator("summary"), details.locator("pre")
        hidden = text.text_content().strip()  # in the page, not shown
        assert hidden and summary.is_visible() and not text.is_visible()
        # what the reader sees of the answer's output: its summary line, nothing else
        assert output.inner_text().strip() == summary.inner_text().strip() == "Show the answer"
        page.screenshot(path=str(tmp_path / f"cell-{index}-folded.png"))

        summary.click()  # the reader asks for it: now the answer shows
        text.wait_for(state="visible")
        assert details.evaluate("e => e.open")
        assert output.inner_text().strip() == f"Show the answer\n{hidden}"
        page.screenshot(path=str(tmp_path / f"cell-{index}-open.png"))


def _explore_row(page: Any, shown: str) -> tuple[Any, Any]:
    """The slider handle and the value box of the Explore panel's row showing ``shown``."""
    cell = _cell(page, _explore_cell())
    boxes = cell.locator(".widget-text input")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        if box.input_value() == shown:
            row = box.locator("xpath=ancestor::div[contains(@class, 'widget-hbox')][1]")
            return row.locator(".noUi-handle"), box
    raise AssertionError(f"no row of the Explore panel shows {shown!r}")


def _explore_cell() -> int:
    return next(
        i
        for i, c in enumerate(_cells())
        if c["cell_type"] == "code" and "explore(" in "".join(c["source"])
    )


def _expect(box: Any, value: str) -> None:
    from playwright.sync_api import expect

    expect(box).to_have_value(value, timeout=UPDATE)


def test_a_key_press_moves_a_log_slider_a_little(notebook: Any, tmp_path: Path) -> None:
    page = notebook
    _cell(page, _explore_cell()).scroll_into_view_if_needed()

    # the context: 10,000 tokens, 2.3 % per press (the browser's own step was a tenth of the
    # range: 10,000 -> 42,668 tokens)
    handle, box = _explore_row(page, "10000")
    handle.focus()
    for expected in ("10233", "10471"):
        handle.press("ArrowRight")
        _expect(box, expected)
    for expected in ("10233", "10000"):
        handle.press("ArrowLeft")
        _expect(box, expected)
    handle.press("PageUp")  # five steps
    _expect(box, "11220")

    # the layers, a whole number: at least one per press (the browser's step: 80 -> 136)
    handle, box = _explore_row(page, "80")
    handle.focus()
    handle.press("ArrowRight")
    _expect(box, "82")

    # keys held down (presses faster than the kernel answers): small steps still
    handle, box = _explore_row(page, "70B")
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    page.wait_for_timeout(500)
    shown = box.input_value()
    assert shown.endswith("B") and 70 < float(shown[:-1]) <= 70 * 1.0233**5 * 1.001, shown
    page.screenshot(path=str(tmp_path / "keys.png"))

    # a value typed in the box is read as typed, with its suffix, and not clamped (the
    # slider's range widens to hold it: its handle goes below the old minimum, 10 ** 8)
    box.fill("40.0")
    box.press("Enter")
    _expect(box, "40")  # as the kernel writes it back
    assert float(handle.get_attribute("aria-valuenow")) == pytest.approx(math.log10(40), abs=0.01)
    box.fill("40G")  # the SI prefix of a slider's readout
    box.press("Enter")
    _expect(box, "40B")
    page.wait_for_timeout(500)  # nothing comes back from the browser to change it
    assert box.input_value() == "40B"
    assert float(handle.get_attribute("aria-valuenow")) == pytest.approx(10.6, abs=0.01)
