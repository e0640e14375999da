"""``spectrakit serve``: an HTTP prediction service for one bundle (loopback by default)."""

from __future__ import annotations

import argparse
import logging

EXAMPLE = "example: spectrakit serve --model runs/glucose --port 8000"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve predictions over HTTP (POST /predict, /explain; GET /health, /model)",
        description="Start the HTTP prediction service. OpenAPI docs at /docs. " + EXAMPLE,
    )
    p.add_argument("--model", required=True, help="bundle folder or .zip")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default loopback: 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-body-mb", type=float, default=16.0, help="request size limit in MiB")
    p.add_argument("--max-spectra", type=int, default=10_000, help="spectra per request limit")
    p.add_argument("--workers", type=int, default=1, help="worker processes")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from spectrakit.serve import create_app

    logging.getLogger("spectrakit.serve").setLevel(args.log_level.upper())
    app = create_app(
        args.model,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        max_spectra=args.max_spectra,
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("spectrakit.serve").warning(
            "binding to %s exposes the service beyond this machine", args.host
        )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=10,
    )
    return 0
