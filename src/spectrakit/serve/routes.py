"""The endpoints: ``GET /``, ``/health``, ``/model``, ``POST /predict``, ``POST /explain``.

Each endpoint is a short named function; the work lives in
:class:`~spectrakit.serve.service.Service`, reached through ``request.app.state.service``.
Request bodies are read by the service's strict codec, so their schemas are documented in
the OpenAPI description by :mod:`spectrakit.serve.openapi` rather than by parameters here.
"""

from __future__ import annotations

import os
import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from spectrakit.serve.codec import EXPLAIN_FIELDS, PREDICT_FIELDS
from spectrakit.serve.service import Service, json_response

__all__ = ["router"]

router = APIRouter()


def _service(request: Request) -> Service:
    return request.app.state.service


ENDPOINTS = {
    "GET /health": "liveness: the model name and the answering worker's process id",
    "GET /model": "model card: task, targets or classes, expected axis, preprocessing, metrics",
    "POST /predict": "predictions (JSON, binary float32 body or a file upload)",
    "POST /explain": "attributions per axis point (JSON body)",
    "GET /docs": "the request and response schemas (OpenAPI: /openapi.json)",
}


@router.get("/", summary="What this service offers", operation_id="index")
async def index(request: Request) -> Response:
    """The service's endpoints and the model it serves (what a browser sees first)."""
    engine = _service(request).engine
    about = {"service": "spectrakit", "model": engine.name, "task": engine.config.task}
    return json_response({**about, "endpoints": ENDPOINTS})


@router.get("/health", summary="Liveness and readiness", operation_id="health")
async def health(request: Request) -> Response:
    """Liveness: the model name and the answering worker's process id."""
    service = _service(request)
    return json_response({"status": "ok", "model": service.engine.name, "pid": os.getpid()})


@router.get("/model", summary="Model card", operation_id="model_card")
async def model_card(request: Request) -> Response:
    """Model card: task, targets/classes, expected axis, preprocessing, metrics."""
    engine = _service(request).engine
    cfg, ax = engine.config, engine.axis
    return json_response(
        {
            "model": {"name": cfg.family.name, "kwargs": cfg.family.kwargs},
            "task": cfg.task,
            "targets": cfg.targets,
            "classes": cfg.classes,
            "runtime": engine.runtime,
            "axis": {
                "min": ax.min,
                "max": ax.max,
                "n_points": ax.n_points,
                "unit": ax.unit,
                "kind": ax.kind,
            },
            "preprocessing": cfg.preprocessing,
            "channels": cfg.channels,
            "metrics": cfg.metrics,
            "signed": cfg.signature is not None,
            "card": engine.card,
        }
    )


@router.post("/predict", summary="Predict spectra", operation_id="predict")
async def predict(request: Request) -> Response:
    """Predict one or many spectra: JSON, binary float32, or a multipart file upload."""
    service = _service(request)
    deadline = time.monotonic() + service.settings.timeout_s
    decoded = await service.read(request, PREDICT_FIELDS, files=True)
    records = await service.predict(decoded, deadline)
    return json_response({"n": len(records), "predictions": records})


@router.post("/explain", summary="Explain predictions", operation_id="explain")
async def explain(request: Request) -> Response:
    """Attributions per axis point for each spectrum (JSON body)."""
    service = _service(request)
    deadline = time.monotonic() + service.settings.timeout_s
    decoded = await service.read(request, EXPLAIN_FIELDS, files=False)
    return json_response(await service.explain(decoded, deadline))
