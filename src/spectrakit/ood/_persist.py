"""Detectors on disk without pickle: ``ood.json`` (type, params, threshold) and arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spectrakit.bundle.format import Bundle
from spectrakit.bundle.strict_json import read_json_file
from spectrakit.bundle.tensors import read_arrays
from spectrakit.core.atomic import atomic_path
from spectrakit.core.errors import BundleError, SpectraError
from spectrakit.ood._base import DETECTORS, OODDetector

__all__ = ["load_detector", "save_detector"]

FORMAT = "spectrakit-ood"
VERSION = 1
JSON_NAME = "ood.json"
ARRAYS_NAME = "ood.safetensors"


def _write(bundle_dir: Path, name: str, data: bytes) -> None:
    if Bundle.is_bundle(bundle_dir):
        Bundle(bundle_dir).add_file(name, data)  # records the checksum in config.json
        return
    with atomic_path(bundle_dir / name) as tmp:
        tmp.write_bytes(data)


def _read(source: Bundle | Path) -> tuple[dict, dict[str, np.ndarray]] | None:
    """``ood.json`` (strict JSON) and ``ood.safetensors`` (checked header), or None."""
    if isinstance(source, Bundle):
        if not source.has(JSON_NAME):
            return None
        path, arrays_path = source.file(JSON_NAME), source.file(ARRAYS_NAME)
    elif not (source / JSON_NAME).is_file():
        return None
    else:
        path, arrays_path = source / JSON_NAME, source / ARRAYS_NAME
    try:
        desc = read_json_file(path, JSON_NAME)
    except BundleError as exc:
        raise BundleError(
            "ood.json is not a valid detector description",
            expected=f"a {FORMAT} JSON with type, params and arrays",
            got=exc.message + (f" ({exc.got})" if exc.got else ""),
            fix="re-create the detector with spectrakit.ood.fit_ood and save_detector",
        ) from None
    return desc, read_arrays(arrays_path, ARRAYS_NAME)


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


def load_detector(bundle_dir: str | Path | Bundle) -> OODDetector | None:
    """The detector stored in a bundle (or directory), or ``None`` when it has none.

    Parameters
    ----------
    bundle_dir : path-like or Bundle
        A bundle (its recorded, checksummed files are read) or a plain directory.

    Raises
    ------
    BundleError
        When ``ood.json`` / ``ood.safetensors`` are present but invalid.
    """
    source = bundle_dir if isinstance(bundle_dir, Bundle) else Path(bundle_dir)
    if isinstance(source, Path) and Bundle.is_bundle(source):
        source = Bundle(source)
    found = _read(source)
    if found is None:
        return None
    desc, arrays = found
    try:
        kind = desc["type"]
        params = dict(desc["params"])
        names = list(desc["arrays"])
    except (ValueError, KeyError, TypeError) as exc:
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
    missing = sorted(set(names) - set(arrays))
    if missing:
        raise BundleError(
            "ood.safetensors lacks arrays named in ood.json",
            expected=", ".join(names),
            got="missing " + ", ".join(missing),
        )
    try:
        det = DETECTORS[kind](**params)
        det.n_features_in_ = int(desc["n_features_in"])
        threshold = desc.get("threshold")
        det.threshold_ = None if threshold is None else float(threshold)
    except (TypeError, ValueError, KeyError, SpectraError) as exc:
        raise BundleError(f"invalid parameters for detector {kind!r}", got=str(exc)[:100]) from exc
    det.false_rejection_ = desc.get("false_rejection")
    det._set_arrays({k: arrays[k] for k in names})
    det.tuning_ = desc.get("tuning")
    return det
