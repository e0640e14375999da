"""``spectrakit preprocess``: apply a preprocessing pipeline (preset or file) to spectra."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from spectrakit.cli._cluster import add_cluster_options
from spectrakit.cli._common import add_read_options, read_input
from spectrakit.cli._output import claim_file, distinct
from spectrakit.cli._parser import command_parser
from spectrakit.cli._types import positive_int, suffix_path
from spectrakit.io import atomic_path
from spectrakit.preprocessing import list_presets

if TYPE_CHECKING:  # loaded when the command runs, so --help stays fast
    from spectrakit.core.spectra import Spectra

EXAMPLE = (
    "example: spectrakit preprocess raw.csv --pipeline raman-default --out clean.csv "
    "--plot before_after.png --save-pipeline pipeline.yaml"
)

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "preprocess",
        "Fit a preprocessing pipeline on the input spectra and write the result. "
        f"Presets: {', '.join(list_presets())}. " + EXAMPLE,
        run,
    )
    p.add_argument("input", help="input spectra file or folder")
    p.add_argument(
        "--pipeline",
        default="raman-default",
        help="preset name or pipeline .yaml/.json file (default: raman-default)",
    )
    p.add_argument("--out", required=True, help="output spectra file (.csv, .parquet, .h5, ...)")
    p.add_argument(
        "--plot",
        type=suffix_path(*PLOT_SUFFIXES),
        help="write a before/after figure (.png, .svg, .pdf)",
    )
    p.add_argument(
        "--save-pipeline",
        type=suffix_path(".yaml", ".yml", ".json"),
        help="write the fitted pipeline (.yaml or .json)",
    )
    p.add_argument(
        "--normalize",
        action="store_true",
        help="raman-default only: add MinMax normalisation (classification)",
    )
    p.add_argument(
        "--n-plot", type=positive_int, default=5, help="spectra overlaid in the plot (>= 1)"
    )
    p.add_argument(
        "--block-size",
        type=positive_int,
        default=1024,
        help="Parquet in and out with a stateless pipeline: spectra per streamed block "
        "(read, transform and write overlap; memory stays a few blocks; default 1024)",
    )
    add_read_options(p)
    add_cluster_options(p)


def plot_before_after(before: Spectra, after: Spectra, path: str | Path, n: int = 5) -> Path:
    """Overlay up to ``n`` spectra before and after preprocessing; written atomically."""
    path = Path(path)
    image = render_before_after(before, after, path.suffix.lstrip(".") or "png", n)
    with atomic_path(path) as tmp:
        tmp.write_bytes(image)
    return path


def render_before_after(before: Spectra, after: Spectra, fmt: str = "png", n: int = 5) -> bytes:
    """The before/after figure as ``fmt`` (png, svg, pdf) bytes."""
    import io

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = np.linspace(0, before.n_spectra - 1, min(n, before.n_spectra)).astype(int)
    fig, axes = plt.subplots(2, 1, figsize=(8, 6), constrained_layout=True)
    for ax, spectra, title in ((axes[0], before, "before"), (axes[1], after, "after")):
        for r in rows:
            ax.plot(spectra.axis.values, spectra.values[r], lw=0.8)
        ax.set_title(f"{title} ({spectra.n_spectra} spectra, {len(rows)} shown)")
        ax.set_xlabel(spectra.axis.label())
        ax.set_ylabel("Intensity")
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, dpi=120, format=fmt)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _streamable(args: argparse.Namespace, pipeline) -> bool:
    from spectrakit.preprocessing import is_stateless

    parquet = (".parquet", ".pq")
    return (
        Path(str(args.input)).suffix.lower() in parquet
        and Path(args.out).suffix.lower() in parquet
        and getattr(args, "format", None) in (None, "parquet")
        and is_stateless(pipeline)
    )


def _run_streaming(args: argparse.Namespace, pipeline) -> tuple[int, int]:
    """Parquet to Parquet block by block; returns (spectra, points) written."""
    from spectrakit.core.progress import progress
    from spectrakit.io.formats.parquet_table import ParquetBlockWriter, iter_parquet, parquet_rows
    from spectrakit.preprocessing import stream_transform

    points = [0]
    options = {"unit": args.unit} if getattr(args, "unit", None) else {}
    total = parquet_rows(Path(args.input))
    bar = progress(total=total, desc="preprocess", unit=" spectra")
    with atomic_path(args.out) as tmp, ParquetBlockWriter(tmp) as writer, bar:

        def write(block) -> None:
            points[0] = block.n_points
            writer.write(block)
            bar.update(block.n_spectra)

        blocks = iter_parquet(Path(args.input), args.block_size, **options)
        n = stream_transform(pipeline, blocks, write)
    return n, points[0]


def _run_cluster(args: argparse.Namespace, pipeline) -> int:
    """Chunks of a corpus on Dask, into a new .zarr store."""
    from spectrakit import distributed
    from spectrakit.core.errors import ConfigError

    if Path(args.out).suffix.lower() != ".zarr" or args.plot:
        raise ConfigError(
            "with --cluster, preprocess writes a Zarr store chunk by chunk",
            expected="--out NAME.zarr (and no --plot)",
            got=str(args.out),
        )
    with distributed.connect(args.cluster):
        out = distributed.preprocess(args.input, pipeline, args.out, rows=args.chunk_rows)
    print(f"wrote {out} (provenance in its attributes)")
    if args.save_pipeline:
        print(f"wrote pipeline {pipeline.save(args.save_pipeline)}")
    return 0


def _claim_outputs(args: argparse.Namespace) -> None:
    """Every output checked before the first write: distinct, writable, nobody's data."""
    from spectrakit.io import writer_for

    outputs = [("--out", args.out), ("--plot", args.plot), ("--save-pipeline", args.save_pipeline)]
    distinct(outputs)
    writer_for(args.out)
    for _, path in outputs:
        claim_file(path, args)


def run(args: argparse.Namespace) -> int:
    from spectrakit.io import write
    from spectrakit.preprocessing import get_pipeline

    options = {"normalize": True} if args.normalize else {}
    if args.cluster:  # a new .zarr folder: refused when it exists (distributed._staged)
        return _run_cluster(args, get_pipeline(args.pipeline, **options))
    _claim_outputs(args)
    pipeline = get_pipeline(args.pipeline, **options)
    if _streamable(args, pipeline) and not args.plot:
        n, points = _run_streaming(args, pipeline)
        print(f"wrote {n} spectra x {points} points to {args.out}")
        if args.save_pipeline:
            print(f"wrote pipeline {pipeline.save(args.save_pipeline)}")
        return 0
    spectra = read_input(args.input, args)
    result = pipeline.fit_transform(spectra)
    image = None
    if args.plot:  # drawn before anything is written: a failure leaves no output
        image = render_before_after(
            spectra, result, Path(args.plot).suffix[1:].lower(), args.n_plot
        )
    out = write(result, args.out)
    print(f"wrote {result.n_spectra} spectra x {result.n_points} points to {out}")
    if image is not None:
        with atomic_path(args.plot) as tmp:
            tmp.write_bytes(image)
        print(f"wrote plot {args.plot}")
    if args.save_pipeline:
        print(f"wrote pipeline {pipeline.save(args.save_pipeline)}")
    return 0
