"""Candidates of the automatic choice with transfer standards (the same samples on both).

For every PLS candidate and every transfer method (none, instrument mean-centering, DS,
PDS, SST), the error expected on the new instrument is scored from training data only:

- the CV RMSE of the model on the training instrument, and
- the leave-one-standard-out transfer error: the standardization is fitted without
  standard ``i``, then the model's prediction for the mapped slave spectrum ``i`` is
  compared with its prediction for the master spectrum ``i``;

combined as ``sqrt(cv^2 + transfer^2)`` (independent errors add in variance). The lowest
wins; the map of the winner is refitted on all standards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.chemometrics import (
    DirectStandardization,
    InstrumentMeanCentering,
    PiecewiseDirectStandardization,
    SpectralSpaceTransformation,
)
from spectrakit.core.errors import DataError
from spectrakit.core.spectra import Spectra

__all__ = ["TRANSFERS", "standards_candidates"]

#: transfer methods tried with standards (None: the model on raw slave spectra)
TRANSFERS = {
    "none": None,
    "mean-centering": InstrumentMeanCentering,
    "ds": DirectStandardization,
    "pds": PiecewiseDirectStandardization,
    "sst": SpectralSpaceTransformation,
}


class _Mapped:
    """``predict(X, domain)``: the fitted estimator, after the slave->master map on target."""

    def __init__(self, est: Any, transfer: Any) -> None:
        self.est, self.transfer = est, transfer

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        if domain == "target" and self.transfer is not None:
            X = self.transfer.transform(X)
        return np.asarray(self.est.predict(X), dtype=np.float64).ravel()


def _loo_transfer(est: Any, method: Any, master: Spectra, slave: Spectra) -> float:
    """Leave-one-standard-out RMSE between predictions of mapped slave and master spectra."""
    ref = np.asarray(est.predict(master), dtype=np.float64).ravel()
    if method is None:
        got = np.asarray(est.predict(slave), dtype=np.float64).ravel()
        return float(np.sqrt(np.mean((got - ref) ** 2)))
    diffs = []
    for i in range(master.n_spectra):
        keep = np.setdiff1d(np.arange(master.n_spectra), [i])
        mapped = method().fit(master.select(keep), slave.select(keep)).transform(slave.select([i]))
        diffs.append(float(np.asarray(est.predict(mapped)).ravel()[0]) - ref[i])
    return float(np.sqrt(np.mean(np.square(diffs))))


def standards_candidates(pls: list, master: Spectra, slave: Spectra) -> list:
    """Every PLS candidate with every transfer method, scored as the module says.

    Parameters
    ----------
    pls : list of Candidate
        Fitted PLS candidates (``model.est`` fitted on all training spectra).
    master, slave : Spectra
        Paired transfer standards (same samples, same order, training instrument first).

    Returns
    -------
    list of Candidate
        Kind ``pls+<method>``; ``info`` holds both error parts.
    """
    from spectrakit.training.auto_candidate import Candidate

    if master.n_spectra != slave.n_spectra or master.n_spectra < 3:
        raise DataError(
            "transfer standards must pair the same samples, at least 3",
            expected="--master and --slave with the same number of spectra (>= 3)",
            got=f"{master.n_spectra} and {slave.n_spectra}",
        )
    out = []
    for cand in pls:
        est = cand.model.est
        for name, method in TRANSFERS.items():
            transfer = _loo_transfer(est, method, master, slave)
            err = float(np.hypot(cand.cv_error, transfer))
            fitted = None if method is None else method().fit(master, slave)
            info = {**cand.info, "cv_rmse": cand.cv_error, "transfer_rmse": transfer}
            out.append(
                Candidate(
                    f"{cand.name}+{name}",
                    f"pls+{name}",
                    err,
                    cand.oof,
                    _Mapped(est, fitted),
                    cand.seconds,
                    info,
                )
            )
    return out
