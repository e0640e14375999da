"""Batch work past one machine: map preprocessing, prediction and summaries over a corpus.

>>> from spectrakit import distributed                                   # doctest: +SKIP
>>> with distributed.connect("local:2"):                                 # doctest: +SKIP
...     distributed.preprocess("corpus.zarr", "raman-default", "clean.zarr")

``connect("dask://HOST:PORT")`` uses a running scheduler instead. The command line offers
the same with ``--cluster`` on ``preprocess``, ``predict`` and ``info``.
"""

from __future__ import annotations

from spectrakit.distributed.cluster import connect, parse_cluster
from spectrakit.distributed.corpus import Corpus, open_corpus
from spectrakit.distributed.jobs import info, predict, preprocess

__all__ = ["Corpus", "connect", "info", "open_corpus", "parse_cluster", "predict", "preprocess"]
