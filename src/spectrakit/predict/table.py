"""The predictions table written by ``spectrakit predict``: input metadata, then predictions."""

from __future__ import annotations

from typing import Any

__all__ = ["predictions_table"]


def predictions_table(spectra: Any, pred: Any) -> Any:
    """Input metadata followed by predictions (clashing metadata renamed ``<col>_reference``).

    Parameters
    ----------
    spectra : Spectra
        The predicted spectra (n rows of metadata).
    pred : pandas.DataFrame
        Predictions, shape (n, k).

    Returns
    -------
    pandas.DataFrame
        Shape (n, n_meta + k).
    """
    import pandas as pd

    meta = spectra.meta.reset_index(drop=True)
    meta = meta.rename(columns={c: f"{c}_reference" for c in meta.columns if c in pred.columns})
    return pd.concat([meta, pred.reset_index(drop=True)], axis=1)
