"""Output-path policy of the commands: checked before any work, so nothing is lost.

Every writing command claims its outputs first:

* a file output (``convert``, ``preprocess --out/--plot``, ``evaluate --out``, ...) may
  not be a folder, and an existing file is refused unless ``--overwrite``;
* a bundle output (``finetune --out``, ``registry pull --dest``, ``baseline --save``) may
  replace an earlier bundle (atomically, keeping it until the new one is complete) but
  refuses any other existing folder, or a file, unless ``--overwrite``;
* a results folder (``baseline``/``benchmark --out``, ``explain --out``,
  ``evaluate --plots``) may replace a folder that holds only what the same command writes.

Two outputs of one command may not share a path, and the working folder is never an output.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

from spectrakit.core.atomic import check_output_dir, check_output_file, owned_by
from spectrakit.core.errors import ConfigError

__all__ = [
    "BASELINE_DIR",
    "BENCHMARK_DIR",
    "EXPLAIN_DIR",
    "PLOTS_DIR",
    "SHEET_DIR",
    "add_overwrite_option",
    "claim_dir",
    "claim_file",
    "distinct",
]

#: what each results folder holds after a run: such a folder may be replaced by a new run
BASELINE_DIR = owned_by(
    *("metrics.json", "predictions.csv", "cv_predictions.csv", "report.html", "figures")
)
BENCHMARK_DIR = owned_by(
    *("leaderboard.csv", "leaderboard.json", "report.html", "figures", "predictions", "models")
)
EXPLAIN_DIR = owned_by(
    *("attributions.csv", "top_bands.csv", "summary.png", "spectrum_*.png", "explain.json")
)
PLOTS_DIR = owned_by("parity_*.png", "confusion_matrix.png")
SHEET_DIR = owned_by("result_sheet.png", "result_sheet.html")

#: names for the error message of each results folder
_WHAT = {
    id(BASELINE_DIR): "an earlier 'baseline' output",
    id(BENCHMARK_DIR): "an earlier 'benchmark' output",
    id(EXPLAIN_DIR): "an earlier 'explain' output",
    id(PLOTS_DIR): "an earlier plots folder",
    id(SHEET_DIR): "an earlier result sheet",
}


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    """``--overwrite``: allow replacing an existing output that is not our own (once)."""
    if "--overwrite" in parser._option_string_actions:  # the command defines it itself
        return
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output file or folder (refused by default, so that no "
        "data is lost)",
    )


def _overwrite(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "overwrite", False))


def claim_file(path: str | Path | None, args: argparse.Namespace) -> Path | None:
    """Check an output file path before any work; ``None`` and ``-`` (stdout) pass.

    Raises
    ------
    ConfigError
        ``path`` is a folder, or an existing file without ``--overwrite``.
    """
    if path is None or str(path) == "-":
        return None
    return check_output_file(path, overwrite=_overwrite(args))


def _bundle_dir(path: Path) -> bool:
    """The bundle package's recogniser, imported when a folder is first checked."""
    from spectrakit.bundle.config import is_bundle_dir

    return is_bundle_dir(path)


def claim_dir(
    path: str | Path | None,
    args: argparse.Namespace,
    replaceable: Callable[[Path], bool] | None = None,
    what: str | None = None,
) -> Path | None:
    """Check an output folder before any work (default: a bundle, replaceable by a bundle).

    ``replaceable`` recognises an earlier output this one may replace (default: a bundle,
    :func:`spectrakit.bundle.config.is_bundle_dir`).

    Raises
    ------
    ConfigError
        ``path`` is a file, the working folder, or a folder ``replaceable`` does not
        recognise, without ``--overwrite``.
    """
    if path is None:
        return None
    replaceable = replaceable or _bundle_dir
    what = what or _WHAT.get(id(replaceable), "a model bundle")
    return check_output_dir(path, overwrite=_overwrite(args), replaceable=replaceable, what=what)


def distinct(outputs: Iterable[tuple[str, str | Path | None]]) -> None:
    """Refuse two outputs of one command that name the same path.

    Parameters
    ----------
    outputs : iterable of (option, path)
        Each output option with its value (``None`` and ``-`` are skipped).
    """
    seen: dict[Path, str] = {}
    for option, path in outputs:
        if path is None or str(path) == "-":
            continue
        key = Path(path).resolve()
        if key in seen:
            raise ConfigError(
                f"{seen[key]} and {option} name the same path {path}",
                expected="a different path for each output",
                got=str(path),
                fix=f"give {option} another path",
            )
        seen[key] = option
