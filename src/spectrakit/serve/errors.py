"""Client errors of the HTTP service and the handlers that turn every error into one JSON line."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson

from spectrakit.core.errors import SpectraError

if TYPE_CHECKING:  # the parsing processes import this module without the web framework
    from fastapi import FastAPI, Request
    from starlette.responses import Response

__all__ = ["BadRequest", "error_response", "install_error_handlers"]

log = logging.getLogger("spectrakit.serve")


class BadRequest(Exception):
    """A client error (or an overload) with an HTTP status and a one-line message.

    Parameters
    ----------
    status : int
        HTTP status (4xx, or 503 when the service is busy or a request ran out of time).
    message : str
        What was wrong and how to fix it.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = " ".join(str(message).split())


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """A JSON ``{"error": message}`` response."""
    from starlette.responses import Response

    if status == 503:
        headers = {**(headers or {}), "retry-after": "1"}
    return Response(
        orjson.dumps({"error": message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def _bad_request(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return error_response(exc.status, exc.message)


async def _http_error(_: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    return error_response(status, str(getattr(exc, "detail", exc)), getattr(exc, "headers", None))


async def _spectra_error(_: Request, exc: Exception) -> Response:
    return error_response(422, str(exc))


async def _invalid(_: Request, exc: Exception) -> Response:
    errors = getattr(exc, "errors", list)()
    first = errors[0] if errors else {}
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return error_response(422, f"{loc or 'request'}: {first.get('msg', 'invalid')}")


async def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unexpected error while serving a request", exc_info=exc)
    return error_response(500, f"internal error ({type(exc).__name__}); see the server log")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: :class:`BadRequest`, project errors (422) and the rest (500)."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(SpectraError, _spectra_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
