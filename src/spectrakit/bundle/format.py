"""Model bundles: one portable directory that holds everything inference needs.

Layout::

    config.json                 model name + kwargs, task, targets/classes, axes, preprocessing,
                                output scaling, training data summary, metrics, versions,
                                ``files`` (sha256 of every other file) and ``integrity``
    model.safetensors           weights
    preprocessing.safetensors   fitted preprocessing state (when any)
    card.md                     human-readable model card
    ood.json, ood.safetensors   optional out-of-distribution detector
    model.onnx                  optional, after export

Loading never executes code: ``config.json`` is validated against a JSON schema shipped
with the package, ``integrity`` (sha256 of the canonical config) detects edits, every file
is checked against its recorded checksum, files not recorded (``*.pkl``, ``*.pt``,
``*.ckpt``, ...) are refused, and weights are read with safetensors only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import tempfile
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.atomic import atomic_dir, atomic_path
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import BundleError, SpectraError

__all__ = [
    "CONFIG",
    "WEIGHTS",
    "add_file",
    "load_model",
    "open_bundle",
    "read_config",
    "save",
    "update_metrics",
    "verify",
]

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
PREPROCESSING = "preprocessing.safetensors"
CARD = "card.md"
FORMAT = "spectrakit-bundle"
FORMAT_VERSION = 1
#: extensions a bundle file may have; anything else (pickles, checkpoints, code) is refused
ALLOWED_SUFFIXES = (".json", ".safetensors", ".md", ".onnx", ".csv", ".png", ".txt", ".html")
_MAX_CONFIG_BYTES = 64 * 1024**2


# ---------------------------------------------------------------------- hashing helpers
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _integrity(config: dict) -> str:
    body = {k: v for k, v in config.items() if k != "integrity"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_config(bundle_dir: Path, config: dict) -> None:
    config["integrity"] = _integrity(config)
    with atomic_path(bundle_dir / CONFIG) as tmp:
        tmp.write_text(json.dumps(config, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("spectrakit", "torch", "lightning", "numpy", "scipy", "scikit-learn"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def _check_name(name: str) -> None:
    if (
        not name
        or "/" in name
        or "\\" in name
        or name.startswith(".")
        or name == CONFIG
        or not name.endswith(ALLOWED_SUFFIXES)
    ):
        raise BundleError(
            f"invalid bundle file name {name!r}",
            expected="a plain file name ending in " + ", ".join(ALLOWED_SUFFIXES),
            got=repr(name),
            fix="choose another name (config.json is managed by spectrakit)",
        )


# ---------------------------------------------------------------------- saving
def save(
    out: str | Path,
    *,
    model: Any,
    task: str,
    axis: SpectralAxis,
    model_axis: SpectralAxis | None = None,
    targets: list[str] | None = None,
    classes: list[str] | None = None,
    output: dict | None = None,
    preprocessor: Any = None,
    extra_features: dict | None = None,
    normalize: bool = False,
    training: dict | None = None,
    metrics: dict | None = None,
    intended_use: str | None = None,
) -> Path:
    """Write a bundle directory atomically.

    Parameters
    ----------
    out : str or Path
        Bundle directory (replaced atomically if it exists).
    model : SpectralModel
        Model built by :func:`spectrakit.models.create`.
    task : {"regression", "classification", "multilabel", "pretrained"}
    axis : SpectralAxis
        Axis of the raw spectra the model expects (before preprocessing).
    model_axis : SpectralAxis, optional
        Axis of the model input after preprocessing (default ``axis``).
    targets, classes : list of str, optional
        Target column names; class (or label) names.
    output : dict, optional
        :class:`~spectrakit.models.heads.OutputSpec` as a dict.
    preprocessor : ChannelPreprocessor, optional
        Fitted preprocessing.
    extra_features : dict, optional
        ``{"names", "mean", "std"}`` of tabular features.
    normalize : bool, default=False
        Whether inputs are standardized per spectrum before the model.
    training : dict, optional
        Training data summary and options.
    metrics : dict, optional
        Validation/test metrics.
    intended_use : str, optional
        Sentence for the model card.

    Returns
    -------
    Path
        The bundle directory.
    """
    from safetensors.torch import save_file

    from spectrakit.models import model_config

    out = Path(out)
    model_axis = model_axis or axis
    files: dict[str, str] = {}
    with atomic_dir(out) as tmp:
        state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS), metadata={"format": FORMAT})
        files[WEIGHTS] = _sha256_file(tmp / WEIGHTS)
        prep_config = [None]
        if preprocessor is not None:
            prep_config = preprocessor.to_config()
            arrays = preprocessor.state_arrays()
            if arrays:
                from safetensors.numpy import save_file as save_np

                save_np(
                    {k: np.ascontiguousarray(v) for k, v in arrays.items()},
                    str(tmp / PREPROCESSING),
                )
                files[PREPROCESSING] = _sha256_file(tmp / PREPROCESSING)
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "model": model_config(model),
            "task": task,
            "targets": list(targets or []),
            "classes": None if classes is None else [str(c) for c in classes],
            "axis": axis.to_dict(),
            "model_axis": model_axis.to_dict(),
            "output": output,
            "preprocessing": prep_config,
            "extra_features": extra_features or {"names": [], "mean": [], "std": []},
            "normalize": bool(normalize),
            "training": _jsonable(training or {}),
            "metrics": _jsonable(metrics or {}),
            "versions": _versions(),
            "intended_use": intended_use,
        }
        card = _card(config)
        (tmp / CARD).write_text(card, encoding="utf-8")
        files[CARD] = _sha256_file(tmp / CARD)
        config["files"] = files
        _write_config(tmp, config)
    return out


def _jsonable(value: Any) -> Any:
    """Numbers, strings, lists and dicts only (numpy scalars converted, NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _card(config: dict) -> str:
    ax = SpectralAxis.from_dict(config["axis"])
    summary = config["training"].get("data", {})
    lines = [
        f"# spectrakit model: {config['model']['name']} ({config['task']})",
        "",
        "## Intended use",
        "",
        config.get("intended_use")
        or (
            f"Predict {', '.join(config['targets']) or 'embeddings'} from spectra measured on "
            f"{ax.describe()} ({ax.kind}). Inputs on another grid of the same unit are "
            "resampled when they cover this range; other inputs are refused."
        ),
        "",
        "## Input axis",
        "",
        f"- expected: {ax.describe()}, kind {ax.kind}"
        + (f", laser {ax.laser_wavelength:g} nm" if ax.laser_wavelength else ""),
        f"- model input: {SpectralAxis.from_dict(config['model_axis']).describe()}",
        f"- per-spectrum standardization: {'yes' if config['normalize'] else 'no'}",
        "",
        "## Preprocessing",
        "",
    ]
    for c, p in enumerate(config["preprocessing"]):
        steps = "none" if p is None else " -> ".join(s["step"] for s in p.get("steps", []))
        lines.append(f"- channel {c}: {steps}")
    lines += ["", "## Training data", ""]
    if summary:
        lines.append(
            f"- {summary.get('n_spectra', '?')} spectra, {summary.get('n_points', '?')} points"
            if "sources" not in summary
            else f"- {summary.get('n_spectra', '?')} spectra from {len(summary['sources'])} "
            "source(s)"
        )
        for src in summary.get("sources", []):
            lines.append(
                f"  - {src.get('name', '?')}: {src.get('n_spectra', '?')} spectra, "
                f"{src.get('axis_description', '?')}"
            )
        if config["training"].get("grid"):
            lines.append(f"- resampled onto the common grid {config['training']['grid']}")
        for name, info in summary.get("meta", {}).items():
            if "min" in info:
                lines.append(f"- {name}: {info['min']:.4g} .. {info['max']:.4g}")
    else:
        lines.append("- not recorded")
    lines += ["", "## Metrics", ""]
    for k, v in config["metrics"].items():
        lines.append(f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}")
    if not config["metrics"]:
        lines.append("- none recorded")
    lines += ["", "## Versions", ""]
    lines += [f"- {k} {v}" for k, v in config["versions"].items()]
    return "\n".join(lines) + "\n"


def add_file(bundle_dir: str | Path, name: str, data: bytes) -> Path:
    """Write ``name`` into a bundle atomically and record its checksum in ``config.json``.

    Parameters
    ----------
    bundle_dir : str or Path
        An existing, valid bundle.
    name : str
        Plain file name (e.g. ``"ood.json"``, ``"model.onnx"``).
    data : bytes
        File content.

    Returns
    -------
    Path
        The written file.
    """
    bundle_dir = Path(bundle_dir)
    _check_name(name)
    config = read_config(bundle_dir)
    target = bundle_dir / name
    with atomic_path(target) as tmp:
        tmp.write_bytes(bytes(data))
    config["files"][name] = hashlib.sha256(bytes(data)).hexdigest()
    _write_config(bundle_dir, config)
    return target


def update_metrics(bundle_dir: str | Path, metrics: dict) -> dict:
    """Record ``metrics`` in a bundle's config and model card (checksums updated).

    Returns
    -------
    dict
        The updated configuration.
    """
    bundle_dir = Path(bundle_dir)
    config = read_config(bundle_dir)
    config["metrics"] = _jsonable(metrics)
    card = _card(config).encode("utf-8")
    with atomic_path(bundle_dir / CARD) as tmp:
        tmp.write_bytes(card)
    config["files"][CARD] = hashlib.sha256(card).hexdigest()
    _write_config(bundle_dir, config)
    return config


# ---------------------------------------------------------------------- loading
def _schema() -> dict:
    text = resources.files("spectrakit").joinpath("schemas/bundle.schema.json").read_text("utf-8")
    return json.loads(text)


def read_config(bundle_dir: str | Path) -> dict:
    """Parse and validate ``config.json`` (schema and integrity); no other file is read."""
    import jsonschema

    bundle_dir = Path(bundle_dir)
    path = bundle_dir / CONFIG
    if not bundle_dir.is_dir() or not path.is_file():
        raise BundleError(
            f"{bundle_dir} is not a model bundle",
            expected=f"a directory with {CONFIG}",
            got="missing" if not bundle_dir.exists() else "no config.json",
            fix="pass the directory written by 'spectrakit finetune' or 'pretrain'",
        )
    if path.stat().st_size > _MAX_CONFIG_BYTES:
        raise BundleError("config.json is too large", expected="< 64 MB", got=str(path.stat()))
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(
            "config.json is not valid JSON", got=str(exc)[:120], fix="restore the file"
        ) from exc
    try:
        jsonschema.validate(config, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "(top level)"
        raise BundleError(
            "config.json does not follow the bundle schema",
            expected=f"a valid value at {where}",
            got=exc.message[:160],
            fix="restore the original config.json or re-save the bundle",
        ) from None
    if config["integrity"] != _integrity(config):
        raise BundleError(
            "config.json was modified after the bundle was saved",
            expected="the integrity checksum recorded when saving",
            got="a different content",
            fix="restore the original config.json or re-save the bundle with spectrakit",
        )
    return config


def verify(bundle_dir: str | Path) -> dict:
    """Validate a bundle completely: config, file list, extensions, checksums.

    Returns
    -------
    dict
        The validated configuration.
    """
    bundle_dir = Path(bundle_dir)
    config = read_config(bundle_dir)
    recorded = config["files"]
    for name in (WEIGHTS, CARD):
        if name not in recorded:
            raise BundleError(f"bundle does not record {name}", fix="re-save the bundle")
    for entry in sorted(bundle_dir.iterdir()):
        name = entry.name
        if name == CONFIG:
            continue
        if entry.is_symlink() or not entry.is_file():
            raise BundleError(
                f"unexpected entry {name!r} in the bundle",
                expected="regular files only",
                got="a directory or link",
                fix="remove it",
            )
        if not name.endswith(ALLOWED_SUFFIXES) or name not in recorded:
            raise BundleError(
                f"unexpected file {name!r} in the bundle",
                expected="only files recorded in config.json (" + ", ".join(sorted(recorded)) + ")",
                got=name,
                fix="remove the file; bundles never load pickles, checkpoints or code",
            )
    for name, digest in recorded.items():
        _check_name(name)
        path = bundle_dir / name
        if not path.is_file():
            raise BundleError(f"bundle file {name} is missing", fix="restore the bundle")
        if _sha256_file(path) != digest:
            raise BundleError(
                f"bundle file {name} does not match its checksum",
                expected=digest[:16] + "...",
                got=_sha256_file(path)[:16] + "...",
                fix="the file was altered or corrupted; restore the bundle",
            )
    return config


def open_bundle(path: str | Path) -> tuple[Path, Any]:
    """Bundle directory for ``path``; a .zip is unpacked safely into a temporary directory."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        from spectrakit.bundle.archive import unpack_bundle

        holder = tempfile.TemporaryDirectory(prefix="spectrakit-bundle-")
        return unpack_bundle(path, Path(holder.name) / "bundle"), holder
    return path, None


def load_model(path: str | Path) -> tuple[Any, dict]:
    """Rebuild the model of a bundle with its weights.

    Returns
    -------
    model : SpectralModel
        In eval mode, on CPU.
    config : dict
        The validated configuration.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from spectrakit import models

    bundle_dir, _holder = open_bundle(path)
    config = verify(bundle_dir)
    spec = config["model"]
    try:
        model = models.create(spec["name"], **spec["kwargs"])
    except SpectraError as exc:
        raise BundleError(
            "the bundle's model cannot be built",
            expected="a model name and hyper-parameters known to this spectrakit",
            got=f"{spec['name']}: {exc}",
            fix="upgrade spectrakit or re-save the bundle",
        ) from exc
    try:
        state = load_file(str(bundle_dir / WEIGHTS))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BundleError("model.safetensors cannot be read", got=str(exc)[:120]) from exc
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad = [
        f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]
    if missing or unexpected or bad:
        got = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing[:3])}" if missing else "",
                f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
                f"wrong shapes (weights vs model) {', '.join(bad[:3])}" if bad else "",
            )
            if part
        )
        raise BundleError(
            "the weights do not fit the model described in config.json",
            expected=f"the tensors of {spec['name']} with its recorded hyper-parameters",
            got=got,
            fix="use the model.safetensors saved with this config.json",
        )
    model.load_state_dict(state)
    model.eval()
    return model, config
