"""The typed content of a bundle's ``config.json``: :class:`BundleConfig`.

``config.json`` is parsed strictly (:mod:`spectrakit.bundle.strict_json`), validated against
the JSON schema shipped with the package (which bounds every size: targets, classes, axis
points, channels, files), its ``integrity`` checksum is checked, and older format versions
are migrated (:func:`migrate`). Every other module reads a bundle through the attributes of
:class:`BundleConfig`; none indexes the raw dictionary.

The ``integrity`` checksum is a plain sha256 of the canonical config: it detects accidents
(a truncated copy, a flipped bit, an editor that changed a value by mistake) but not a
deliberate edit, since anyone can recompute it. Signing (:mod:`spectrakit.bundle.signing`)
detects edits.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from spectrakit.bundle.policy import CONFIG
from spectrakit.bundle.strict_json import dumps_canonical, parse_json, read_json_file
from spectrakit.core.atomic import register_bundle_test
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import BundleError
from spectrakit.core.hashing import sha256_bytes

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TASKS",
    "BundleConfig",
    "ModelSpec",
    "integrity",
    "is_bundle_dir",
    "migrate",
    "parse_config",
]

FORMAT = "spectrakit-bundle"
#: version 2 adds the optional ``signature``; version 1 bundles are migrated on load
FORMAT_VERSION = 2
TASKS = ("regression", "classification", "multilabel", "pretrained")
_SCHEMA_CACHE: list[dict] = []


@dataclass(frozen=True)
class ModelSpec:
    """A model family and the hyper-parameters that rebuild it.

    Parameters
    ----------
    name : str
        Registered family name (:func:`spectrakit.models.create`).
    kwargs : dict
        Keyword arguments of the family.
    """

    name: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BundleConfig:
    """Everything ``config.json`` records, typed.

    Parameters
    ----------
    family : ModelSpec
        Model family and hyper-parameters.
    task : {"regression", "classification", "multilabel", "pretrained"}
    axis : SpectralAxis
        Axis of the raw spectra the model expects (n_points,).
    model_axis : SpectralAxis
        Axis of the model input after preprocessing (L,).
    targets : list of str
        Target column names.
    classes : list of str or None
        Class (or label) names.
    output : dict or None
        :class:`~spectrakit.models.heads.OutputSpec` fields (None for an encoder).
    preprocessing : list of (dict or None)
        One pipeline description per input channel.
    channels : list of dict or None
        Separately measured channels, ``[{"name", "axis"}, ...]``
        (:meth:`~spectrakit.core.channel_set.ChannelLayout.to_list`): the model takes one
        spectrum per channel, each on its own axis; ``axis`` is then their packed axis.
    extra_features : dict
        ``{"names", "mean", "std"}`` of tabular inputs.
    normalize : bool
        Per-spectrum standardization before the model.
    training, metrics, versions : dict
        Training summary and options, recorded metrics, package versions.
    intended_use : str or None
        Sentence of the model card.
    files : dict
        ``{file name: sha256}`` of every other bundle file (the manifest).
    created : str or None
        ISO time of saving.
    signature : dict or None
        ``{"scheme", "key_id", "value"}`` when signed (:mod:`spectrakit.bundle.signing`).
    version : int
        Format version of the file as read; every write stores :data:`FORMAT_VERSION`.
    extra : dict
        Keys this version does not know (kept when the config is written again).
    """

    family: ModelSpec
    task: str
    axis: SpectralAxis
    model_axis: SpectralAxis
    targets: list[str] = field(default_factory=list)
    classes: list[str] | None = None
    output: dict | None = None
    preprocessing: list[dict | None] = field(default_factory=lambda: [None])
    channels: list[dict] | None = None
    extra_features: dict = field(default_factory=lambda: {"names": [], "mean": [], "std": []})
    normalize: bool = False
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    intended_use: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    created: str | None = None
    signature: dict | None = None
    version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ derived views
    @property
    def ood(self) -> bool:
        """Whether the bundle holds an out-of-distribution detector (``ood.json``)."""
        return "ood.json" in self.files

    @property
    def export(self) -> bool:
        """Whether the bundle holds an ONNX export (``model.onnx`` and ``export.json``)."""
        return "model.onnx" in self.files and "export.json" in self.files

    @property
    def card(self) -> bool:
        """Whether the bundle records its model card (``card.md``)."""
        return "card.md" in self.files

    @property
    def transfer(self) -> dict | None:
        """Calibration-transfer correction recorded at training (e.g. slope/bias), if any."""
        value = self.training.get("transfer")
        return value if isinstance(value, dict) else None

    @property
    def recipe(self) -> Any:
        """Training recipe recorded in ``training`` (None when absent)."""
        return self.training.get("recipe")

    @property
    def grid(self) -> Any:
        """Common grid the training data were resampled onto (None when absent)."""
        return self.training.get("grid")

    @property
    def channel_layout(self) -> Any:
        """The :class:`~spectrakit.core.channel_set.ChannelLayout` of measured channels, or None."""
        if not self.channels:
            return None
        from spectrakit.core.channel_set import ChannelLayout

        return ChannelLayout.from_list(self.channels)

    @property
    def n_outputs(self) -> int | None:
        """Targets, classes or labels the head predicts (None for an encoder)."""
        return None if self.output is None else int(self.output.get("n_targets", 0))

    # ------------------------------------------------------------------ conversions
    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to ``config.json`` (without ``integrity``)."""
        out = {
            "format": FORMAT,
            "format_version": self.version,
            "created": self.created,
            "model": {"name": self.family.name, "kwargs": dict(self.family.kwargs)},
            "task": self.task,
            "targets": list(self.targets),
            "classes": None if self.classes is None else list(self.classes),
            "axis": self.axis.to_dict(),
            "model_axis": self.model_axis.to_dict(),
            "output": self.output,
            "preprocessing": list(self.preprocessing),
            "extra_features": self.extra_features,
            "normalize": bool(self.normalize),
            "training": self.training,
            "metrics": self.metrics,
            "versions": self.versions,
            "intended_use": self.intended_use,
            "files": dict(self.files),
            "signature": self.signature,
        }
        if self.channels is not None:  # absent from single-spectrum bundles
            out["channels"] = list(self.channels)
        return {**self.extra, **out}

    def to_json(self) -> bytes:
        """``config.json`` content: :meth:`to_dict` plus its ``integrity`` checksum."""
        body = self.to_dict()
        body["integrity"] = integrity(body)
        return (json.dumps(body, indent=2, allow_nan=False) + "\n").encode("utf-8")

    def signed_message(self) -> bytes:
        """Canonical bytes a signature covers.

        That is the config without ``signature`` and ``integrity``, hence every file
        through its recorded sha256.
        """
        body = self.to_dict()
        body.pop("signature", None)
        return dumps_canonical(body)

    def replace(self, **changes: Any) -> BundleConfig:
        """A copy with ``changes`` (see :func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BundleConfig:
        """Build from a schema-valid, migrated config object."""
        known = {f.name for f in dataclasses.fields(cls)} | {"model", "format", "format_version"}
        model = raw["model"]
        return cls(
            family=ModelSpec(str(model["name"]), dict(model.get("kwargs") or {})),
            task=raw["task"],
            axis=_axis(raw["axis"], "axis"),
            model_axis=_axis(raw["model_axis"], "model_axis"),
            targets=list(raw.get("targets") or []),
            classes=None if raw.get("classes") is None else list(raw["classes"]),
            output=raw.get("output"),
            preprocessing=list(raw.get("preprocessing") or [None]),
            channels=None if raw.get("channels") is None else list(raw["channels"]),
            extra_features=raw.get("extra_features") or {"names": [], "mean": [], "std": []},
            normalize=bool(raw.get("normalize", False)),
            training=dict(raw.get("training") or {}),
            metrics=dict(raw.get("metrics") or {}),
            versions=dict(raw.get("versions") or {}),
            intended_use=raw.get("intended_use"),
            files=dict(raw["files"]),
            created=raw.get("created"),
            signature=raw.get("signature"),
            version=int(raw["format_version"]),
            extra={k: v for k, v in raw.items() if k not in known | {"integrity"}},
        )

    # ------------------------------------------------------------------ deprecated access
    def __getitem__(self, key: str) -> Any:
        """Old dictionary access (``config["task"]``), kept for one release."""
        import warnings

        warnings.warn(
            f"indexing a bundle config (config[{key!r}]) is deprecated; use its attributes",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Old ``config.get(key)``, kept for one release (see :meth:`__getitem__`)."""
        import warnings

        warnings.warn(
            f"config.get({key!r}) on a bundle config is deprecated; use its attributes",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_dict().get(key, default)


def _axis(value: dict, where: str) -> SpectralAxis:
    from spectrakit.core.errors import SpectraError

    try:
        return SpectralAxis.from_dict(value)
    except (SpectraError, ValueError, TypeError, KeyError) as exc:
        raise BundleError(
            f"config.json: {where} is not a valid spectral axis",
            expected="strictly monotonic finite values with a known unit",
            got=" ".join(str(exc).split())[:120],
            fix="restore the original config.json",
        ) from None


def integrity(body: dict[str, Any]) -> str:
    """Plain sha256 of the canonical config without ``integrity`` (detects accidents only)."""
    return sha256_bytes(dumps_canonical({k: v for k, v in body.items() if k != "integrity"}))


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a config object of any known format version to :data:`FORMAT_VERSION`.

    Version 1 has no ``signature`` field; it gains ``signature: None``. ``format_version``
    keeps the version read (a config is written back as :data:`FORMAT_VERSION`). The input
    is not modified.
    """
    out = dict(raw)
    version = out.get("format_version")
    if version == 1:
        out["signature"] = None
    elif version != FORMAT_VERSION:
        raise BundleError(
            "unsupported bundle format version",
            expected=f"1 to {FORMAT_VERSION}",
            got=repr(version),
            fix="upgrade spectrakit to load this bundle",
        )
    return out


def _schema() -> dict:
    if not _SCHEMA_CACHE:
        text = resources.files("spectrakit").joinpath("schemas/bundle.schema.json")
        _SCHEMA_CACHE.append(json.loads(text.read_text("utf-8")))
    return _SCHEMA_CACHE[0]


def _validator():
    """The schema's validator, built (and the schema itself checked) once per process.

    ``jsonschema.validate`` checks the schema against its meta-schema on every call, which
    cost about 0.2 s per bundle read; the validation of the config is the same.
    """
    if len(_SCHEMA_CACHE) < 2:
        import jsonschema

        schema = _schema()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _SCHEMA_CACHE.append(cls(schema))
    return _SCHEMA_CACHE[1]


#: (path, most items, item type) of the long arrays of a config, checked in one fast pass
#: before the schema (which then sees a one-item stand-in); the schema states the same bounds
_ARRAYS: tuple[tuple[tuple[str, ...], int, str], ...] = (
    (("axis", "values"), 1_000_000, "number"),
    (("model_axis", "values"), 1_000_000, "number"),
    (("output", "target_mean"), 100_000, "number"),
    (("output", "target_std"), 100_000, "number"),
    (("output", "thresholds"), 100_000, "number"),
    (("output", "target_min"), 100_000, "bound"),
    (("output", "target_max"), 100_000, "bound"),
    (("extra_features", "mean"), 100_000, "number"),
    (("extra_features", "std"), 100_000, "number"),
    (("extra_features", "names"), 100_000, "name"),
    (("targets",), 100_000, "name"),
    (("classes",), 100_000, "name"),
)
_ITEM_TYPES = {"number": (int, float), "name": (str,), "bound": (int, float, type(None))}


def _schema_error(where: str, message: str) -> BundleError:
    return BundleError(
        "config.json does not follow the bundle schema",
        expected=f"a valid value at {where}",
        got=" ".join(message.split())[:160],
        fix="restore the original config.json or re-save the bundle",
    )


def _check_array(value: Any, where: str, limit: int, kind: str) -> Any:
    """``value`` checked as a list of at most ``limit`` items of ``kind``; a stand-in back."""
    if not isinstance(value, list):
        return value  # not a list: the schema reports it
    if len(value) > limit:
        raise _schema_error(where, f"{len(value)} items, more than the limit of {limit}")
    types = {type(v) for v in value}
    if not types <= set(_ITEM_TYPES[kind]):
        found = sorted(t.__name__ for t in types)
        raise _schema_error(where, f"items must be {kind}s, got {found}")
    if kind == "name" and any(len(v) > 1000 for v in value):
        raise _schema_error(where, "a name longer than 1000 characters")
    return value[:1]


def _without_long_arrays(raw: dict) -> dict:
    """A copy of ``raw`` whose long arrays are checked here and cut to one item."""
    out = dict(raw)
    for path, limit, kind in _ARRAYS:
        parent = out
        for key in path[:-1]:
            if not isinstance(parent.get(key), dict):
                parent = None
                break
            parent[key] = parent = dict(parent[key])
        if parent is not None and path[-1] in parent:
            where = "/".join(path)
            parent[path[-1]] = _check_array(parent[path[-1]], where, limit, kind)
    return out


def _validate_schema(raw: Any) -> None:
    import jsonschema

    if isinstance(raw, dict):
        raw = _without_long_arrays(raw)
    try:
        error = jsonschema.exceptions.best_match(_validator().iter_errors(raw))
        if error is not None:
            raise error
    except jsonschema.ValidationError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "(top level)"
        raise _schema_error(where, exc.message) from None


def parse_config(data: bytes) -> BundleConfig:
    """Strict parse, schema (with its size bounds), integrity, migration, typing.

    Parameters
    ----------
    data : bytes
        Content of ``config.json``.

    Raises
    ------
    BundleError
        One line naming the rule the content breaks.
    """
    raw = parse_json(data, "config.json")
    _validate_schema(raw)
    if raw["integrity"] != integrity(raw):
        raise BundleError(
            "config.json was modified after the bundle was saved",
            expected="the integrity checksum recorded when saving",
            got="a different content",
            fix="restore the original config.json or re-save the bundle with spectrakit",
        )
    return BundleConfig.from_dict(migrate(raw))


def package_versions() -> dict[str, str]:
    """Versions of Python and the main packages, recorded in every bundle."""
    out = {"python": platform.python_version()}
    for pkg in ("spectrakit", "torch", "lightning", "numpy", "scipy", "scikit-learn"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def now_iso() -> str:
    """Current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@register_bundle_test
def is_bundle_dir(path: str | os.PathLike) -> bool:
    """True for a folder that holds exactly a spectrakit bundle (its config + recorded files).

    A bundle folder holding anything else (a user's notes) is not one: replacing it would
    lose that file. Nor is a link, or a folder whose config is a link, oversized, not strict
    JSON or not a bundle's. Registered with
    :func:`spectrakit.core.atomic.register_bundle_test`: the default output policy of
    :func:`~spectrakit.core.atomic.atomic_dir` replaces only what this recognises.
    """
    path = Path(path)
    try:
        if path.is_symlink() or not (path / CONFIG).is_file():
            return False
        data = read_json_file(path / CONFIG)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return False
        files = data.get("files")
        recorded = set(files) if isinstance(files, dict) else set()
        return all(e.name == CONFIG or e.name in recorded for e in path.iterdir())
    except (OSError, ValueError, RecursionError, BundleError):
        return False
