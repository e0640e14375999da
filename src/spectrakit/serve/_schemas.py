"""Request and response bodies of the HTTP service (validated by pydantic)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ExplainRequest", "PredictRequest"]


class PredictRequest(BaseModel):
    """Spectra to predict: ``spectra`` (many) or ``spectrum`` (one), optionally with an axis."""

    model_config = ConfigDict(extra="forbid")

    spectra: list[list[float]] | None = Field(
        default=None, description="intensities, one list per spectrum", examples=[[[0.1, 0.2]]]
    )
    spectrum: list[float] | None = Field(default=None, description="a single spectrum")
    axis: list[float] | None = Field(
        default=None,
        description="axis positions of the intensities; omit only when they are on the model axis",
    )
    unit: str | None = Field(default=None, description="axis unit (default: the model's)")
    kind: str | None = Field(
        default=None,
        description="axis kind, e.g. raman_shift or wavenumber (default: the model's for its "
        "unit, else the unit's own)",
    )
    laser_wavelength: float | None = Field(
        default=None,
        description="laser wavelength (nm) of a Raman-shift axis (default: the model's)",
    )
    ids: list[str] | None = Field(default=None, description="optional ids echoed in the output")


class ExplainRequest(PredictRequest):
    """Spectra to explain, with the attribution method and the class/target to explain."""

    method: str = Field(default="ig", description="attribution method, e.g. ig, saliency")
    target: str | int | None = Field(default=None, description="class name/index or target")
