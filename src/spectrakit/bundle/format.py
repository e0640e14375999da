"""Model bundles: one portable directory that holds everything inference needs.

Layout::

    config.json                 typed by BundleConfig: model family + kwargs, task,
                                targets/classes, axes, preprocessing, output scaling,
                                training summary, metrics, versions, ``files`` (sha256 of
                                every other file), optional ``signature`` and ``integrity``
    model.safetensors           weights
    preprocessing.safetensors   fitted preprocessing state (when any)
    card.md                     human-readable model card
    ood.json, ood.safetensors   optional out-of-distribution detector
    model.onnx, export.json     optional, after export

:class:`Bundle` is the one reader and writer. Loading never executes code: ``config.json``
is parsed strictly and validated against a bounded JSON schema, every file must follow the
file policy (:mod:`spectrakit.bundle.policy`) and match its recorded checksum, safetensors
headers are checked against their bytes (:mod:`spectrakit.bundle.tensors`), and the model is
first built on PyTorch's ``meta`` device so a forged config cannot make loading allocate
more than the weights it ships with. The checksums only detect accidents; a signature
(:mod:`spectrakit.bundle.signing`) detects edits.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.bundle.card import render_card
from spectrakit.bundle.config import (
    FORMAT_VERSION,
    BundleConfig,
    ModelSpec,
    now_iso,
    package_versions,
    parse_config,
)
from spectrakit.bundle.policy import (
    CONFIG,
    check_file_name,
    check_regular_file,
    is_allowed_name,
)
from spectrakit.bundle.strict_json import read_bytes_checked, read_json_file
from spectrakit.core.atomic import atomic_dir, atomic_path, umask
from spectrakit.core.errors import BundleError, ConfigError
from spectrakit.core.hashing import sha256_bytes, sha256_file

__all__ = [
    "CARD",
    "CONFIG",
    "PREPROCESSING",
    "WEIGHTS",
    "Bundle",
    "add_file",
    "load_model",
    "open_bundle",
    "read_config",
    "save",
    "update_metrics",
    "verify",
]

WEIGHTS = "model.safetensors"
PREPROCESSING = "preprocessing.safetensors"
CARD = "card.md"
_SAVE_FIELDS = (
    "model_axis",
    "targets",
    "classes",
    "output",
    "extra_features",
    "normalize",
    "training",
    "metrics",
    "intended_use",
)


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


class Bundle:
    """A model bundle on disk: its typed config and every file, read and written safely.

    Parameters
    ----------
    path : path-like
        Bundle directory, or a ``.zip`` of one (unpacked safely into a private temporary
        folder that lives as long as this object).

    Attributes
    ----------
    path : Path
        The bundle directory (the unpacked folder for a zip).
    source : Path
        The path given.

    Examples
    --------
    >>> b = Bundle("runs/glucose")  # doctest: +SKIP
    >>> b.verify().family.name  # doctest: +SKIP
    'cnn1d'
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.source = Path(path)
        self.path = self.source
        self._holder: Any = None
        self._config: BundleConfig | None = None
        if self.source.is_file() and self.source.suffix.lower() == ".zip":
            from spectrakit.bundle.archive import unpack_bundle

            self._holder = tempfile.TemporaryDirectory(prefix="spectrakit-bundle-")
            self.path = unpack_bundle(self.source, Path(self._holder.name) / "bundle")

    def __repr__(self) -> str:
        return f"Bundle({str(self.source)!r})"

    @staticmethod
    def is_bundle(path: str | os.PathLike) -> bool:
        """Whether ``path`` is a folder holding a ``config.json`` (not checked further)."""
        path = Path(path)
        return path.is_dir() and (path / CONFIG).is_file()

    # ------------------------------------------------------------------ reading
    @property
    def config(self) -> BundleConfig:
        """The validated config (read once; files other than ``config.json`` unchecked)."""
        if self._config is None:
            self._config = self.read_config()
        return self._config

    def read_config(self) -> BundleConfig:
        """Parse ``config.json`` strictly (schema, bounds, integrity, migration)."""
        path = self.path / CONFIG
        if not self.path.is_dir() or not (path.is_file() or path.is_symlink()):
            raise BundleError(
                f"{self.source} is not a model bundle",
                expected=f"a directory with {CONFIG}",
                got="missing" if not self.source.exists() else f"no {CONFIG}",
                fix="pass the directory written by 'spectrakit finetune' or 'pretrain'",
            )
        self._config = parse_config(read_bytes_checked(path, CONFIG))
        return self._config

    def verify(self) -> BundleConfig:
        """Check everything: config, file policy, no unrecorded entry, every checksum."""
        config = self.read_config()
        for name in (WEIGHTS, CARD):
            if name not in config.files:
                raise BundleError(f"bundle does not record {name}", fix="re-save the bundle")
        for entry in sorted(self.path.iterdir()):
            if entry.name == CONFIG:
                continue
            check_regular_file(entry, where=str(self.source))
            if not is_allowed_name(entry.name) or entry.name not in config.files:
                raise BundleError(
                    f"unexpected file {entry.name!r} in the bundle",
                    expected="only files recorded in config.json ("
                    + ", ".join(sorted(config.files))
                    + ") with allowed names",
                    got=entry.name,
                    fix="remove the file; bundles never load pickles, checkpoints or code",
                )
        for name, digest in config.files.items():
            check_file_name(name, where=str(self.source))
            check_regular_file(self.path / name, where=str(self.source))
            actual = sha256_file(self.path / name)
            if actual != digest:
                raise BundleError(
                    f"bundle file {name} does not match its checksum",
                    expected=digest[:16] + "...",
                    got=actual[:16] + "...",
                    fix="the file was altered or corrupted; restore the bundle",
                )
        return config

    def has(self, name: str) -> bool:
        """Whether ``name`` is a file recorded in the config."""
        return name in self.config.files

    def file(self, name: str) -> Path:
        """Path of a recorded, regular bundle file."""
        if not self.has(name):
            raise BundleError(f"bundle {self.source} has no {name}", fix="re-save the bundle")
        check_regular_file(self.path / name, where=str(self.source))
        return self.path / name

    def read_json(self, name: str) -> Any:
        """A recorded JSON file, parsed strictly."""
        return read_json_file(self.file(name), name)

    def read_arrays(self, name: str, *, finite: bool = False) -> dict[str, np.ndarray]:
        """A recorded safetensors file as NumPy arrays, its header checked first."""
        from spectrakit.bundle.tensors import read_arrays

        return read_arrays(self.file(name), name, finite=finite)

    def card_text(self) -> str | None:
        """The model card (markdown) when recorded, else None."""
        if not self.has(CARD):
            return None
        return self.file(CARD).read_text(encoding="utf-8", errors="replace")

    def preprocessing_state(self) -> dict[str, np.ndarray] | None:
        """Fitted preprocessing arrays, or None when the bundle has none."""
        return self.read_arrays(PREPROCESSING, finite=True) if self.has(PREPROCESSING) else None

    def preprocessor(self) -> Any:
        """The fitted :class:`~spectrakit.preprocessing.channels.ChannelPreprocessor`.

        It is tried once on a flat spectrum: state arrays that do not fit the pipeline
        (a forged ``preprocessing.safetensors``) are refused here, with one line.
        """
        from spectrakit.bundle.loading import build_preprocessor

        return build_preprocessor(self.config, self.preprocessing_state())

    def load_model(self) -> Any:
        """The model with its weights, in eval mode on CPU (see :mod:`.loading`)."""
        from spectrakit.bundle.loading import build_model

        return build_model(self.config.family, self.file(WEIGHTS))

    # ------------------------------------------------------------------ writing
    def write_config(self, config: BundleConfig) -> BundleConfig:
        """Write ``config`` (current format version, fresh integrity checksum) atomically."""
        config = config.replace(version=FORMAT_VERSION)
        with atomic_path(self.path / CONFIG) as tmp:
            tmp.write_bytes(config.to_json())
        self._config = config
        return config

    def add_file(self, name: str, data: bytes) -> Path:
        """Write ``name`` atomically and record its checksum (a signature is dropped)."""
        check_file_name(name, where=str(self.source))
        if name == CONFIG:
            raise BundleError(f"{CONFIG} is managed by spectrakit", fix="choose another name")
        config = self.read_config()
        target = self.path / name
        with atomic_path(target) as tmp:
            tmp.write_bytes(bytes(data))
        files = {**config.files, name: sha256_bytes(bytes(data))}
        self.write_config(config.replace(files=files, signature=None))
        return target

    def update_metrics(self, metrics: dict) -> BundleConfig:
        """Record ``metrics`` in the config and the model card (checksums updated)."""
        config = self.read_config().replace(metrics=_jsonable(metrics), signature=None)
        card = render_card(config).encode("utf-8")
        with atomic_path(self.path / CARD) as tmp:
            tmp.write_bytes(card)
        files = {**config.files, CARD: sha256_bytes(card)}
        return self.write_config(config.replace(files=files))

    @classmethod
    def write(
        cls, out: str | os.PathLike, config: BundleConfig, model: Any, preprocessor: Any = None
    ) -> Bundle:
        """Write a new bundle directory atomically: weights, preprocessing, card, config.

        Parameters
        ----------
        out : path-like
            Bundle directory (replaced atomically if it exists).
        config : BundleConfig
            Everything but ``files`` (filled in here).
        model : torch.nn.Module
            The model whose ``state_dict`` becomes ``model.safetensors``.
        preprocessor : ChannelPreprocessor, optional
            Fitted preprocessing whose arrays become ``preprocessing.safetensors``.
        """
        from safetensors.numpy import save_file as save_np
        from safetensors.torch import save_file

        out = Path(out)
        with atomic_dir(out) as tmp:
            state = {
                k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()
            }
            save_file(state, str(tmp / WEIGHTS), metadata={"format": "spectrakit-bundle"})
            files = {WEIGHTS: sha256_file(tmp / WEIGHTS)}
            arrays = {} if preprocessor is None else preprocessor.state_arrays()
            if arrays:
                save_np(
                    {k: np.ascontiguousarray(v) for k, v in arrays.items()},
                    str(tmp / PREPROCESSING),
                )
                files[PREPROCESSING] = sha256_file(tmp / PREPROCESSING)
            for name in files:  # safetensors writes 0600: give its files the umask's mode
                os.chmod(tmp / name, 0o666 & ~umask())
            (tmp / CARD).write_text(render_card(config), encoding="utf-8")
            files[CARD] = sha256_file(tmp / CARD)
            (tmp / CONFIG).write_bytes(config.replace(files=files, signature=None).to_json())
        return cls(out)

    # ------------------------------------------------------------------ signing
    def sign(self, key: Any) -> BundleConfig:
        """Sign the verified bundle with ``key`` (see :func:`spectrakit.bundle.signing.sign`)."""
        from spectrakit.bundle.signing import sign_config

        config = self.verify().replace(version=FORMAT_VERSION)
        return self.write_config(sign_config(config, key))

    def check_signature(self, key: Any = None, *, required: bool = False) -> bool:
        """Check the signature against ``key``; see :func:`.signing.check_config`."""
        from spectrakit.bundle.signing import check_config

        return check_config(self.config, key, required=required, where=str(self.source))


# ---------------------------------------------------------------------- function API
def save(
    out: str | Path,
    *,
    model: Any,
    task: str,
    axis: Any,
    preprocessor: Any = None,
    **fields: Any,
) -> Path:
    """Write a bundle directory atomically (see :meth:`Bundle.write`).

    Parameters
    ----------
    out : str or Path
        Bundle directory (replaced atomically if it exists).
    model : SpectralModel
        Model built by :func:`spectrakit.models.create`.
    task : {"regression", "classification", "multilabel", "pretrained"}
    axis : SpectralAxis
        Axis of the raw spectra the model expects (before preprocessing).
    preprocessor : ChannelPreprocessor, optional
        Fitted preprocessing.
    **fields
        Other :class:`BundleConfig` fields: ``model_axis`` (default ``axis``), ``targets``,
        ``classes``, ``output`` (an ``OutputSpec`` as a dict), ``extra_features``,
        ``normalize``, ``training``, ``metrics``, ``intended_use``.

    Returns
    -------
    Path
        The bundle directory.
    """
    from spectrakit.models import model_config

    unknown = sorted(set(fields) - set(_SAVE_FIELDS))
    if unknown:
        raise ConfigError(
            "unknown bundle field", expected=", ".join(_SAVE_FIELDS), got=", ".join(unknown)
        )
    spec = model_config(model)
    classes = fields.get("classes")
    config = BundleConfig(
        family=ModelSpec(spec["name"], spec["kwargs"]),
        task=task,
        axis=axis,
        model_axis=fields.get("model_axis") or axis,
        targets=list(fields.get("targets") or []),
        classes=None if classes is None else [str(c) for c in classes],
        output=fields.get("output"),
        preprocessing=[None] if preprocessor is None else preprocessor.to_config(),
        channels=_channels(preprocessor),
        extra_features=fields.get("extra_features") or {"names": [], "mean": [], "std": []},
        normalize=bool(fields.get("normalize", False)),
        training=_jsonable(fields.get("training") or {}),
        metrics=_jsonable(fields.get("metrics") or {}),
        versions=package_versions(),
        intended_use=fields.get("intended_use"),
        created=now_iso(),
    )
    return Bundle.write(out, config, model, preprocessor).path


def _channels(preprocessor: Any) -> list[dict] | None:
    """The measured-channel layout of ``preprocessor`` (None for one spectrum per sample)."""
    layout = getattr(preprocessor, "layout", None)
    return None if layout is None else layout.to_list()


def read_config(bundle_dir: str | Path) -> BundleConfig:
    """Parse and validate ``config.json`` (schema, bounds, integrity); no other file is read."""
    return Bundle(bundle_dir).read_config()


def verify(bundle_dir: str | Path) -> BundleConfig:
    """Validate a bundle completely (see :meth:`Bundle.verify`)."""
    return Bundle(bundle_dir).verify()


def add_file(bundle_dir: str | Path, name: str, data: bytes) -> Path:
    """Write ``name`` into a bundle and record its checksum (see :meth:`Bundle.add_file`)."""
    return Bundle(bundle_dir).add_file(name, data)


def update_metrics(bundle_dir: str | Path, metrics: dict) -> BundleConfig:
    """Record ``metrics`` in a bundle (see :meth:`Bundle.update_metrics`)."""
    return Bundle(bundle_dir).update_metrics(metrics)


def open_bundle(path: str | Path) -> tuple[Path, Any]:
    """Bundle directory for ``path`` and the holder that keeps an unpacked zip alive."""
    b = Bundle(path)
    return b.path, b._holder


def load_model(path: str | Path) -> tuple[Any, BundleConfig]:
    """The verified model of a bundle and its config."""
    b = Bundle(path)
    config = b.verify()
    return b.load_model(), config
