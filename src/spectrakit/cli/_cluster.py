"""``--cluster``: run a batch command's chunks on Dask (``dask://HOST:PORT`` or ``local:N``)."""

from __future__ import annotations

import argparse


def cluster_spec(text: str) -> str:
    """Argument type: checked at parse time (bad forms exit 2 with one line)."""
    from spectrakit.core.errors import SpectraError
    from spectrakit.distributed.cluster import parse_cluster

    try:
        parse_cluster(text)
    except SpectraError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """``--cluster`` and ``--chunk-rows`` (spectra per task)."""
    g = parser.add_argument_group("cluster")
    g.add_argument(
        "--cluster",
        type=cluster_spec,
        help="map over chunks of a .zarr/.h5/.parquet corpus on Dask: dask://HOST:PORT "
        "(a running scheduler) or local:N (N local worker processes)",
    )
    g.add_argument(
        "--chunk-rows",
        type=int,
        help="with --cluster: spectra per task (default: the corpus's own chunks)",
    )
