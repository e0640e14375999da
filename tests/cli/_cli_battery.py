"""A battery of bad command lines over every command, run in-process.

Each case is a command line that must fail with one clear line: exit code 2, exactly one
line on standard error, no traceback, nothing written and no existing file changed. The
workspace holds good inputs, damaged files and existing outputs (a user's file and
folder) that no command may touch.

Used by ``tests/cli/test_bad_input_battery.py`` and ``benchmarks/bad_inputs.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import traceback
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: cases whose fix belongs to the training options (typed training configuration)
TRAINING_OPTIONS = "training options"
#: cases whose fix belongs to the registry store
STORE = "registry store"
#: cases whose fix belongs to the bundle reader
BUNDLE = "bundle reader"


@dataclass(frozen=True)
class Case:
    """One bad command line; ``owner`` names the part of spectrakit that must refuse it
    when it is not the command-line layer itself."""

    name: str
    argv: tuple[str, ...]
    owner: str = ""


@dataclass
class Outcome:
    """What one case did."""

    case: Case
    code: int | None
    stderr: str
    changed: list[str] = field(default_factory=list)  # existing files changed or removed
    created: list[str] = field(default_factory=list)  # new files written

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def traceback(self) -> bool:
        return self.code is None or "Traceback" in self.stderr

    @property
    def internal(self) -> bool:
        """The last-resort line of an unexpected exception (exit 1, no traceback)."""
        return self.code == 1 and not self.traceback

    @property
    def silent(self) -> bool:
        return self.code == 0

    @property
    def clear(self) -> bool:
        return (
            self.code == 2
            and len(self.lines) == 1
            and not self.traceback
            and not self.internal
            and not self.changed
            and not self.created
        )

    def describe(self) -> str:
        return (
            f"{self.case.name}: code {self.code}, {len(self.lines)} stderr line(s), "
            f"changed {self.changed}, created {self.created}: {self.stderr.strip()[-600:]}"
        )


# ---------------------------------------------------------------------- workspace
def write_table(path: Path, n: int = 24, *, start: float = 1000.0, points: int = 40) -> Path:
    """A labelled table: ``y`` (numeric), ``label`` (2 classes), ``flat`` (constant), ``one``
    (a single class), ``sample`` ids, and ``points`` axis columns from ``start``."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, points)).cumsum(axis=1)
    frame = pd.DataFrame(x, columns=[f"{start + i:g}" for i in range(points)])
    frame.insert(0, "y", 2 * x[:, 5] + 0.1 * rng.normal(size=n))
    frame.insert(0, "label", ["a", "b"] * (n // 2))
    frame.insert(0, "flat", 1.5)
    frame.insert(0, "one", "a")
    frame.insert(0, "sample", [f"s{i}" for i in range(n)])
    frame.to_csv(path, index=False)
    return path


def _damaged_zips(root: Path, bundle: Path) -> None:
    members = sorted(p for p in bundle.iterdir() if p.is_file())
    with zipfile.ZipFile(root / "model.zip", "w", zipfile.ZIP_STORED) as zf:
        for p in members:
            zf.write(p, p.name)
    data = bytearray((root / "model.zip").read_bytes())
    with zipfile.ZipFile(root / "model.zip") as zf:
        info = zf.getinfo("model.safetensors")
    body = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size // 2
    crc = bytearray(data)
    crc[body] ^= 0xFF
    (root / "crc.zip").write_bytes(bytes(crc))
    (root / "short.zip").write_bytes(bytes(data[: len(data) // 2]))
    with zipfile.ZipFile(root / "dot.zip", "w") as zf:
        zf.writestr(".", b"x")
        zf.writestr("config.json", (bundle / "config.json").read_bytes())
    with zipfile.ZipFile(root / "empty_name.zip", "w") as zf:
        zf.writestr(zipfile.ZipInfo(""), b"x")


def _damaged_bundles(root: Path, bundle: Path) -> None:
    for name in ("corrupt", "nested", "nan", "forged", "pickled"):
        shutil.copytree(bundle, root / f"{name}_bundle")
    (root / "corrupt_bundle" / "config.json").write_text("{not json")
    (root / "nested_bundle" / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    config = json.loads((bundle / "config.json").read_text())
    config["metrics"] = {"rmse": 1.0}
    text = json.dumps(config).replace('"rmse": 1.0', '"rmse": NaN')
    (root / "nan_bundle" / "config.json").write_text(text)
    weights = root / "forged_bundle" / "model.safetensors"
    weights.write_bytes(os.urandom(weights.stat().st_size))
    (root / "pickled_bundle" / "evil.pkl").write_bytes(b"\x80\x04K\x01.")


def _damaged_files(root: Path) -> None:
    rng = np.random.default_rng(1)
    (root / "empty.csv").write_text("")
    (root / "garbage.h5").write_bytes(rng.bytes(4096))
    (root / "garbage.spc").write_bytes(rng.bytes(2048))
    (root / "text_as.parquet").write_text("sample,1,2\na,1,2\n")
    (root / "broken.yaml").write_text("steps: [snv, {step: savgol\n")
    np.savez(root / "objects.npz", values=np.array([{"a": 1}], dtype=object))
    with zipfile.ZipFile(root / "member.npz", "w") as zf:
        zf.writestr("values.npy", b"not an array")
    (root / "nested.json").write_text("[" * 100_000 + "]" * 100_000)


def build_workspace(root: Path) -> Path:
    """Good inputs, a trained bundle (PLS, seconds), damaged files and existing outputs."""
    from spectrakit.cli import main

    root.mkdir(parents=True, exist_ok=True)
    write_table(root / "d.csv")
    write_table(root / "other_axis.csv", start=2000.0)
    with _in(root), _quiet():
        argv = ["finetune", "--model", "pls", "--data", "d.csv", "--target", "y"]
        assert main([*argv, "--ood", "none", "--out", "model"]) == 0
        assert main(["registry", "--root", "reg", "push", "model", "--name", "m"]) == 0
    _damaged_zips(root, root / "model")
    _damaged_bundles(root, root / "model")
    _damaged_files(root)
    (root / "afile.txt").write_text("precious")
    for name in ("old.csv", "old.png", "old.zip", "old.json", "old.yaml"):
        (root / name).write_text("precious")
    user = root / "userdir"
    user.mkdir()
    (user / "precious.txt").write_text("precious")
    return root


# ---------------------------------------------------------------------- running
@contextlib.contextmanager
def _in(folder: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def exit_status(argv: list[str]) -> int:
    """The exit status of ``spectrakit ARGV`` in-process (argparse exits, commands return)."""
    from spectrakit.cli import main

    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2


def snapshot(root: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``root`` (folders as ``/``)."""
    tree = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        tree[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "/"
    return tree


def _remove_new(root: Path, created: list[str]) -> None:
    for rel in sorted(created, key=len, reverse=True):
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def run_case(case: Case, root: Path) -> Outcome:
    """Run one case in-process in ``root``; new files it wrote are removed afterwards."""
    from spectrakit.cli import main

    before = snapshot(root)
    err = io.StringIO()
    with (
        _in(root),
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            code: int | None = main(list(case.argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:  # an exception escaped the command line
            code = None
            err.write(traceback.format_exc())
    after = snapshot(root)
    changed = [p for p, digest in before.items() if after.get(p) != digest]
    created = [p for p in after if p not in before]
    _remove_new(root, created)
    return Outcome(case, code, err.getvalue(), changed, created)


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    """Counts: tried, clear errors, tracebacks, internal errors (one line, exit 1), silent
    wrong (exit 0), data lost (an existing file changed), partial outputs (a file written)."""
    return {
        "tried": len(outcomes),
        "clear errors": sum(o.clear for o in outcomes),
        "tracebacks": sum(o.traceback for o in outcomes),
        "internal errors": sum(o.internal for o in outcomes),
        "silent wrong": sum(o.silent for o in outcomes),
        "data lost": sum(bool(o.changed) for o in outcomes),
        "partial outputs": sum(bool(o.created) for o in outcomes),
    }


# ---------------------------------------------------------------------- cases
def _c(name: str, line: str, owner: str = "") -> Case:
    return Case(name, tuple(line.split()), owner)


_FT = "finetune --data d.csv --target y --out ft"
_BL = "baseline pls --data d.csv --target y"
_BM = "benchmark --data d.csv --target y --models pls"
_EV = "evaluate --model model --data d.csv"
_EX = "explain --model model --data d.csv --method saliency --out ex"
_SV = "serve --model model"
_PP = "preprocess d.csv --pipeline snv --out p.csv"

_READERS = [
    ("missing file", "missing.csv"),
    ("empty file", "empty.csv"),
    ("random bytes as HDF5", "garbage.h5"),
    ("random bytes as SPC", "garbage.spc"),
    ("text as Parquet", "text_as.parquet"),
    ("npz with an object array", "objects.npz"),
    ("npz member that is no array", "member.npz"),
    ("an empty folder", "userdir"),
]
#: bundles the bundle reader must refuse with one line (name: owner when not the CLI)
_BUNDLE_OWNERS = {"nan_bundle": BUNDLE, "dot.zip": BUNDLE, "empty_name.zip": BUNDLE}
_BUNDLES = [
    ("missing bundle", "nomodel"),
    ("a CSV as bundle", "d.csv"),
    ("config.json not JSON", "corrupt_bundle"),
    ("config.json nested 100,000 deep", "nested_bundle"),
    ("NaN literal in config.json", "nan_bundle"),
    ("forged weights", "forged_bundle"),
    ("a pickle in the bundle", "pickled_bundle"),
    ("zip with a CRC error", "crc.zip"),
    ("truncated zip", "short.zip"),
    ("zip member named '.'", "dot.zip"),
    ("zip member named ''", "empty_name.zip"),
]


def _reader_cases() -> list[Case]:
    cases = []
    for what, path in _READERS:
        cases.append(_c(f"info: {what}", f"info {path}"))
        cases.append(_c(f"convert: {what}", f"convert {path} out.csv"))
        cases.append(_c(f"preprocess: {what}", f"preprocess {path} --out p.csv"))
    return cases


def _bundle_cases() -> list[Case]:
    cases = []
    for what, path in _BUNDLES:
        owner = _BUNDLE_OWNERS.get(path, "")
        cases.append(_c(f"predict: {what}", f"predict --model {path} --data d.csv", owner))
        cases.append(_c(f"evaluate: {what}", f"evaluate --model {path} --data d.csv", owner))
        cases.append(_c(f"serve: {what}", f"serve --model {path}", owner))
    for what, path in _BUNDLES[2:7]:
        line = f"export --model {path} --format zip --out x.zip"
        cases.append(_c(f"export: {what}", line, _BUNDLE_OWNERS.get(path, "")))
        line = f"registry --root reg push {path} --name z"
        cases.append(_c(f"registry push: {what}", line, STORE))
    return cases


def _output_cases() -> list[Case]:
    """Existing outputs: a user's file or folder, the working folder, clashing outputs."""
    lines = {
        "finetune --out userdir": f"{_FT}2 --out userdir",
        "finetune --out afile.txt": f"{_FT}2 --out afile.txt",
        "finetune --out .": f"{_FT}2 --out .",
        "pretrain --out userdir": "pretrain --data d.csv --out userdir",
        "pretrain --out afile.txt": "pretrain --data d.csv --out afile.txt",
        "explain --out userdir": f"{_EX}2 --out userdir",
        "explain --out afile.txt": f"{_EX}2 --out afile.txt",
        "explain --out ..": f"{_EX}2 --out ..",
        "registry pull --dest userdir": "registry --root reg pull m --dest userdir",
        "registry pull --dest afile.txt": "registry --root reg pull m --dest afile.txt",
        "registry pull --dest .": "registry --root reg pull m --dest .",
        "preprocess --out old.csv": "preprocess d.csv --out old.csv",
        "preprocess --plot old.png": f"{_PP} --plot old.png",
        "preprocess --save-pipeline old.yaml": f"{_PP} --save-pipeline old.yaml",
        "preprocess --out a folder": "preprocess d.csv --out userdir/../userdir",
        "convert to an existing file": "convert d.csv old.csv",
        "convert to afile.txt": "convert d.csv afile.txt",
        "baseline --out userdir": f"{_BL} --out userdir",
        "baseline --out afile.txt": f"{_BL} --out afile.txt",
        "baseline --save userdir": f"{_BL} --save userdir",
        "baseline --save afile.txt": f"{_BL} --save afile.txt",
        "baseline --out = --save": f"{_BL} --out same --save same",
        "evaluate --out old.json": f"{_EV} --out old.json",
        "evaluate --plots userdir": f"{_EV} --plots userdir",
        "evaluate --plots afile.txt": f"{_EV} --plots afile.txt",
        "evaluate --out = --plots": f"{_EV} --out e --plots e",
        "export --out old.zip": "export --model model --format zip --out old.zip",
        "benchmark --out userdir": f"{_BM} --out userdir",
        "benchmark --out afile.txt": f"{_BM} --out afile.txt",
        "predict --out old.csv": "predict --model model --data d.csv --out old.csv",
        "predict --out userdir": "predict --model model --data d.csv --out userdir",
        "demo --out userdir": "demo --out userdir",
        "info --json old.json": "info d.csv --json old.json",
        "models --json old.json": "models --json old.json",
    }
    return [_c(name, line) for name, line in lines.items()]


def _option_cases() -> list[Case]:
    """Bad numbers, ranges, kinds and names in the options of every command."""
    lines = {
        "preprocess --plot x.xyz": f"{_PP} --plot x.xyz",
        "preprocess --n-plot -5": f"{_PP} --n-plot -5",
        "preprocess --n-plot abc": f"{_PP} --n-plot abc",
        "preprocess --block-size 0": f"{_PP} --block-size 0",
        "preprocess --save-pipeline p.txt": f"{_PP} --save-pipeline p.txt",
        "preprocess --pipeline unknown": "preprocess d.csv --pipeline nosuch --out p.csv",
        "preprocess --pipeline YAML error": "preprocess d.csv --pipeline broken.yaml --out p.csv",
        "preprocess --pipeline nested JSON": "preprocess d.csv --pipeline nested.json --out p.csv",
        "preprocess --out p.spc": "preprocess d.csv --out p.spc",
        "preprocess --laser abc": f"{_PP} --laser abc",
        "preprocess --kind bogus": f"{_PP} --kind bogus",
        "convert to SPC (no writer)": "convert d.csv y.spc",
        "convert to .xyz": "convert d.csv y.xyz",
        "convert --to unknown": "convert d.csv y.csv --to nosuch",
        "convert --to spc": "convert d.csv y.csv --to spc",
        "convert --laser -5": "convert d.csv y.csv --laser -5",
        "info --laser nan": "info d.csv --laser nan",
        "export --opset 1": "export --model model --opset 1",
        "export --opset abc": "export --model model --opset abc",
        "export --rtol -1": "export --model model --rtol -1",
        "export --atol inf": "export --model model --atol inf",
        "export --format zip --out x.txt": "export --model model --format zip --out x.txt",
        "export --format tar": "export --model model --format tar",
        "serve --port 99999": f"{_SV} --port 99999",
        "serve --port -1": f"{_SV} --port -1",
        "serve --port abc": f"{_SV} --port abc",
        "serve --max-body-mb -1": f"{_SV} --max-body-mb -1",
        "serve --max-body-mb nan": f"{_SV} --max-body-mb nan",
        "serve --workers 0": f"{_SV} --workers 0",
        "serve --timeout 0": f"{_SV} --timeout 0",
        "serve --threads 0": f"{_SV} --threads 0",
        "serve --max-spectra 0": f"{_SV} --max-spectra 0",
        "serve --log-level loud": f"{_SV} --log-level loud",
        "predict --batch-size 0": "predict --model model --data d.csv --batch-size 0",
        "predict on another axis": "predict --model model --data other_axis.csv",
        "evaluate --target unknown": f"{_EV} --target nosuch",
        "evaluate --target two for one": f"{_EV} --target y,y",
        "evaluate --sheet on a regression": f"{_EV} --out e.json --sheet sheet",
        "explain --top-k 0": f"{_EX} --top-k 0",
        "explain --max-plots -1": f"{_EX} --max-plots -1",
        "explain --method unknown": f"{_EX} --method nosuch",
        "explain --channels without ip-gradcam": f"{_EX} --channels all",
        "explain --reference missing": f"{_EX} --reference missing.csv",
        "explain --reference damaged": f"{_EX} --reference garbage.h5",
        "registry pull unknown name": "registry --root reg pull nosuch --dest new",
        "registry pull unknown version": "registry --root reg pull m --version 9 --dest new",
        "registry push a bad name": "registry --root reg push model --name bad/name",
        "registry push a bad version": "registry --root reg push model --name m --version ../x",
        "registry push an existing version": "registry --root reg push model --name m --version 1",
    }
    return [_c(name, line) for name, line in lines.items()]


def _model_option_cases() -> list[Case]:
    """Bad options of the commands that fit models (baseline, benchmark, demo)."""
    lines = {
        "baseline --alpha 2": f"{_BL} --alpha 2",
        "baseline --alpha 0": f"{_BL} --alpha 0",
        "baseline --alpha abc": f"{_BL} --alpha abc",
        "baseline --components 0": f"{_BL} --components 0",
        "baseline --lam -1": f"{_BL} --lam -1",
        "baseline --half-width -1": f"{_BL} --half-width -1",
        "baseline --false-rejection 2": f"{_BL} --false-rejection 2",
        "baseline --cv unknown": f"{_BL} --cv nosuch",
        "baseline --cv kfold:1": f"{_BL} --cv kfold:1",
        "baseline --cv none without --test": f"{_BL} --cv none",
        "baseline --test on another axis": f"{_BL} --cv kfold:3 --test other_axis.csv",
        "baseline constant target": "baseline pls --data d.csv --target flat",
        "baseline unknown target": "baseline pls --data d.csv --target nosuch",
        "baseline text target as regression": "baseline pls --data d.csv --target label "
        "--task regression",
        "baseline --transfer pds without standards": f"{_BL} --test d.csv --transfer pds",
        "baseline --calibration without --test": f"{_BL} --calibration d.csv",
        "baseline unknown model": "baseline nosuch --data d.csv --target y",
        "baseline --pipeline unknown": f"{_BL} --pipeline nosuch",
        "baseline --data missing": "baseline pls --data missing.csv --target y",
        "benchmark unknown model": "benchmark --data d.csv --target y --models pls,nosuch",
        "benchmark no models": "benchmark --data d.csv --target y --models ,",
        "benchmark a model twice": "benchmark --data d.csv --target y --models pls,pls",
        "benchmark --epochs 0": f"{_BM} --epochs 0",
        "benchmark --lr -1": f"{_BM} --lr -1",
        "benchmark --batch-size 0": f"{_BM} --batch-size 0",
        "benchmark --seed -1": f"{_BM} --seed -1",
        "benchmark --cv unknown": f"{_BM} --cv nosuch",
        "benchmark constant target": "benchmark --data d.csv --target flat --models pls",
        "benchmark --test on another axis": f"{_BM} --test other_axis.csv",
        "demo --ensemble 0": "demo --ensemble 0",
        "demo --seed abc": "demo --seed abc",
        "unknown command": "nosuchcommand",
        "unknown option": "info d.csv --nosuch",
    }
    return [_c(name, line) for name, line in lines.items()]


def _target_cases() -> list[Case]:
    """``finetune`` refuses targets that cannot teach anything, before training."""
    lines = {
        "finetune constant target": "finetune --data d.csv --target flat --out ft",
        "finetune single class": "finetune --data d.csv --target one --out ft "
        "--task classification",
        "finetune text target as regression": "finetune --data d.csv --target label --out ft "
        "--task regression",
        "finetune unknown target": "finetune --data d.csv --target nosuch --out ft",
        "finetune pls constant target": "finetune --model pls --data d.csv --target flat --out ft",
        "finetune missing data": "finetune --data missing.csv --target y --out ft",
        "finetune damaged data": "finetune --data garbage.h5 --target y --out ft",
    }
    return [_c(name, line) for name, line in lines.items()]


def _training_option_cases() -> list[Case]:
    """Training options (typed by the training configuration), checked here too."""
    lines = {
        "finetune --lr abc": f"{_FT} --lr abc",
        "finetune --batch-size 0": f"{_FT} --batch-size 0",
        "finetune --epochs -3": f"{_FT} --epochs -3",
        "finetune --config YAML error": f"{_FT} --config broken.yaml",
        "finetune --val-fraction 1.5": f"{_FT} --val-fraction 1.5",
        "finetune --epochs 0": f"{_FT} --epochs 0",
    }
    return [_c(name, line, TRAINING_OPTIONS) for name, line in lines.items()]


def _store_cases() -> list[Case]:
    return [_c("registry --root a file", "registry --root afile.txt list", STORE)]


CASES: list[Case] = [
    *_reader_cases(),
    *_bundle_cases(),
    *_output_cases(),
    *_option_cases(),
    *_model_option_cases(),
    *_target_cases(),
    *_training_option_cases(),
    *_store_cases(),
]
