"""One scored candidate of the automatic choice (shared by the ranking and its sources)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spectrakit.core.spectra import Spectra

__all__ = ["Candidate"]


@dataclass
class Candidate:
    """One scored candidate: CV error (RMSE, or error rate), its CV predictions, the model.

    ``target_error`` is the same error on the held-out training spectra simulated as the new
    instrument measures them (:mod:`spectrakit.training.target_view`), ``None`` without.
    """

    name: str
    kind: str
    cv_error: float
    oof: np.ndarray
    model: Any
    seconds: float = 0.0
    info: dict = field(default_factory=dict)
    target_error: float | None = None
    target_oof: np.ndarray | None = None

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        """Predictions of the fitted candidate."""
        return self.model.predict(X, domain)


def transformed_values(pre: Any, X: Spectra) -> np.ndarray:
    """The values of ``X`` after the fitted preprocessing ``pre`` (none: as given).

    Parameters
    ----------
    pre : fitted pipeline or None
        Anything with ``transform``; ``None`` keeps ``X``.
    X : Spectra
        Spectra of shape (n, p).

    Returns
    -------
    ndarray of shape (n, p')
    """
    out = pre.transform(X) if pre is not None else X
    return out.values if isinstance(out, Spectra) else np.asarray(out)
