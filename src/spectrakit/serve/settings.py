"""Service settings: limits, timeouts, batching and worker counts, validated once at start."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, fields
from typing import Any

from spectrakit.core.errors import ConfigError

__all__ = ["ENV_VAR", "ServeSettings"]

#: environment variable through which ``spectrakit serve --workers N`` hands the settings to
#: each worker process (the app factory reads it)
ENV_VAR = "SPECTRAKIT_SERVE_SETTINGS"

#: (field, lower bound, upper bound, unit) of every numeric setting
_BOUNDS: dict[str, tuple[float, float, str]] = {
    "max_body_bytes": (1, 2**31, "bytes"),
    "max_spectra": (1, 10_000_000, "spectra"),
    "timeout_s": (0.01, 3600.0, "seconds"),
    "max_batch_size": (1, 100_000, "spectra"),
    "max_batch_wait_ms": (0.0, 1000.0, "ms"),
    "max_inline_ms": (0.0, 1000.0, "ms"),
    "max_pending": (1, 1_000_000, "requests"),
    "parse_workers": (1, 64, "processes"),
    "parse_memory_mb": (64, 1_048_576, "MiB"),
    "max_abs_value": (1.0, 1e30, "(absolute intensity)"),
    "threads": (1, 256, "threads"),
}


@dataclass(frozen=True)
class ServeSettings:
    """Everything the service needs besides the bundle.

    Parameters
    ----------
    model : str
        Bundle folder or ``.zip``.
    max_body_bytes : int, default=16 MiB
        Larger request bodies are refused with 413 before being read.
    max_spectra : int, default=10000
        Most spectra in one request.
    timeout_s : float, default=30
        Per-request bound on parsing plus prediction; past it the client gets 503 and a
        stuck file parser is killed.
    max_batch_size : int, default=64
        Most spectra that concurrent requests share in one model call.
    max_batch_wait_ms : float, default=1
        How long a batch waits for more requests once the first one has arrived.
    max_inline_ms : float, default=2
        ONNX model calls measured to take at most this long run on the event loop's thread
        instead of the model thread: two thread hand-offs cost more than such a call, most
        of all on a busy machine. 0 sends every call to the model thread.
    max_pending : int, default=1024
        Requests waiting for the model before new ones get 503.
    parse_workers : int, default=1
        Processes that parse uploaded files and large JSON bodies (per server worker).
    parse_memory_mb : int, default=2048
        Address-space growth a parsing process may use beyond its start (Linux).
    max_abs_value : float, default=1e12
        Largest accepted absolute intensity; larger values are refused with 422.
    runtime : {"auto", "onnx", "torch"}, default="auto"
        Inference engine; ``auto`` uses ``model.onnx`` when the bundle has an export.
    threads : int, default=1
        Intra-op threads of the inference engine per server worker.
    signature_key : str, optional
        Key file (HMAC secret or ed25519 public key) that must verify the bundle's
        signature; an unsigned or altered bundle is refused at start.
    """

    model: str
    max_body_bytes: int = 16 * 1024 * 1024
    max_spectra: int = 10_000
    timeout_s: float = 30.0
    max_batch_size: int = 64
    max_batch_wait_ms: float = 1.0
    max_inline_ms: float = 2.0
    max_pending: int = 1024
    parse_workers: int = 1
    parse_memory_mb: int = 2048
    max_abs_value: float = 1e12
    runtime: str = "auto"
    threads: int = 1
    signature_key: str | None = None

    def __post_init__(self) -> None:
        for name, (lo, hi, unit) in _BOUNDS.items():
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not lo <= value <= hi:
                raise ConfigError(
                    f"invalid serve setting {name.replace('_', '-')}",
                    expected=f"a number from {lo:g} to {hi:g} {unit}",
                    got=repr(value),
                )
        if self.runtime not in ("auto", "onnx", "torch"):
            raise ConfigError(
                "invalid serve setting runtime", expected="auto, onnx or torch", got=self.runtime
            )

    def to_env(self) -> str:
        """JSON text for :data:`ENV_VAR`."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServeSettings:
        """Settings handed over by the parent process in :data:`ENV_VAR`."""
        text = (os.environ if environ is None else environ).get(ENV_VAR)
        if not text:
            raise ConfigError(
                "no service settings in the environment",
                expected=f"{ENV_VAR} set by spectrakit serve",
                got="nothing",
                fix="start the service with: spectrakit serve --model BUNDLE",
            )
        data: dict[str, Any] = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
