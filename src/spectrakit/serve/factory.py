"""App factory for worker processes: ``uvicorn spectrakit.serve.factory:app_from_env --factory``.

``spectrakit serve --workers N`` puts the settings in the environment and lets uvicorn start N
processes; each builds its own app (its own model, batcher and parsing processes) from them.
"""

from __future__ import annotations

from fastapi import FastAPI

from spectrakit.serve.app import create_app
from spectrakit.serve.settings import ServeSettings

__all__ = ["app_from_env"]


def app_from_env() -> FastAPI:
    """The service described by :data:`spectrakit.serve.settings.ENV_VAR`."""
    return create_app(ServeSettings.from_env())
