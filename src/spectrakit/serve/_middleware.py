"""Pure ASGI middleware: a request id on every response and one JSON log line per request."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

__all__ = ["RequestLog"]

log = logging.getLogger("spectrakit.serve")


class RequestLog:
    """Echo (or create) ``x-request-id`` and log method, path, status and milliseconds."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = next((v for k, v in scope.get("headers") or () if k == b"x-request-id"), b"")
        rid = rid[:64] or uuid.uuid4().hex[:12].encode()
        status = 0

        async def send_with_id(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid)]
            await send(message)

        await self.app(scope, receive, send_with_id)
        if log.isEnabledFor(logging.INFO):
            entry = {
                "request_id": rid.decode("latin-1"),
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status,
                "ms": round(1e3 * (time.perf_counter() - start), 2),
            }
            log.info(json.dumps(entry))
