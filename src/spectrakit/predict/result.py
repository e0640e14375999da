"""Predictions as NumPy columns: the lean result of a prediction, its table built on demand.

Building a pandas DataFrame costs more than running a small model on one spectrum, so the
predictors compute a :class:`Predictions` (one NumPy array per column) and ``predict``
returns its :meth:`~Predictions.frame`; a caller that needs no table (the HTTP service, a
loop over single spectra) reads the arrays or :meth:`~Predictions.records` directly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from spectrakit.core.spectra_inputs import constant_rows
from spectrakit.predict.core import coverage_columns, decode_outputs_np, prediction_columns

__all__ = ["Predictions", "assemble_predictions"]


class Predictions(Mapping[str, np.ndarray]):
    """Prediction columns, each an array with one value per spectrum.

    A read-only mapping of column name to array, in the column order of
    :meth:`spectrakit.predict.Predictor.predict`'s table.

    Parameters
    ----------
    columns : dict of str to ndarray
        Each of shape (n_spectra,).

    Examples
    --------
    >>> p = Predictions({"c": np.array([0.5, 1.5])})
    >>> p["c"].tolist(), p.records()
    ([0.5, 1.5], [{'c': 0.5}, {'c': 1.5}])
    """

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self._columns = {k: np.asarray(v) for k, v in columns.items()}
        sizes = {v.shape[0] for v in self._columns.values()}
        if len(sizes) > 1:
            raise ValueError(f"prediction columns differ in length: {sorted(sizes)}")
        self.n_spectra = sizes.pop() if sizes else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"Predictions({self.n_spectra} spectra, columns={list(self._columns)})"

    def frame(self) -> Any:
        """The predictions table: a new pandas DataFrame of n_spectra rows."""
        import pandas as pd

        return pd.DataFrame(self._columns)

    def records(self) -> list[dict[str, Any]]:
        """One dict per spectrum, values as Python scalars (JSON-ready)."""
        keys = list(self._columns)
        rows = zip(*(v.tolist() for v in self._columns.values()), strict=True)
        return [dict(zip(keys, row, strict=True)) for row in rows]


def assemble_predictions(
    predictor: Any,
    raw: np.ndarray,
    ood_inputs: Callable[[], np.ndarray],
    covered: float | None,
    inputs: np.ndarray | None = None,
) -> Predictions:
    """Decoded outputs, OOD scores and coverage of one prediction call.

    Constant input spectra (one value at every point: placeholders, not measurements) are
    named in a warning and flagged ``is_ood``, whatever the detector scored.

    Parameters
    ----------
    predictor : Predictor or OnnxPredictor
        Gives ``config.output``, ``task``, ``targets``, ``classes`` and ``ood``.
    raw : ndarray of shape (n, n_model_outputs)
        Undecoded model outputs.
    ood_inputs : callable
        Returns what the OOD detector scores, shape (n, D); called only with a detector.
    covered : float or None
        Fraction of the input axis inside the trained range (axis-aware models).
    inputs : ndarray of shape (n, L) or (n, C, L), optional
        The input intensities, checked for constant spectra.

    Returns
    -------
    Predictions
    """
    decoded = decode_outputs_np(raw, predictor.config.output)
    cols = prediction_columns(decoded, predictor.task, predictor.targets, predictor.classes)
    if predictor.ood is not None:
        scored = ood_inputs()
        cols["ood_score"] = np.asarray(predictor.ood.score_samples(scored), dtype=float)
        cols["is_ood"] = np.asarray(predictor.ood.predict(scored), dtype=bool)
    if covered is not None:
        cols.update(coverage_columns(covered, raw.shape[0], cols.get("is_ood")))
    if inputs is not None:
        _flag_constant(inputs, cols)
    return Predictions(cols)


def _flag_constant(inputs: np.ndarray, cols: dict[str, np.ndarray]) -> None:
    """Warn about constant input spectra and raise their ``is_ood`` flag (when there is one)."""
    constant = constant_rows(inputs)
    if not constant.any():
        return
    rows = np.flatnonzero(constant)
    shown = ", ".join(map(str, rows[:5].tolist())) + (", ..." if rows.size > 5 else "")
    flagged = "is_ood" in cols
    if flagged:
        cols["is_ood"] = cols["is_ood"] | constant
    warnings.warn(
        f"{rows.size} of {constant.size} input spectra are constant (rows {shown}, 0-based: one "
        "value at every point, a placeholder or failed scan, not a measurement); their "
        "predictions mean nothing" + (", so they are flagged is_ood" if flagged else ""),
        UserWarning,
        stacklevel=4,
    )
