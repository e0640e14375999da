"""The ``spectrakit`` command line; one module per command."""

from spectrakit.cli._app import build_parser, main

__all__ = ["build_parser", "main"]
