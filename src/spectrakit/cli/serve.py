"""``spectrakit serve``: an HTTP prediction service for one bundle (loopback by default)."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable

from spectrakit.cli._types import bounded_float, bounded_int, port

EXAMPLE = "example: spectrakit serve --model runs/glucose --port 8000 --workers 2"


def _ranged(kind: type, lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type: a number of ``kind`` within [lo, hi], else one clear line."""
    return bounded_int(int(lo), int(hi)) if kind is int else bounded_float(lo, hi)


def _add_limits(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("limits")
    g.add_argument(
        "--max-body-mb", type=_ranged(float, 0.001, 2048), default=16.0, help="MiB per request"
    )
    g.add_argument(
        "--max-spectra", type=_ranged(int, 1, 10_000_000), default=10_000, help="per request"
    )
    g.add_argument(
        "--timeout",
        type=_ranged(float, 0.01, 3600),
        default=30.0,
        help="seconds per request for parsing plus prediction; past it: 503 (default 30)",
    )
    g.add_argument(
        "--max-abs-value",
        type=_ranged(float, 1.0, 1e30),
        default=1e12,
        help="largest accepted absolute intensity (default 1e12)",
    )
    g.add_argument(
        "--max-pending",
        type=_ranged(int, 1, 1_000_000),
        default=1024,
        help="requests waiting for the model before new ones get 503 (default 1024)",
    )


def _add_performance(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("performance")
    g.add_argument(
        "--workers", type=_ranged(int, 1, 256), default=1, help="server processes (default 1)"
    )
    g.add_argument(
        "--max-batch-size",
        type=_ranged(int, 1, 100_000),
        default=64,
        help="most spectra that concurrent requests share in one model call (default 64)",
    )
    g.add_argument(
        "--max-batch-wait-ms",
        type=_ranged(float, 0.0, 1000.0),
        default=1.0,
        help="wait for more requests after the first of a batch; skipped while requests "
        "come one at a time (default 1 ms)",
    )
    g.add_argument(
        "--max-inline-ms",
        type=_ranged(float, 0.0, 1000.0),
        default=2.0,
        help="ONNX model calls measured shorter than this run on the event loop's thread "
        "(no thread hand-off; 0: never) (default 2 ms)",
    )
    g.add_argument(
        "--parse-workers",
        type=_ranged(int, 1, 64),
        default=1,
        help="processes per server worker that parse uploads and large bodies (default 1)",
    )
    g.add_argument(
        "--runtime",
        choices=["auto", "onnx", "torch"],
        default="auto",
        help="inference engine; auto: onnxruntime when the bundle has model.onnx",
    )
    g.add_argument(
        "--threads", type=_ranged(int, 1, 256), default=1, help="inference threads per worker"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        description="Start the HTTP prediction service. OpenAPI docs at /docs. " + EXAMPLE,
    )
    p.add_argument("--model", required=True, help="bundle folder or .zip")
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
    p.set_defaults(func=run)


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
