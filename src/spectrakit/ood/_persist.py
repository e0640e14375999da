"""Detectors on disk without pickle: ``ood.json`` (type, params, threshold) and arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spectrakit.core.errors import BundleError, SpectraError
from spectrakit.ood._base import DETECTORS, OODDetector

__all__ = ["load_detector", "save_detector"]

FORMAT = "spectrakit-ood"
VERSION = 1
JSON_NAME = "ood.json"
ARRAYS_NAME = "ood.safetensors"


def _write(bundle_dir: Path, name: str, data: bytes) -> None:
    if (bundle_dir / "config.json").is_file():
        from spectrakit.bundle import add_file

        add_file(bundle_dir, name, data)  # records the checksum in config.json
        return
    from spectrakit.io import atomic_path

    with atomic_path(bundle_dir / name) as tmp:
        tmp.write_bytes(data)


def save_detector(detector: OODDetector, bundle_dir: str | Path) -> Path:
    """Store a fitted detector in a bundle directory (checksums recorded in its config).

    Parameters
    ----------
    detector : OODDetector
        A fitted (and usually calibrated) detector.
    bundle_dir : str or Path
        A model bundle (or any directory).

    Returns
    -------
    Path
        The written ``ood.json``.
    """
    from safetensors.numpy import save

    if detector.n_features_in_ is None:
        raise BundleError(
            "cannot save an unfitted OOD detector",
            expected="a fitted detector",
            got=repr(detector),
            fix="call fit() (and calibrate()) first",
        )
    bundle_dir = Path(bundle_dir)
    bundle_dir.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.ascontiguousarray(v) for k, v in detector._arrays().items()}
    description = {
        "format": FORMAT,
        "version": VERSION,
        "type": detector.name,
        "input_kind": detector.input_kind,
        "params": detector.get_params(),
        "n_features_in": detector.n_features_in_,
        "threshold": detector.threshold_,
        "false_rejection": detector.false_rejection_,
        "arrays": sorted(arrays),
    }
    if getattr(detector, "tuning_", None) is not None:
        description["tuning"] = detector.tuning_  # how n_components and alpha were chosen
    # arrays first: a description never points at missing arrays
    _write(bundle_dir, ARRAYS_NAME, save(arrays) if arrays else save({"_": np.zeros(0)}))
    _write(bundle_dir, JSON_NAME, (json.dumps(description, indent=2) + "\n").encode("utf-8"))
    return bundle_dir / JSON_NAME


def load_detector(bundle_dir: str | Path) -> OODDetector | None:
    """The detector stored in ``bundle_dir``, or ``None`` when it has none.

    Raises
    ------
    BundleError
        When ``ood.json`` / ``ood.safetensors`` are present but invalid.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    bundle_dir = Path(bundle_dir)
    path = bundle_dir / JSON_NAME
    if not path.is_file():
        return None
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
        kind = desc["type"]
        params = dict(desc["params"])
        names = list(desc["arrays"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BundleError(
            "ood.json is not a valid detector description",
            expected=f"a {FORMAT} JSON with type, params and arrays",
            got=str(exc)[:100],
            fix="re-create the detector with spectrakit.ood.fit_ood and save_detector",
        ) from exc
    if desc.get("format") != FORMAT or desc.get("version") != VERSION or kind not in DETECTORS:
        raise BundleError(
            "unsupported OOD detector",
            expected=f"{FORMAT} v{VERSION}, one of " + ", ".join(sorted(DETECTORS)),
            got=f"{desc.get('format')} v{desc.get('version')}, type {kind!r}",
            fix="upgrade spectrakit or re-create the detector",
        )
    try:
        arrays = load_file(str(bundle_dir / ARRAYS_NAME))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BundleError("ood.safetensors cannot be read", got=str(exc)[:100]) from exc
    missing = sorted(set(names) - set(arrays))
    if missing:
        raise BundleError(
            "ood.safetensors lacks arrays named in ood.json",
            expected=", ".join(names),
            got="missing " + ", ".join(missing),
        )
    try:
        det = DETECTORS[kind](**params)
    except (TypeError, SpectraError) as exc:
        raise BundleError(f"invalid parameters for detector {kind!r}", got=str(exc)[:100]) from exc
    det.n_features_in_ = int(desc["n_features_in"])
    det.threshold_ = None if desc.get("threshold") is None else float(desc["threshold"])
    det.false_rejection_ = desc.get("false_rejection")
    det._set_arrays({k: arrays[k] for k in names})
    det.tuning_ = desc.get("tuning")
    return det
