"""How long the sizing app takes to show new figures after each kind of input change.

Run from the repository root (about six minutes on 2 cores; needs Debian's chromium and the
``app`` extra)::

    .venv/bin/python benchmarks/app_latency.py         # prints the table
    .venv/bin/python benchmarks/app_latency.py --json benchmarks/results-app.json  # and each change

It starts ``llmphys app`` on a free loopback port, opens it in headless chromium (Playwright,
the system browser, loopback only: :mod:`app_session`) and changes one input at a time, each
kind ``--repeat`` times (default 20), alternating between two values so that every change
really changes the figures:

* **prompt, typed**: 8,192 / 4,096 typed into the prompt slider's number box, then Enter;
* **batch, slider key**: the right / left arrow key on the batch slider's handle (a log
  slider: the kernel turns the browser's step into a whole number and sends it back);
* **tensor parallel, slider key**: the arrow keys on the tensor-parallel slider (1 / 2);
* **weights, dropdown**: fp8 / bf16;
* **accelerator, dropdown**: A100 80GB / H100 SXM;
* **assumption set, dropdown**: ideal / typical;
* **solve-for target, typed**: "5 s" / "2 s" for "time to first token", then Enter;
* **derivation, opened**: a "show derivation" toggle clicked, in turn on four figures (each
  closed again, unmeasured, before the next);
* **model, first**: each preset model picked for the first time in the session (its formulas
  compiled in the kernel then), once each;
* **model, warm**: Mixtral 8x7B / Llama 3.1 70B again, both compiled already.

**Settled**, the definition measured: the figures reflect the change.  In the page, a
capture-phase listener on ``window`` stamps ``performance.now()`` when the triggering event
(the Enter key, the arrow key, the select's ``change``, the click) is dispatched, before any
widget's handler runs; a MutationObserver stamps every mutation that touches a figure's hook
(an element with ``data-value``: the figures, the inputs in use, the solve's answer; for a
derivation, anything inside its ``llmphys-derivation-<key>`` box, which must also hold a
MathJax ``mjx-container``).  The change has settled when no such mutation has come for the
quiet window (``--quiet``, 300 ms), then for a guard (``--guard``, 700 ms) after it, and the
kernel has reported busy and then idle again since the change (its status messages, read from
the page's websocket: a kernel that handles a change sends every figure before it is idle).
The latency reported is the **last mutation's** stamp minus the trigger's, not the end of the
window.  A change whose mutations paused longer than the quiet window (a model's first
compile, between two figures) is counted as ``late``; one where the page was quiet for the
whole window while the kernel was still busy, as ``kernel busy``: a plain quiet window would
have stopped both too early.  A change after which no figure's value differs from before is
counted as ``unchanged``; the ``first`` column is each kind's first change (a
tensor-parallel degree above 1 compiles the layout's formulas then).

Targets (issue 21): p95 under 150 ms for an ordinary input, under 400 ms for a derivation;
a model's first pick (compiling its formulas) is reported without a target.  A benchmark, not
a test: it exits 0 whatever it measures.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from app_session import App, opened, served  # noqa: E402
from run import machine  # noqa: E402

import llmphys as F  # noqa: E402

ORDINARY = 150.0  # ms, p95
DERIVATION = 400.0  # ms, p95
START_MODEL = "llama-3.1-70b"
DERIVED = ("total_vram", "ttft", "tokens_per_second_per_user", "cost_per_million_tokens")


@dataclass(frozen=True)
class Step:
    """One change: ``act`` dispatches the ``trigger`` event (``key``: of that key) that starts
    the clock; ``what`` names the value, for the JSON file."""

    act: Callable[[], None]
    trigger: str
    key: str | None
    what: str


class Bench:
    """One page and the measurements taken on it."""

    def __init__(self, app: App, quiet: float, guard: float) -> None:
        self.app = app
        self.page = app.page
        self.quiet = quiet
        self.guard = guard
        self.rows: list[dict[str, Any]] = []

    def measure(
        self,
        kind: str,
        target: float | None,
        step: Step,
        *,
        within: str | None = None,
        until: str = "",
    ) -> dict[str, Any]:
        """``step`` timed to the settled figures (or to the settled ``within`` box)."""
        before = self.app.values()
        self.app.arm(step.trigger, step.key, within=within)
        step.act()
        got = self.app.settle(self.quiet, self.guard, until=until)
        got["changed"] = within is not None or self.app.values() != before
        row = {"kind": kind, "what": step.what, "target": target, **got}
        self.rows.append(row)
        return row

    def kind(self, name: str, target: float | None, steps: list[Step], after: Step | None) -> None:
        """Measure each step; then ``after`` (unmeasured) puts the input back."""
        for step in steps:
            self.measure(name, target, step)
        if after is not None:
            after.act()
            self.page.wait_for_timeout(self.quiet + self.guard)

    # ----------------------------------------------------------------- the inputs
    def typed(self, hook: str, text: str) -> Step:
        """``text`` typed into a text box, or the box beside a slider (``<hook>-box``, else
        the slider's own number), then Enter."""

        def act() -> None:
            field = self.page.locator(f".{hook} input, .{hook}-box input")
            if field.count() == 0:
                field = self.page.locator(f".{hook} .widget-readout")
            field.fill(text)
            field.press("Enter")

        return Step(act, "keydown", "Enter", text)

    def key(self, hook: str, key: str) -> Step:
        """A key pressed on a slider's handle."""
        handle = self.page.locator(f".{hook} .noUi-handle")
        return Step(lambda: handle.press(key), "keydown", key, key)

    def picked(self, hook: str, label: str) -> Step:
        """An option picked in a dropdown."""
        select = self.page.locator(f".{hook} select")
        return Step(lambda: select.select_option(label=label), "change", None, label)

    def shown(self, hook: str) -> str:
        """The option a dropdown shows."""
        return self.page.eval_on_selector(f".{hook} select", "s => s.value")


def alternate(n: int, first: Any, second: Any) -> list[Any]:
    """``first, second, first, ...``: ``n`` values."""
    return [first if i % 2 == 0 else second for i in range(n)]


def run(url: str, repeat: int, quiet: float, guard: float, log: Callable[[str], None]) -> Any:
    """Every kind of change on one page, in the module docstring's order; the rows."""
    with opened(url) as app:
        page = app.page
        b = Bench(app, quiet, guard)
        two = functools.partial(alternate, repeat)
        a100, h100 = (F.hardware[n].display_name for n in ("a100-80gb", "h100-sxm"))
        fp8, bf16 = "fp8 (1 B/param)", "bf16 (2 B/param)"
        sets = page.eval_on_selector_all(
            ".llmphys-assumptions option", "os => os.map(o => o.value)"
        )
        ideal, typical = (
            next(o for o in sets if o.startswith(f"{n}:")) for n in ("ideal", "typical")
        )
        weights = b.shown("llmphys-bytes-per-param")

        def unfold_assumptions() -> None:  # the set's dropdown sits in a folded box
            page.locator(".jupyter-widget-Collapse-header", has_text="assumptions:").click()

        def ask_for_ttft() -> None:  # a question picked, its default target back: then type
            b.picked("llmphys-solve-question", "time to first token").act()
            page.wait_for_function(
                "() => document.querySelector('.llmphys-solve-target input').value === '2 s'"
            )
            page.wait_for_timeout(quiet + guard)

        # name, target, the changes, what puts the input back (unmeasured), what comes first
        kinds: list[tuple[str, float | None, list[Step], Step, Callable[[], None] | None]] = [
            ("prompt, typed", ORDINARY,
             [b.typed("llmphys-prompt-len", t) for t in two("8192", "4096")],
             b.typed("llmphys-prompt-len", "4096"), None),
            ("batch, slider key", ORDINARY,
             [b.key("llmphys-batch", k) for k in two("ArrowRight", "ArrowLeft")],
             b.typed("llmphys-batch", "1"), None),
            ("tensor parallel, slider key", ORDINARY,
             [b.key("llmphys-tp", k) for k in two("ArrowRight", "ArrowLeft")],
             b.typed("llmphys-tp", "1"), None),
            ("weights, dropdown", ORDINARY,
             [b.picked("llmphys-bytes-per-param", w) for w in two(fp8, bf16)],
             b.picked("llmphys-bytes-per-param", weights), None),
            ("accelerator, dropdown", ORDINARY,
             [b.picked("llmphys-hardware", a) for a in two(a100, h100)],
             b.picked("llmphys-hardware", h100), None),
            ("assumption set, dropdown", ORDINARY,
             [b.picked("llmphys-assumptions", s) for s in two(ideal, typical)],
             b.picked("llmphys-assumptions", typical), unfold_assumptions),
            ("solve-for target, typed", ORDINARY,
             [b.typed("llmphys-solve-target", t) for t in two("5 s", "2 s")],
             b.picked("llmphys-solve-question", "pick a figure…"), ask_for_ttft),
        ]  # fmt: skip
        for name, target, steps, after, before in kinds:
            clock = time.monotonic()
            if before is not None:
                before()
            b.kind(name, target, steps, after)
            log(f"  {name}: {len(steps)} in {time.monotonic() - clock:.0f} s")

        clock = time.monotonic()
        for i in range(repeat):
            figure = DERIVED[i % len(DERIVED)]
            toggle = page.locator(f".llmphys-derive-{figure.replace('_', '-')}")
            box = f".llmphys-derivation-{figure.replace('_', '-')}"
            step = Step(toggle.click, "click", None, figure)
            b.measure(
                "derivation, opened", DERIVATION, step, within=box, until=f"{box} mjx-container"
            )
            toggle.click()  # closed again, unmeasured
            page.wait_for_function(
                "box => document.querySelector(box).textContent.trim() === ''", arg=box
            )
        log(f"  derivation, opened: {repeat} in {time.monotonic() - clock:.0f} s")

        # each preset for the first time, then two of them again
        names = [m for m in F.models if m != START_MODEL][:repeat]
        first = [b.picked("llmphys-model", F.models[m].display_name) for m in names]
        mixtral, llama = (F.models[m].display_name for m in ("mixtral-8x7b", START_MODEL))
        warm = [b.picked("llmphys-model", m) for m in two(mixtral, llama)]
        for name, target, steps in (("model, first", None, first), ("model, warm", ORDINARY, warm)):
            clock = time.monotonic()
            b.kind(name, target, steps, None)
            log(f"  {name}: {len(steps)} in {time.monotonic() - clock:.0f} s")
        return b.rows


# ------------------------------------------------------------------------- the report
def percentile(xs: list[float], p: float) -> float:
    """The ``p``-th percentile, interpolated between the closest ranks (numpy's default)."""
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    at = (len(xs) - 1) * p / 100
    low = int(at)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (xs[high] - xs[low]) * (at - low)


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        ms = [r["ms"] for r in mine if r["ms"] is not None and not r["timed_out"]]
        target = mine[0]["target"]
        p95 = percentile(ms, 95) if ms else None
        out.append(
            {
                "kind": kind,
                "n": len(ms),
                "first_ms": mine[0]["ms"],
                "p50_ms": percentile(ms, 50) if ms else None,
                "p95_ms": p95,
                "max_ms": max(ms) if ms else None,
                "target_p95_ms": target,
                "within_target": None if target is None or p95 is None else p95 < target,
                "timed_out": sum(r["timed_out"] for r in mine),
                "late": sum(r["late"] > 0 for r in mine),
                "kernel_busy": sum(r["kernel_busy"] for r in mine),
                "unchanged": sum(not r["changed"] for r in mine),
            }
        )
    return out


def table(summary: list[dict[str, Any]]) -> str:
    def ms(x: float | None) -> str:
        return "-" if x is None else f"{x:,.0f}"

    head = ("n", "first ms", "p50 ms", "p95 ms", "max ms", "target")
    lines = [f"{'kind':<29}" + "".join(f"{h:>9}" for h in head) + "  within  notes"]
    for s in summary:
        target = "-" if s["target_p95_ms"] is None else f"< {s['target_p95_ms']:.0f}"
        within = {None: "-", True: "yes", False: "no"}[s["within_target"]]
        notes = ", ".join(
            f"{s[k]} {k.replace('_', ' ')}"
            for k in ("timed_out", "late", "kernel_busy", "unchanged")
            if s[k]
        )
        cells = [str(s["n"]), *(ms(s[k]) for k in ("first_ms", "p50_ms", "p95_ms", "max_ms"))]
        lines.append(
            f"{s['kind']:<29}"
            + "".join(f"{c:>9}" for c in [*cells, target])
            + f"  {within:<6}  {notes}".rstrip()
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="changes of each kind")
    parser.add_argument("--quiet", type=float, default=300.0, help="quiet window, ms")
    parser.add_argument("--guard", type=float, default=700.0, help="guard after it, ms")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    info = machine(("llmphys", "voila", "ipywidgets", "playwright"))
    started = time.monotonic()
    log("starting llmphys app and chromium ...")
    with served() as url:
        rows = run(url, args.repeat, args.quiet, args.guard, log)
    info["load_average_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    summary = summarise(rows)
    print(
        f"sizing app, time from an input change to settled figures (quiet window "
        f"{args.quiet:.0f} ms + guard {args.guard:.0f} ms; {time.monotonic() - started:.0f} s "
        f"in all; load average {info['load_average'][0]:.2f} before)"
    )
    print(table(summary))
    if args.json:
        results = {
            "machine": info,
            "settings": vars(args) | {"json": str(args.json)},
            "summary": summary,
            "changes": rows,
        }
        args.json.write_text(json.dumps(results, indent=1) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
