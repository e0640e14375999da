"""The ASGI application: the router, the error handlers, the limits and the lifespan."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from spectrakit import __version__
from spectrakit.serve._limits import BodySizeLimit
from spectrakit.serve._middleware import RequestLog
from spectrakit.serve.engine import Engine
from spectrakit.serve.errors import install_error_handlers
from spectrakit.serve.openapi import install_openapi
from spectrakit.serve.routes import router
from spectrakit.serve.service import Service
from spectrakit.serve.settings import ServeSettings

__all__ = ["create_app"]


def _settings(model: Any, options: dict[str, Any]) -> ServeSettings:
    if isinstance(model, ServeSettings):
        return dataclasses.replace(model, **options) if options else model
    name = str(model) if isinstance(model, str | Path) else "<predictor>"
    return ServeSettings(model=name, **options)


def create_app(model: Any, **options: Any) -> FastAPI:
    """Build the service for one model.

    Parameters
    ----------
    model : str, Path, Predictor or ServeSettings
        A bundle folder/zip, an already loaded predictor, or complete settings.
    **options
        Any :class:`~spectrakit.serve.settings.ServeSettings` field, e.g. ``max_body_bytes``,
        ``max_spectra``, ``timeout_s``, ``max_batch_size``, ``max_batch_wait_ms``.

    Returns
    -------
    fastapi.FastAPI

    Examples
    --------
    >>> app = create_app("runs/glucose", timeout_s=10)  # doctest: +SKIP
    """
    settings = _settings(model, options)
    source = model if not isinstance(model, ServeSettings) else model.model
    engine = Engine(
        source, runtime=settings.runtime, threads=settings.threads, key=settings.signature_key
    )
    service = Service(engine, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.pool.start()  # the parsers load their readers while the model warms up
        await asyncio.get_running_loop().run_in_executor(engine.executor, engine.warm_up)
        try:
            yield
        finally:
            service.close()

    app = FastAPI(
        title="spectrakit prediction service",
        version=__version__,
        description="Predictions, explanations and OOD flags for spectra.",
        lifespan=lifespan,
    )
    app.include_router(router)
    install_error_handlers(app)
    install_openapi(app, engine.axis.n_points, settings.max_spectra, settings.max_abs_value)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog)
    app.state.service = service
    app.state.predictor = engine.predictor
    return app
