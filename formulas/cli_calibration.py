"""The command line's calibration: ``llmphys validate`` prints every published measurement
beside the expected value (the ``typical`` assumption set, fitted to them) and the roofline
bound (``ideal``), then the error of the fit held out by source."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from llmphys.cli_listing import print_json
from llmphys.units import Q_

__all__ = ["add_calibration_commands", "cmd_validate"]

EXIT_OK = 0


def cmd_validate(args: argparse.Namespace) -> int:
    """published measurements beside the expected value (typical, fitted to them) and the roofline
    bound (ideal), and the fit's error held out by source"""
    from llmphys import calibration, validation

    rows = validation.validation_table()
    folds = calibration.cross_validate()
    summary = calibration.error_summary(folds)
    if args.json:
        print_json(
            {
                "parameters": calibration.fit(),
                "held_out_error": summary,
                "measurements": [
                    {
                        "id": r.measurement.id,
                        "source": r.measurement.source,
                        "metric": r.measurement.metric,
                        "measured": r.measurement.measured,
                        "expected": r.expected,
                        "bound": r.predicted,
                        "held_out": Q_(f.predicted, r.measurement.measured.units),
                        "held_out_error": f.error,
                        "implied_utilization": r.implied_utilization,
                    }
                    for r, f in zip(rows, folds, strict=True)
                ],
            }
        )
        return EXIT_OK
    if args.held_out:
        print(calibration.format_held_out(folds))
    else:
        print(validation.format_table(rows))
        print(
            "\nexpected: the typical assumption set, fitted on every row (this one included); "
            "bound: ideal, the GPUs as one.\nFor each row predicted by a fit that did not see "
            "its publisher: llmphys validate --held-out"
        )
    print()
    print("Held out by publisher (a fit on the other publishers' rows predicts each one):")
    print(calibration.format_summary(summary))
    return EXIT_OK


def add_calibration_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``validate`` with the command's ``add``."""
    p = add(cmd_validate)
    p.add_argument(
        "--held-out",
        action="store_true",
        help="each measurement beside the prediction of a fit that did not see its source",
    )
