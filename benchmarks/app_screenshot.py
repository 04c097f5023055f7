"""The README's picture of the sizing app: ``docs/_static/app.png``, made from the served app.

Run from the repository root (about half a minute; needs Debian's chromium and the ``app``
extra)::

    .venv/bin/python benchmarks/app_screenshot.py

It starts ``llmphys app`` on a free loopback port, opens it in headless chromium at a
1400 x 1100 viewport (:mod:`app_session`), sets the tensor-parallel degree to 2 (Llama 3.1
70B in BF16 then fits: two H100s), opens the derivation of the KV cache, waits until the
figures and the derivation have settled (:meth:`app_session.App.settle`), and saves the
viewport (the top of the page: inputs, memory, limits, speed) as a PNG reduced to a 256-colour
palette (``--colours``): about half the size of the full-colour image, the text as sharp.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from app_session import App, opened, served  # noqa: E402

OUTPUT = HERE.parent / "docs" / "_static" / "app.png"


def set_up(app: App, tp: int, derivation: str | None) -> None:
    """The state shown: ``tp`` GPUs, the ``derivation`` of one figure open; each settled."""
    page = app.page
    if tp != 1:
        app.arm("keydown", "Enter")
        box = page.locator(".llmphys-tp-box input, .llmphys-tp input")
        if box.count() == 0:  # no box beside the slider: its own number
            box = page.locator(".llmphys-tp .widget-readout")
        box.first.fill(str(tp))
        box.first.press("Enter")
        app.settle()
    if derivation:
        key = derivation.replace("_", "-")
        app.arm("click", within=f".llmphys-derivation-{key}")
        page.click(f".llmphys-derive-{key}")
        app.settle(until=f".llmphys-derivation-{key} mjx-container")
    page.mouse.move(0, 0)  # no hover highlight
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def shrink(png: bytes, colours: int) -> bytes:
    """``png`` reduced to a palette of ``colours`` (Pillow, which matplotlib brings)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default {OUTPUT}")
    parser.add_argument("--width", type=int, default=1400, help="viewport width, px")
    parser.add_argument("--height", type=int, default=1100, help="viewport height, px")
    parser.add_argument("--tp", type=int, default=2, help="tensor-parallel degree shown")
    parser.add_argument(
        "--derivation", default="kv_cache_bytes", help="figure whose derivation is open ('')"
    )
    parser.add_argument("--colours", type=int, default=256, help="palette size (0: full colour)")
    args = parser.parse_args(argv)

    with served() as url, opened(url, args.width, args.height) as app:
        set_up(app, args.tp, args.derivation)
        png = app.page.screenshot()  # the viewport: the top of the page
    if args.colours:
        png = shrink(png, args.colours)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(png)
    print(f"wrote {args.output} ({len(png) / 1024:.0f} KB, {args.width} x {args.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
