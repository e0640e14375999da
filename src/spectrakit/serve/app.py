"""The ASGI application: /predict, /explain, /health, /model, with strict input validation."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from spectrakit import __version__
from spectrakit.core.errors import SpectraError
from spectrakit.core.spectra import Spectra
from spectrakit.serve._limits import BodySizeLimit
from spectrakit.serve._schemas import ExplainRequest, PredictRequest

__all__ = ["create_app"]

log = logging.getLogger("spectrakit.serve")


class BadRequest(Exception):
    """A client error with an HTTP status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _validation_message(errors: list[dict], allowed: tuple[str, ...] = ()) -> str:
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        if err.get("type") == "extra_forbidden":
            parts.append(
                f"unknown field {loc!r}: expected only " + ", ".join(allowed or ("known fields",))
            )
        else:
            parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def _to_spectra(req: PredictRequest, predictor: Any) -> Spectra:
    if (req.spectra is None) == (req.spectrum is None):
        raise BadRequest(
            422,
            "give exactly one of 'spectra' (a list of spectra) or 'spectrum' (one spectrum)",
        )
    rows = req.spectra if req.spectra is not None else [req.spectrum]
    if not rows or any(len(r) == 0 for r in rows):
        raise BadRequest(422, "no intensities: expected at least one non-empty spectrum")
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        raise BadRequest(
            422, f"spectra have different lengths {sorted(lengths)}: expected one length"
        )
    values = np.asarray(rows, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        r, c = np.argwhere(~np.isfinite(values))[0]
        raise BadRequest(
            422, f"non-finite intensity (NaN or inf) in spectrum {r} at point {c}: send numbers"
        )
    model_axis = predictor.axis
    if req.axis is None:
        if values.shape[1] != model_axis.n_points:
            raise BadRequest(
                422,
                f"expected {model_axis.n_points} values per spectrum (the model axis "
                f"{model_axis.describe()}), got {values.shape[1]}; send an 'axis' field to have "
                "the spectra resampled",
            )
        axis: Any = model_axis
    else:
        if len(req.axis) != values.shape[1]:
            raise BadRequest(
                422,
                f"axis has {len(req.axis)} positions but spectra have {values.shape[1]} values",
            )
        axis = req.axis
    if req.ids is not None and len(req.ids) != values.shape[0]:
        raise BadRequest(
            422, f"'ids' has {len(req.ids)} entries but there are {values.shape[0]} spectra"
        )
    meta = {"id": req.ids} if req.ids is not None else None
    kind = model_axis.kind if (req.unit in (None, model_axis.unit)) else None
    return Spectra(
        values,
        axis,
        meta,
        unit=req.unit or model_axis.unit,
        kind=kind,
        laser_wavelength=model_axis.laser_wavelength,
    )


def _records(df: Any) -> list[dict]:
    return json.loads(df.to_json(orient="records"))


def create_app(
    model: Any,
    *,
    max_body_bytes: int = 16 * 1024 * 1024,
    max_spectra: int = 10_000,
) -> FastAPI:
    """Build the service for one model.

    Parameters
    ----------
    model : str, Path or Predictor
        A bundle directory/zip or an already loaded Predictor.
    max_body_bytes : int, default=16 MiB
        Larger request bodies are refused with 413 before being read.
    max_spectra : int, default=10000
        Most spectra accepted in one request.

    Returns
    -------
    fastapi.FastAPI
    """
    if isinstance(model, str | Path):
        from spectrakit.predict.loader import load

        predictor = load(model)
    else:
        predictor = model
    lock = threading.Lock()  # torch modules are shared; one inference at a time per process
    app = FastAPI(
        title="spectrakit prediction service",
        version=__version__,
        description="Predictions, explanations and OOD flags for spectra.",
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)

    @app.exception_handler(BadRequest)
    async def _bad_request(_: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _validation_message(exc.errors())}, status_code=422)

    @app.exception_handler(SpectraError)
    async def _spectra_error(_: Request, exc: SpectraError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.middleware("http")
    async def _log_requests(request: Request, call_next):
        start = time.perf_counter()
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex[:12]
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        log.info(
            json.dumps(
                {
                    "request_id": rid,
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round(1e3 * (time.perf_counter() - start), 2),
                }
            )
        )
        return response

    async def _parse(request: Request, schema: type[PredictRequest]) -> PredictRequest | Spectra:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or not hasattr(upload, "read"):
                raise BadRequest(422, "multipart upload needs a 'file' field with spectra")
            data = await upload.read()
            if not data:
                raise BadRequest(400, "uploaded file is empty")
            suffix = Path(upload.filename or "upload.csv").suffix or ".csv"
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"upload{suffix}"
                path.write_bytes(data)
                from spectrakit.io import read

                return read(path)
        body = await request.body()
        if not body.strip():
            raise BadRequest(400, 'empty body: send JSON like {"spectra": [[...]], "axis": [...]}')
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(
                400, f"body is not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}"
            ) from exc
        if not isinstance(payload, dict):
            raise BadRequest(422, "body must be a JSON object with a 'spectra' or 'spectrum' field")
        try:
            return schema.model_validate(payload)
        except ValidationError as exc:
            raise BadRequest(
                422, _validation_message(exc.errors(), tuple(schema.model_fields))
            ) from exc

    def _check_count(spectra: Spectra) -> None:
        if spectra.n_spectra > max_spectra:
            raise BadRequest(
                413, f"too many spectra: at most {max_spectra} per request, got {spectra.n_spectra}"
            )

    @app.get("/health")
    def health() -> dict:
        """Liveness and readiness."""
        return {"status": "ok", "model": predictor.config.get("model", {}).get("name")}

    @app.get("/model")
    def model_card() -> dict:
        """Model card: task, targets/classes, expected axis, preprocessing, metrics."""
        cfg = predictor.config
        return {
            "model": cfg.get("model"),
            "task": cfg.get("task"),
            "targets": cfg.get("targets"),
            "classes": cfg.get("classes"),
            "axis": {
                "min": predictor.axis.min,
                "max": predictor.axis.max,
                "n_points": predictor.axis.n_points,
                "unit": predictor.axis.unit,
                "kind": predictor.axis.kind,
            },
            "preprocessing": cfg.get("preprocessing"),
            "metrics": cfg.get("metrics"),
            "card": predictor.card if hasattr(predictor, "card") else None,
        }

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        """Predict one or many spectra (JSON body or a multipart file upload)."""
        parsed = await _parse(request, PredictRequest)
        spectra = parsed if isinstance(parsed, Spectra) else _to_spectra(parsed, predictor)
        _check_count(spectra)

        def run() -> Any:
            with lock:
                return predictor.predict(spectra)

        from starlette.concurrency import run_in_threadpool

        df = await run_in_threadpool(run)
        if "id" in spectra.meta.columns:  # echo the caller's ids (JSON "ids" or a file column)
            df.insert(0, "id", spectra.meta["id"].astype(str).to_numpy())
        return JSONResponse({"n": len(df), "predictions": _records(df)})

    @app.post("/explain")
    async def explain(request: Request) -> JSONResponse:
        """Attributions per axis point for each spectrum."""
        parsed = await _parse(request, ExplainRequest)
        if isinstance(parsed, Spectra):
            raise BadRequest(422, "send JSON to /explain (method and target go in the body)")
        spectra = _to_spectra(parsed, predictor)
        _check_count(spectra)
        from spectrakit.explain import explain as run_explain

        def run() -> Any:
            with lock:
                return run_explain(predictor, spectra, method=parsed.method, target=parsed.target)

        from starlette.concurrency import run_in_threadpool

        attr = await run_in_threadpool(run)
        return JSONResponse(
            {
                "method": parsed.method,
                "target": list(attr.target_names),
                "axis": np.asarray(attr.axis.values).tolist(),
                "attributions": np.asarray(attr.values).tolist(),
            }
        )

    app.state.predictor = predictor
    return app
