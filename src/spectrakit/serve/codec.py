"""The request codec: strict JSON (orjson) and binary float32 bodies into arrays, and back.

Nothing is coerced: intensities are JSON numbers (a boolean or a numeric string is refused),
ids are strings, and every value must be finite and within the accepted magnitude. The same
functions run in the service process for small bodies and in a parsing process for large ones
(:mod:`spectrakit.serve.parsing`), whose reply travels as :func:`pack` bytes (no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from spectrakit.serve.errors import BadRequest

__all__ = [
    "EXPLAIN_FIELDS",
    "PREDICT_FIELDS",
    "Decoded",
    "check_values",
    "decode_binary",
    "decode_json",
    "pack",
    "unpack",
]

PREDICT_FIELDS = ("spectra", "spectrum", "axis", "unit", "ids", "channels")
EXPLAIN_FIELDS = (*PREDICT_FIELDS, "method", "target")
_NUMBER_TYPES = frozenset({float, int})
_EXAMPLE = '{"spectra": [[...], ...], "axis": [...]}'


@dataclass
class Decoded:
    """Spectra decoded from a request body or an uploaded file.

    Attributes
    ----------
    values : ndarray of shape (n_spectra, n_points), float64
    axis : ndarray of shape (n_points,) or None
        Positions of the values; ``None`` means the bundle's axis.
    unit, kind : str or None
        Axis unit and kind (``None``: the bundle's).
    laser_wavelength : float or None
    ids : list of str or None
        Caller's ids, echoed in the predictions.
    options : dict
        Other fields of the body (``method``, ``target`` for explanations).
    meta_json : str or None
        Metadata table of an uploaded file (pandas ``split`` JSON).
    channels : dict of str to Decoded, or None
        Separately measured channels (a ``channels`` body): each channel's spectra, axis
        and unit; ``values`` then holds the first channel's (for the row count).
    """

    values: np.ndarray
    axis: np.ndarray | None = None
    unit: str | None = None
    kind: str | None = None
    laser_wavelength: float | None = None
    ids: list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    meta_json: str | None = None
    channels: dict[str, Decoded] | None = None


def decode_json(body: bytes, allowed: tuple[str, ...], max_spectra: int, max_abs: float) -> Decoded:
    """Decode a JSON request body strictly.

    Raises
    ------
    BadRequest
        400 for a body that is not JSON, 422 for one that does not follow the schema.
    """
    if not body.strip():
        raise BadRequest(400, f"empty body: send JSON like {_EXAMPLE}")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(
            400, f"body is not valid JSON ({exc}); NaN and Infinity are not JSON numbers"
        ) from exc
    if not isinstance(payload, dict):
        raise BadRequest(422, "body must be a JSON object with a 'spectra' or 'spectrum' field")
    unknown = [k for k in payload if k not in allowed]
    if unknown:
        raise BadRequest(422, f"unknown field {unknown[0]!r}: expected only " + ", ".join(allowed))
    nulls = [k for k, v in payload.items() if v is None]
    if nulls:
        raise BadRequest(422, f"{nulls[0]}: expected a value, got null; leave the field out")
    options = {k: payload[k] for k in ("method", "target") if k in payload}
    _check_options(options)
    if "channels" in payload:
        channels = _channels(payload, max_spectra, max_abs)
        first = next(iter(channels.values())).values
        ids = _ids(payload.get("ids"), first.shape[0])
        return Decoded(first, ids=ids, options=options, channels=channels)
    one = _spectra(payload, max_spectra, max_abs)
    one.ids = _ids(payload.get("ids"), one.values.shape[0])
    one.options = options
    return one


def _spectra(payload: dict, max_spectra: int, max_abs: float) -> Decoded:
    """The ``spectra``/``spectrum``, ``axis`` and ``unit`` fields of ``payload``."""
    values = _rows(payload, max_spectra)
    check_values(values, max_abs)
    axis = payload.get("axis")
    if axis is not None:
        axis = _number_list(axis, "axis")
        if axis.shape[0] != values.shape[1]:
            raise BadRequest(
                422, f"axis has {axis.shape[0]} positions but spectra have {values.shape[1]} values"
            )
        check_values(axis[None, :], 1e300, what="axis position")
    return Decoded(values, axis=axis, unit=_optional_str(payload, "unit"))


def _channels(payload: dict, max_spectra: int, max_abs: float) -> dict[str, Decoded]:
    """``{"channels": {name: {"spectra", "axis"?, "unit"?}}}``: one Decoded per channel."""
    given = payload["channels"]
    clash = [k for k in ("spectra", "spectrum", "axis", "unit") if k in payload]
    if clash:
        raise BadRequest(422, f"give 'channels' or {clash[0]!r}, not both")
    if not isinstance(given, dict) or not given or len(given) > 64:
        raise BadRequest(
            422, 'channels: expected an object {"<channel>": {"spectra": [[...]], "axis": '
            f"[...]}}, ...}} with 1 to 64 channels, got {_kind(given)}",
        )  # fmt: skip
    out = {}
    for name, body in given.items():
        if not isinstance(body, dict) or set(body) - {"spectra", "spectrum", "axis", "unit"}:
            raise BadRequest(
                422, f"channels[{name!r}]: expected an object with 'spectra' and optionally "
                "'axis' and 'unit'",
            )  # fmt: skip
        try:
            out[name] = _spectra(body, max_spectra, max_abs)
        except BadRequest as exc:
            raise BadRequest(exc.status, f"channels[{name!r}]: {exc.message}") from None
    rows = {n: d.values.shape[0] for n, d in out.items()}
    if len(set(rows.values())) > 1:
        raise BadRequest(
            422, "the channels hold different numbers of spectra ("
            + ", ".join(f"{n}: {k}" for n, k in rows.items()) + "): expected one per sample",
        )  # fmt: skip
    return out


def _rows(payload: dict, max_spectra: int) -> np.ndarray:
    has_many, has_one = "spectra" in payload, "spectrum" in payload
    if has_many == has_one:
        raise BadRequest(
            422, "give exactly one of 'spectra' (a list of spectra) or 'spectrum' (one spectrum)"
        )
    rows = payload["spectra"] if has_many else [payload["spectrum"]]
    name = "spectra" if has_many else "spectrum"
    if not isinstance(rows, list) or not rows:
        raise BadRequest(422, "no intensities: expected at least one non-empty spectrum")
    if len(rows) > max_spectra:
        raise BadRequest(
            422, f"too many spectra: at most {max_spectra} per request, got {len(rows)}"
        )
    for i, row in enumerate(rows):
        where = f"{name}[{i}]" if has_many else name
        if not isinstance(row, list):
            raise BadRequest(422, f"{where}: expected a list of numbers, got {_kind(row)}")
        if not row:
            raise BadRequest(422, "no intensities: expected at least one non-empty spectrum")
        if not set(map(type, row)) <= _NUMBER_TYPES:
            bad = next(v for v in row if type(v) not in _NUMBER_TYPES)
            raise BadRequest(422, f"{where}: expected numbers only, got {_kind(bad)} {bad!r:.40}")
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        raise BadRequest(
            422, f"spectra have different lengths {sorted(lengths)}: expected one length"
        )
    return np.asarray(rows, dtype=np.float64)


def _number_list(value: Any, name: str) -> np.ndarray:
    if not isinstance(value, list) or not value or not set(map(type, value)) <= _NUMBER_TYPES:
        raise BadRequest(422, f"{name}: expected a non-empty list of numbers, got {_kind(value)}")
    return np.asarray(value, dtype=np.float64)


def _ids(value: Any, n: int) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(type(v) is str for v in value):
        raise BadRequest(422, f"ids: expected a list of strings, got {_kind(value)}")
    if len(value) != n:
        raise BadRequest(422, f"'ids' has {len(value)} entries but there are {n} spectra")
    return value


def _optional_str(payload: dict, name: str) -> str | None:
    value = payload.get(name)
    if value is not None and type(value) is not str:
        raise BadRequest(422, f"{name}: expected a string, got {_kind(value)}")
    return value


def _check_options(options: dict[str, Any]) -> None:
    method = options.get("method")
    if method is not None and type(method) is not str:
        raise BadRequest(422, f"method: expected a string such as 'ig', got {_kind(method)}")
    target = options.get("target")
    if target is not None and type(target) not in (str, int):
        raise BadRequest(
            422, f"target: expected a class name (string) or an index, got {_kind(target)}"
        )


def _kind(value: Any) -> str:
    names = {bool: "a boolean", str: "a string", dict: "an object", list: "a list"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def check_values(values: np.ndarray, max_abs: float, what: str = "intensity") -> None:
    """Refuse non-finite values and magnitudes above ``max_abs`` (422)."""
    magnitude = np.abs(values)
    bad = ~(magnitude <= max_abs)  # NaN compares false
    if bad.any():
        r, c = np.argwhere(bad)[0]
        v = values[r, c]
        reason = "non-finite (NaN or inf)" if not np.isfinite(v) else f"{v:.3g} is beyond"
        raise BadRequest(
            422,
            f"{what} {reason} the accepted magnitude {max_abs:g} in spectrum {r} at point {c}: "
            "send calibrated, finite numbers (the limit is the service's --max-abs-value)",
        )


def decode_binary(body: bytes, n_points: int, max_spectra: int, max_abs: float) -> Decoded:
    """Decode little-endian float32 intensities, ``n_points`` per spectrum.

    Raises
    ------
    BadRequest
        400 when the body is not a whole number of spectra, 422 for bad values.
    """
    row_bytes = 4 * n_points
    if not body or len(body) % row_bytes:
        raise BadRequest(
            400,
            f"binary body of {len(body)} bytes is not a whole number of spectra of {n_points} "
            f"float32 values ({row_bytes} bytes each); set X-Spectrum-Points for another length",
        )
    values = np.frombuffer(body, dtype="<f4").reshape(-1, n_points).astype(np.float64)
    if values.shape[0] > max_spectra:
        raise BadRequest(
            422, f"too many spectra: at most {max_spectra} per request, got {values.shape[0]}"
        )
    check_values(values, max_abs)
    return Decoded(values)


def pack(decoded: Decoded) -> bytes:
    """Bytes for :func:`unpack`: a JSON header, then the values and axis as float64."""
    axis = decoded.axis
    header = {
        "shape": list(decoded.values.shape),
        "axis": axis is not None,
        "unit": decoded.unit,
        "kind": decoded.kind,
        "laser_wavelength": decoded.laser_wavelength,
        "ids": decoded.ids,
        "options": decoded.options,
        "meta_json": decoded.meta_json,
        "channels": None if decoded.channels is None else list(decoded.channels),
    }
    head = orjson.dumps(header)
    parts = [len(head).to_bytes(8, "little"), head, np.ascontiguousarray(decoded.values).tobytes()]
    if axis is not None:
        parts.append(np.ascontiguousarray(axis, dtype=np.float64).tobytes())
    for one in (decoded.channels or {}).values():  # each channel packed, length first
        packed = pack(one)
        parts += [len(packed).to_bytes(8, "little"), packed]
    return b"".join(parts)


def unpack(data: bytes) -> Decoded:
    """The :class:`Decoded` that :func:`pack` wrote."""
    n_head = int.from_bytes(data[:8], "little")
    header = orjson.loads(data[8 : 8 + n_head])
    n, length = header["shape"]
    start = 8 + n_head
    values = np.frombuffer(data, dtype=np.float64, count=n * length, offset=start)
    axis = None
    end = start + 8 * n * length
    if header["axis"]:
        axis = np.frombuffer(data, dtype=np.float64, count=length, offset=end)
        end += 8 * length
    channels = None
    if header.get("channels") is not None:
        channels = {}
        for name in header["channels"]:
            size = int.from_bytes(data[end : end + 8], "little")
            channels[name] = unpack(data[end + 8 : end + 8 + size])
            end += 8 + size
    return Decoded(
        values.reshape(n, length),
        axis=axis,
        unit=header["unit"],
        kind=header["kind"],
        laser_wavelength=header["laser_wavelength"],
        ids=header["ids"],
        options=header["options"],
        meta_json=header["meta_json"],
        channels=channels,
    )
