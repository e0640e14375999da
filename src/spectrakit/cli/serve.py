"""``spectrakit serve``: an HTTP prediction service for one bundle (loopback by default)."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable

from spectrakit.cli._parser import MODEL, command_parser
from spectrakit.cli._types import bounded_float, bounded_int, port

EXAMPLE = "example: spectrakit serve --model runs/glucose --port 8000 --workers 2"


def _ranged(kind: type, lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type: a number of ``kind`` within [lo, hi], else one clear line."""
    return bounded_int(int(lo), int(hi)) if kind is int else bounded_float(lo, hi)


#: (flag, type, lowest, highest, default, help) of the request limits
_LIMITS = (
    ("--max-body-mb", float, 0.001, 2048, 16.0, "MiB per request"),
    ("--max-spectra", int, 1, 10_000_000, 10_000, "per request"),
    ("--timeout", float, 0.01, 3600, 30.0,
     "seconds per request for parsing plus prediction; past it: 503 (default 30)"),
    ("--max-abs-value", float, 1.0, 1e30, 1e12,
     "largest accepted absolute intensity (default 1e12)"),
    ("--max-pending", int, 1, 1_000_000, 1024,
     "requests waiting for the model before new ones get 503 (default 1024)"),
)  # fmt: skip
#: the same for the performance options (``--runtime`` comes before ``--threads``)
_PERFORMANCE = (
    ("--workers", int, 1, 256, 1, "server processes (default 1)"),
    ("--max-batch-size", int, 1, 100_000, 64,
     "most spectra that concurrent requests share in one model call (default 64)"),
    ("--max-batch-wait-ms", float, 0.0, 1000.0, 1.0,
     "wait for more requests after the first of a batch; skipped while requests come one "
     "at a time (default 1 ms)"),
    ("--max-inline-ms", float, 0.0, 1000.0, 2.0,
     "ONNX model calls measured shorter than this run on the event loop's thread "
     "(no thread hand-off; 0: never) (default 2 ms)"),
    ("--parse-workers", int, 1, 64, 1,
     "processes per server worker that parse uploads and large bodies (default 1)"),
)  # fmt: skip
_THREADS = (("--threads", int, 1, 256, 1, "inference threads per worker"),)


def _add_ranged(g: argparse._ArgumentGroup, options: tuple) -> None:
    """One bounded numeric option per ``(flag, type, lowest, highest, default, help)``."""
    for flag, kind, lo, hi, default, text in options:
        g.add_argument(flag, type=_ranged(kind, lo, hi), default=default, help=text)


def _add_limits(p: argparse.ArgumentParser) -> None:
    _add_ranged(p.add_argument_group("limits"), _LIMITS)


def _add_performance(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("performance")
    _add_ranged(g, _PERFORMANCE)
    g.add_argument(
        "--runtime",
        choices=["auto", "onnx", "torch"],
        default="auto",
        help="inference engine; auto: onnxruntime when the bundle has model.onnx",
    )
    _add_ranged(g, _THREADS)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "serve",
        "Start the HTTP prediction service. OpenAPI docs at /docs. " + EXAMPLE,
        run,
        [MODEL],
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default loopback: 127.0.0.1)"
    )
    p.add_argument("--port", type=port, default=8000, help="TCP port, 0-65535 (0: any free port)")
    _add_limits(p)
    _add_performance(p)
    p.add_argument(
        "--require-signature",
        metavar="KEY",
        help="refuse the bundle unless its signature verifies with this key file (HMAC "
        "secret or ed25519 public key; see 'spectrakit sign')",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="server log verbosity",
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from spectrakit.serve import create_app
    from spectrakit.serve.engine import check_bundle
    from spectrakit.serve.settings import ENV_VAR, ServeSettings

    log = logging.getLogger("spectrakit.serve")
    log.setLevel(args.log_level.upper())
    settings = ServeSettings(
        model=str(args.model),
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        max_spectra=args.max_spectra,
        timeout_s=args.timeout,
        max_batch_size=args.max_batch_size,
        max_batch_wait_ms=args.max_batch_wait_ms,
        max_inline_ms=args.max_inline_ms,
        max_pending=args.max_pending,
        parse_workers=args.parse_workers,
        max_abs_value=args.max_abs_value,
        runtime=args.runtime,
        threads=args.threads,
        signature_key=args.require_signature,
    )
    if args.workers == 1:
        app = create_app(settings)  # loads the bundle: a bad one fails here, with one line
    else:
        check_bundle(settings.model, settings.signature_key)  # each worker loads its own
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("binding to %s exposes the service beyond this machine", args.host)
    common = dict(
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    if args.workers == 1:
        uvicorn.run(app, **common)
        return 0
    os.environ[ENV_VAR] = settings.to_env()
    uvicorn.run(
        "spectrakit.serve.factory:app_from_env", factory=True, workers=args.workers, **common
    )
    return 0
