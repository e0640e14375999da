"""``spectrakit.load``: a bundle (directory or .zip) as a ready :class:`Predictor`."""

from __future__ import annotations

import os
from pathlib import Path

from spectrakit.bundle.format import Bundle
from spectrakit.predict.predictor import Predictor

__all__ = ["load"]


def load(
    path: str | Path,
    *,
    key: str | os.PathLike | bytes | None = None,
    require_signature: bool = False,
) -> Predictor:
    """Load a bundle (directory or .zip) as a :class:`~spectrakit.predict.Predictor`.

    Every file is verified against the config's checksums first. Those only detect
    accidents; pass ``key`` to also check the bundle's signature, which detects edits.

    Parameters
    ----------
    path : str or Path
        Bundle directory or single-file ``.zip`` of it.
    key : path-like or bytes, optional
        HMAC secret or ed25519 public key (file path or bytes). When given, the bundle
        must carry a signature that this key verifies.
    require_signature : bool, default=False
        Refuse the bundle unless ``key`` is given and verifies its signature.

    Returns
    -------
    Predictor

    Examples
    --------
    >>> predictor = spectrakit.load("my-model")  # doctest: +SKIP
    >>> predictor = spectrakit.load("my-model", key="team.pub.pem")  # doctest: +SKIP
    """
    bundle = Bundle(path)
    bundle.verify()
    bundle.check_signature(key, required=require_signature)
    return Predictor(bundle.load_model(), bundle)
