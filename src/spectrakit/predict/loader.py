"""``spectrakit.load``: a bundle (directory or .zip) as a ready :class:`Predictor`."""

from __future__ import annotations

from pathlib import Path

from spectrakit.bundle.format import PREPROCESSING, load_model, open_bundle
from spectrakit.predict.predictor import Predictor

__all__ = ["load"]


def load(path: str | Path) -> Predictor:
    """Load a bundle (directory or .zip) as a :class:`~spectrakit.predict.Predictor`.

    Parameters
    ----------
    path : str or Path
        Bundle directory or single-file ``.zip`` of it.

    Returns
    -------
    Predictor

    Examples
    --------
    >>> predictor = spectrakit.load("my-model")  # doctest: +SKIP
    >>> predictor.predict(spectra)  # doctest: +SKIP
    """
    bundle_dir, holder = open_bundle(path)
    model, config = load_model(bundle_dir)
    pre_state = None
    if PREPROCESSING in config["files"]:
        from safetensors.numpy import load_file as load_np

        pre_state = load_np(str(bundle_dir / PREPROCESSING))
    predictor = Predictor(model, config, bundle_dir, preprocessing_state=pre_state)
    predictor._holder = holder  # keeps an unpacked .zip alive as long as the predictor
    return predictor
