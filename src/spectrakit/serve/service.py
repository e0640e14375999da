"""What the routes call: decode a request off the event loop when it is large, predict in batches.

The event loop only moves bytes: small JSON bodies (at most :data:`INLINE_JSON_BYTES`) decode
in place in well under a millisecond; larger ones and every uploaded file go to a parsing
process (:class:`~spectrakit.serve.parsing.ParsePool`); the model runs on its own thread
through the :class:`~spectrakit.serve.batching.MicroBatcher`. Every step shares one deadline.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from spectrakit.serve.batching import MicroBatcher
from spectrakit.serve.codec import Decoded, decode_binary, decode_json
from spectrakit.serve.engine import Engine, check_finite, with_ids
from spectrakit.serve.errors import BadRequest
from spectrakit.serve.parsing import ParsePool
from spectrakit.serve.settings import ServeSettings

__all__ = ["INLINE_JSON_BYTES", "Service", "json_response"]

#: JSON bodies up to this size decode on the event loop (about a millisecond at most)
INLINE_JSON_BYTES = 128 * 1024
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,12}$")
_BINARY = "application/octet-stream"


def json_response(payload: Any, status: int = 200) -> Response:
    """A JSON response encoded with orjson."""
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


class Service:
    """The engine, the batcher and the parsing pool of one server process."""

    def __init__(self, engine: Engine, settings: ServeSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.batcher = MicroBatcher(
            engine.predict_values,
            engine.executor,
            settings.max_batch_size,
            settings.max_batch_wait_ms / 1000.0,
            settings.max_pending,
            # an onnxruntime session may be called from two threads; a torch model may not
            settings.max_inline_ms / 1000.0 if engine.runtime == "onnx" else 0.0,
        )
        self.pool = ParsePool(settings.parse_workers, settings.parse_memory_mb)

    def close(self) -> None:
        """Stop the batcher, the parsing processes and the model thread."""
        self.batcher.close()
        self.pool.close()
        self.engine.executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ decoding
    async def read(self, request: Request, allowed: tuple[str, ...], files: bool) -> Decoded:
        """Decode the body by its content type (415 for one the endpoint does not take)."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            return await self._read_json(await request.body(), allowed)
        if files and ctype == _BINARY:
            return self._read_binary(request, await request.body())
        if files and ctype == "multipart/form-data":
            return await self._read_upload(request)
        accepted = "application/json" + (f", {_BINARY} or multipart/form-data" if files else "")
        raise BadRequest(415, f"unsupported content type {ctype or 'none'!r}: send {accepted}")

    async def _read_json(self, body: bytes, allowed: tuple[str, ...]) -> Decoded:
        s = self.settings
        if len(body) <= INLINE_JSON_BYTES:
            return decode_json(body, allowed, s.max_spectra, s.max_abs_value)
        return await self.pool.decode_json(
            body, allowed, s.max_spectra, s.max_abs_value, s.timeout_s
        )

    def _read_binary(self, request: Request, body: bytes) -> Decoded:
        s = self.settings
        n_points = _int_header(request, "x-spectrum-points", self.engine.axis.n_points)
        first_row = request.headers.get("x-axis", "").lower()
        if first_row not in ("", "first-row"):
            raise BadRequest(400, "X-Axis must be 'first-row' (the first row holds the axis)")
        decoded = decode_binary(body, n_points, s.max_spectra + bool(first_row), s.max_abs_value)
        if first_row:
            if decoded.values.shape[0] < 2:
                raise BadRequest(422, "X-Axis: first-row needs the axis row plus spectra")
            decoded.axis, decoded.values = decoded.values[0], decoded.values[1:]
            decoded.unit = request.headers.get("x-axis-unit") or None
        elif n_points != self.engine.axis.n_points:
            raise BadRequest(
                422, "spectra off the model axis need their axis: set X-Axis: first-row"
            )
        return decoded

    async def _read_upload(self, request: Request) -> Decoded:
        try:
            form = await request.form(max_files=1, max_fields=1)
        except HTTPException as exc:  # a malformed or oversized multipart body
            raise BadRequest(400, f"multipart body refused: {exc.detail}") from None
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise BadRequest(422, "multipart upload needs a 'file' field with spectra")
        data = await upload.read()
        if not data:
            raise BadRequest(400, "uploaded file is empty")
        suffix = PurePath(upload.filename or "upload.csv").suffix.lower() or ".csv"
        if not _SUFFIX.match(suffix):
            raise BadRequest(422, f"file name suffix {suffix[:20]!r} names no known format")
        s = self.settings
        return await self.pool.parse_file(data, suffix, s.max_abs_value, s.timeout_s)

    # ------------------------------------------------------------------ model calls
    async def predict(self, decoded: Decoded, deadline: float) -> list[dict]:
        """Prediction records, batched with other requests when on the model axis."""
        engine = self.engine
        direct = decoded.axis is None and decoded.meta_json is None and decoded.channels is None
        if direct and not engine.needs_meta:
            engine.check_length(decoded.values)
            records = await self._bounded(self.batcher.submit(decoded.values), deadline)
            return check_finite(with_ids(decoded.ids, records))
        spectra = await self._off_loop(engine.spectra, decoded)
        values = await self._off_loop(engine.on_model_axis, spectra)
        if values is None:
            records = await self._call(engine.predict_spectra, deadline, spectra)
        else:
            records = with_ids(spectra, await self._bounded(self.batcher.submit(values), deadline))
        return check_finite(records)

    async def explain(self, decoded: Decoded, deadline: float) -> dict:
        """Attributions for the decoded spectra."""
        spectra = await self._off_loop(self.engine.spectra, decoded)
        method = decoded.options.get("method") or "ig"
        target = decoded.options.get("target")
        return await self._call(self.engine.explain, deadline, spectra, method, target)

    async def _off_loop(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def _call(self, fn: Callable, deadline: float, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await self._bounded(loop.run_in_executor(self.engine.executor, fn, *args), deadline)

    async def _bounded(self, awaitable: Any, deadline: float) -> Any:
        try:
            return await asyncio.wait_for(awaitable, max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            raise BadRequest(
                503,
                f"the prediction did not finish within {self.settings.timeout_s:g} s; retry "
                "with fewer spectra (the limit is the service's --timeout)",
            ) from None


def _int_header(request: Request, name: str, default: int) -> int:
    text = request.headers.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 0 < int(text) <= 10_000_000:
        raise BadRequest(400, f"{name} must be a positive whole number, got {text[:20]!r}")
    return int(text)
