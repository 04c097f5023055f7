"""The sizing app served and opened in a browser, for the app's benchmark and its screenshot.

:func:`served` runs ``python -m llmphys app`` on a free loopback port (in its own process
group, stopped whatever happens: the ``start_app`` the browser tests use, from
``tests/support.py``); :func:`opened` loads it in Debian's headless chromium under Playwright
(never a downloaded browser), every request that does not go to the loopback server aborted,
waits for the figures and gives an :class:`App`: the page, a clock in it (:data:`OBSERVER`)
and the kernel's busy/idle status read from the page's websocket, which together say when the
figures have settled after a change (:meth:`App.settle`).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import CHROMIUM_ARGS, AppStartError, find_chromium, loopback_only, serving

SERVER_START = 90  # seconds for Voilà to listen
APP_READY = 120_000  # ms for the kernel to run the notebook and the widgets to render
FIGURES = "[data-value]:not(option)"  # the figures' hooks (a dropdown's options carry one too)


def chromium() -> str:
    """Debian's chromium, or an exit saying how to get it."""
    found = find_chromium()
    if found is None:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium")
    return found


@contextlib.contextmanager
def served() -> Iterator[str]:
    """``llmphys app`` on a free loopback port, in a temporary folder; its URL."""
    with tempfile.TemporaryDirectory(prefix="llmphys-app-") as tmp:
        try:
            with serving(Path(tmp), SERVER_START) as url:
                yield url
        except AppStartError as exc:
            raise SystemExit(str(exc)) from exc


class Kernel:
    """The kernel's status as the page's websocket reports it (``busy`` while it handles a
    message from the page, such as a widget's change, then ``idle``)."""

    def __init__(self) -> None:
        self.states: list[str] = []

    def listen(self, socket: Any) -> None:
        socket.on("framereceived", self._frame)

    def _frame(self, payload: bytes | str) -> None:
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        for state in ("busy", "idle"):
            if f'{{"execution_state": "{state}"}}' in text:
                self.states.append(state)

    @property
    def idle(self) -> bool:
        return not self.states or self.states[-1] == "idle"


@dataclass
class App:
    """The page (Playwright) and its kernel's status."""

    page: Any
    kernel: Kernel
    _seen: int = 0  # the kernel's status messages before the change watched

    def arm(self, type: str, key: str | None = None, *, within: str | None = None) -> None:
        """Start watching: the next ``type`` event (``key``: that key only) starts the clock;
        ``within``: watch that box, not the figures."""
        self._seen = len(self.kernel.states)
        self.page.evaluate(
            "w => window.llmphysClock.arm(w)",
            {"type": type, "key": key, "selector": FIGURES, "within": within},
        )

    def settle(
        self, quiet: float = 300, guard: float = 700, timeout: float = 60_000, until: str = ""
    ) -> dict[str, Any]:
        """Wait until the change armed by :meth:`arm` has settled.

        Settled: no watched mutation for ``quiet`` ms, then still none for ``guard`` ms more
        (a mutation in the guard moves the settled time on and counts as ``late``), ``until``
        present when given, and the kernel idle again (it reported busy then idle since the
        arming; if it is still busy, wait for it and then for quiet again: ``kernel_busy``).
        Returns ``ms``, the last watched mutation minus the trigger's stamp (both
        ``performance.now()`` in the page: the end of the quiet window is not counted),
        ``count`` (watched mutations), ``late``, ``kernel_busy`` and ``timed_out``."""
        wait = "([q, g, t, u]) => window.llmphysClock.wait(q, g, t, u)"
        deadline = time.monotonic() + timeout / 1000
        got = self.page.evaluate(wait, [quiet, guard, timeout, until])
        busy = False
        while not got["timedOut"] and not self._answered() and time.monotonic() < deadline:
            busy = True
            self.page.wait_for_timeout(20)
            if self._answered():
                got = self.page.evaluate(wait, [quiet, guard, timeout, until])
        self.page.evaluate("() => window.llmphysClock.disarm()")
        ok = got["start"] is not None and got["last"] is not None
        return {
            "ms": got["last"] - got["start"] if ok else None,
            "count": got["count"],
            "late": got["late"],
            "kernel_busy": busy,
            "timed_out": got["timedOut"] or not self._answered(),
        }

    def _answered(self) -> bool:
        """The kernel went busy and is idle again since :meth:`arm`."""
        return "busy" in self.kernel.states[self._seen :] and self.kernel.idle

    def values(self) -> dict[str, str]:
        """Every ``data-value`` hook of the page (see :data:`VALUES`)."""
        return self.page.evaluate(VALUES)


@contextlib.contextmanager
def opened(url: str, width: int = 1400, height: int = 1000) -> Iterator[App]:
    """The app at ``url`` in headless chromium at a ``width`` x ``height`` viewport, its
    figures shown and :data:`OBSERVER` installed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            loopback_only(context, url)
            page = context.new_page()
            kernel = Kernel()
            page.on("websocket", kernel.listen)
            page.set_default_timeout(60_000)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector(f".llmphys-total-vram{FIGURES}", timeout=APP_READY)
            page.evaluate(OBSERVER)
            yield App(page, kernel)
        finally:
            browser.close()


#: Installs ``window.llmphysClock`` in the page: a MutationObserver over the whole document
#: and capture-phase listeners on ``window`` (they run before any widget's own handler).
#: ``arm(watch)`` clears the clock; the next trigger event (``watch.type``, and ``watch.key``
#: for a key) stamps ``start`` with ``performance.now()``; from then on every mutation that
#: touches the watched nodes (added, removed or changed nodes matching or holding
#: ``watch.selector``, or any mutation inside an element matching ``watch.within``) stamps
#: ``last``.  ``wait(quiet, guard, timeout, until)`` resolves once nothing watched has changed
#: for ``quiet + guard`` ms after the last mutation (and ``until``, a selector, is present).
OBSERVER = """() => {
  if (window.llmphysClock) return;
  const clock = window.llmphysClock =
      {watch: null, start: null, last: null, count: 0, late: 0, quiet: 300};
  const holds = (node, selector) => node.nodeType === 1 &&
      (node.matches(selector) || node.querySelector(selector) !== null);
  const counts = (m) => {
    const w = clock.watch;
    const element = m.target.nodeType === 1 ? m.target : m.target.parentElement;
    if (element === null) return false;
    if (w.within) return element.closest(w.within) !== null;
    if (m.type === 'childList')
      return [...m.addedNodes, ...m.removedNodes].some(n => holds(n, w.selector)) ||
          element.closest(w.selector) !== null;
    return element.closest(w.selector) !== null;
  };
  new MutationObserver(records => {
    if (clock.watch === null || clock.start === null) return;
    if (!records.some(counts)) return;
    const now = performance.now();
    // a gap longer than the quiet window: that window alone would have stopped too early
    if (clock.last !== null && now - clock.last >= clock.quiet) clock.late += 1;
    clock.last = now;
    clock.count += 1;
  }).observe(document.documentElement,
             {subtree: true, childList: true, attributes: true, characterData: true});
  const trigger = (e) => {
    const w = clock.watch;
    if (w === null || clock.start !== null || e.type !== w.type) return;
    if (w.key && e.key !== w.key) return;
    clock.start = performance.now();
  };
  for (const type of ['keydown', 'change', 'input', 'click'])
    window.addEventListener(type, trigger, true);
  clock.arm = (watch) => {
    Object.assign(clock, {watch, start: null, last: null, count: 0, late: 0});
  };
  clock.disarm = () => { clock.watch = null; };
  clock.wait = (quiet, guard, timeout, until) => new Promise(resolve => {
    clock.quiet = quiet;
    const armed = performance.now();
    const poll = () => {
      const now = performance.now();
      const ready = !until || document.querySelector(until) !== null;
      const done = clock.last !== null && ready && now - clock.last >= quiet + guard;
      if (done || now - armed > timeout) {
        resolve({start: clock.start, last: clock.last, count: clock.count, late: clock.late,
                 timedOut: !done});
      } else setTimeout(poll, 10);
    };
    poll();
  });
}"""

#: ``{hook: data-value}`` of every element with a ``data-value`` (its first class, and its
#: ``data-name`` for an input in use)
VALUES = """() => Object.fromEntries([...document.querySelectorAll('[data-value]:not(option)')].map(
    e => [e.classList[0] + (e.dataset.name ? ':' + e.dataset.name : ''), e.dataset.value]))"""
