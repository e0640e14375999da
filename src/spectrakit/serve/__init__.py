"""HTTP prediction service (FastAPI + uvicorn) around a model bundle.

Imports are lazy so the parsing processes, which import only the codec and the readers, start
without the web framework.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from spectrakit.serve.app import create_app

        return create_app
    if name == "ServeSettings":
        from spectrakit.serve.settings import ServeSettings

        return ServeSettings
    raise AttributeError(f"module 'spectrakit.serve' has no attribute {name!r}")
