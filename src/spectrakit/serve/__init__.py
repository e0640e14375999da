"""HTTP prediction service (FastAPI + uvicorn) around a model bundle."""

from spectrakit.serve.app import create_app

__all__ = ["create_app"]
