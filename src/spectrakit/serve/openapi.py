"""The OpenAPI description of the service, with request bodies sized to the served bundle.

The endpoints read their bodies with the strict codec, so FastAPI cannot infer the schemas;
they are written here from the bundle (points per spectrum) and the settings (most spectra,
largest magnitude), so generated clients and schema-driven tests send what the service takes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["install_openapi"]

_REF = "#/components/schemas/"
_ERRORS = {
    "400": "Body is not JSON, or a binary body is not whole spectra",
    "413": "Body larger than the service's --max-body-mb",
    "415": "Content type the endpoint does not take",
    "422": "Body does not follow the schema, or spectra do not fit the model",
    "503": "Busy, or the request ran past the service's --timeout (retry)",
}


def _schemas(n_points: int, max_spectra: int, max_abs: float) -> dict[str, Any]:
    number = {"type": "number", "minimum": -max_abs, "maximum": max_abs}
    spectrum = {
        "type": "array",
        "items": number,
        "minItems": n_points,
        "maxItems": n_points,
        "description": f"{n_points} intensities on the model axis (other grids need 'axis')",
    }
    predict = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "spectra": {
                "type": "array",
                "items": spectrum,
                "minItems": 1,
                "maxItems": max_spectra,
                "description": "intensities, one list per spectrum",
            },
            "spectrum": spectrum,
            "axis": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "description": "axis positions of the intensities; omit on the model axis",
            },
            "unit": {"type": "string", "description": "axis unit (default: the model's)"},
            "ids": {
                "type": "array",
                "items": {"type": "string"},
                "description": "ids echoed in the output, one per spectrum",
            },
        },
        "oneOf": [{"required": ["spectra"]}, {"required": ["spectrum"]}],
    }
    explain = {**predict, "properties": dict(predict["properties"])}
    explain["properties"]["method"] = {"type": "string", "description": "e.g. ig, saliency"}
    explain["properties"]["target"] = {
        "type": ["string", "integer"],
        "description": "class name or index / target to explain",
    }
    return {"PredictRequest": predict, "ExplainRequest": explain, **_response_schemas()}


def _response_schemas() -> dict[str, Any]:
    return {
        "PredictResponse": {
            "type": "object",
            "required": ["n", "predictions"],
            "properties": {
                "n": {"type": "integer"},
                "predictions": {"type": "array", "items": {"type": "object"}},
            },
        },
        "ExplainResponse": {
            "type": "object",
            "required": ["method", "target", "axis", "attributions"],
            "properties": {
                "method": {"type": "string"},
                "target": {"type": "array"},
                "axis": {"type": "array", "items": {"type": "number"}},
                "attributions": {"type": "array", "items": {"type": "array"}},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status", "pid"],
            "properties": {
                "status": {"type": "string"},
                "model": {"type": ["string", "null"]},
                "pid": {"type": "integer"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
    }


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF + name}}}


def _responses(name: str, errors: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "Success", "content": _json(name)}}
    for code in errors:
        out[code] = {"description": _ERRORS[code], "content": _json("Error")}
    return out


def _request_body(name: str, files: bool) -> dict[str, Any]:
    content = _json(name)
    if files:
        content["application/octet-stream"] = {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "little-endian float32 spectra, row after row; headers "
                "X-Spectrum-Points (default: the model's), X-Axis: first-row, X-Axis-Unit",
            }
        }
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    return {"required": True, "content": content}


def install_openapi(app: FastAPI, n_points: int, max_spectra: int, max_abs: float) -> None:
    """Replace ``app.openapi`` by one that documents bodies and error responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            doc.setdefault("components", {}).setdefault("schemas", {}).update(
                _schemas(n_points, max_spectra, max_abs)
            )
            paths = doc["paths"]
            all_errors = tuple(_ERRORS)
            endpoints = (("/predict", "Predict", True), ("/explain", "Explain", False))
            for path, name, files in endpoints:
                op = paths[path]["post"]
                op["requestBody"] = _request_body(f"{name}Request", files)
                op["responses"] = _responses(f"{name}Response", all_errors)
            paths["/health"]["get"]["responses"] = _responses("Health", ())
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
