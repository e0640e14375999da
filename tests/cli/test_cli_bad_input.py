"""The command line on bad input: exit code 2, one line on stderr, never a partial output."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.cli import main
from spectrakit.core.errors import AxisError

TABLE_HEADER = "sample,1000,1001,1002\n"
TEXT_CASES = {
    "empty.csv": "",
    "header_only.csv": TABLE_HEADER,
    "short_row.csv": TABLE_HEADER + "a,1,2,3\nb,1,2\n",
    "long_row.csv": TABLE_HEADER + "a,1,2,3\nb,1,2,3,4\n",
    "text_value.csv": TABLE_HEADER + "a,1,2,3\nb,1,two,3\n",
    "nan_value.csv": TABLE_HEADER + "a,1,2,3\nb,1,nan,3\n",
    "missing_value.csv": TABLE_HEADER + "a,1,2,3\nb,1,,3\n",
    "inf_value.csv": TABLE_HEADER + "a,1,2,3\nb,1,inf,3\n",
    "duplicate_axis.csv": "sample,1000,1000,1002\na,1,2,3\n",
    "unsorted_axis.csv": "sample,1000,1002,1001\na,1,2,3\n",
    "no_spectral_columns.csv": "sample,label\na,b\n",
    "two_column_ragged.csv": "wavenumber,intensity\n100,1\n101\n",
    "two_column_text.txt": "100 1\n101 lots\n",
    "two_column_duplicate.txt": "100 1\n100 2\n",
    "wrong_extension.xyz": TABLE_HEADER + "a,1,2,3\n",
    "text_as.spc": TABLE_HEADER + "a,1,2,3\n",
    "text_as.parquet": TABLE_HEADER + "a,1,2,3\n",
    "text_as.h5": TABLE_HEADER + "a,1,2,3\n",
    "text_as.mat": TABLE_HEADER + "a,1,2,3\n",
    "text_as.npy": TABLE_HEADER + "a,1,2,3\n",
    "text_as.0": TABLE_HEADER + "a,1,2,3\n",
    "binary_as.csv": None,
}
# what the one-line message must mention, so that the user knows what to repair
EXPECTED_WORDS = {
    "empty.csv": "empty",
    "header_only.csv": "no spectra",
    "short_row.csv": "ragged",
    "long_row.csv": "5 fields in line 3",
    "text_value.csv": "non-numeric",
    "nan_value.csv": "NaN",
    "missing_value.csv": "NaN",
    "inf_value.csv": "infinite",
    "duplicate_axis.csv": "duplicate",
    "unsorted_axis.csv": "not monotonic",
    "no_spectral_columns.csv": "non-numeric axis",
    "two_column_ragged.csv": "line 3 has 1 fields",
    "two_column_text.txt": "non-numeric intensity",
    "two_column_duplicate.txt": "duplicate",
    "wrong_extension.xyz": "cannot tell the format",
    "text_as.spc": "not an SPC file",
    "text_as.parquet": "Parquet",
    "text_as.h5": "HDF5",
    "text_as.mat": "MATLAB",
    "text_as.npy": "NumPy",
    "text_as.0": "does not look like",
    "binary_as.csv": "does not look like",
}


def _spectra() -> sk.Spectra:
    x = np.linspace(400.0, 1800.0, 200)
    values = np.exp(-0.5 * ((x[None, :] - np.array([[800.0], [1200.0], [1500.0]])) / 9.0) ** 2)
    return sk.Spectra(values, x, meta={"sample": ["a", "b", "c"]}, unit="cm-1")


def _spc_bytes() -> bytes:
    header = struct.pack(
        "<BBBbIddIBBBBI9s9sH32s130s30sIIBBHf48sfIfB187s",
        0, 0x4B, 0, -128, 200, 400.0, 1800.0, 1, 1, 0, 0, 0, 0, b"", b"", 0, b"", b"", b"",
        0, 0, 0, 0, 0, 0.0, b"", 0.0, 0, 0.0, 0, b"",
    )  # fmt: skip
    sub = struct.pack("<BbHfffIIf4s", 0, -128, 0, 0.0, 0.0, 0.0, 0, 0, 0.0, b"")
    return header + sub + np.ones(200, dtype="<f4").tobytes()


def _opus_bytes() -> bytes:
    status = b""
    for key, kind, payload in (
        ("NPT", 0, struct.pack("<i", 200)),
        ("FXV", 1, struct.pack("<d", 4000.0)),
        ("LXV", 1, struct.pack("<d", 400.0)),
        ("DXU", 2, b"WN\x00\x00"),
    ):
        status += key.encode() + b"\x00" + struct.pack("<hh", kind, len(payload) // 2) + payload
    status += b"END\x00\x00\x00\x00\x00"
    data = np.ones(200, dtype="<f4").tobytes()
    ab, ab_status = 3 | 3 << 2 | 4 << 10, 3 | 3 << 2 | 1 << 4 | 4 << 10
    start = 24 + 2 * 12
    directory = struct.pack("<3i", ab, len(data) // 4, start) + struct.pack(
        "<3i", ab_status, len(status) // 4, start + len(data)
    )
    header = b"\x0a\x0a\xfe\xfe" + struct.pack("<d", 920622.0) + struct.pack("<3i", 24, 2, 2)
    return header + directory + data + status


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    for name, text in TEXT_CASES.items():
        path = tmp_path / name
        if text is None:
            path.write_bytes(bytes(range(256)) * 8)
        else:
            path.write_text(text)
    good = _spectra()
    for name in ("good.parquet", "good.h5"):
        sk.io.write(good, tmp_path / name)
    np.save(tmp_path / "good.npy", np.asarray(good.values))
    (tmp_path / "good.spc").write_bytes(_spc_bytes())
    (tmp_path / "good.0").write_bytes(_opus_bytes())
    for name in ("good.parquet", "good.h5", "good.npy", "good.spc", "good.0"):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name.replace("good", "truncated")).write_bytes(data[: len(data) // 2])
    return tmp_path


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def _assert_one_line(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_good_binaries_are_readable(bad_files, capsys):
    # the truncated files below are cut from these: the failures are about truncation only
    for name in ("good.parquet", "good.h5", "good.npy", "good.spc", "good.0"):
        code, err = _run(["info", str(bad_files / name)], capsys)
        assert code == 0, err


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_info_one_line_per_bad_file(bad_files, capsys, name):
    if name in ("missing_value.csv", "nan_value.csv"):  # info counts NaN, not refuses
        code, _ = _run(["info", str(bad_files / name)], capsys)
        assert code == 0
        line = _assert_one_line(
            *_run(["convert", str(bad_files / name), str(bad_files / "x.npz")], capsys)
        )
        assert EXPECTED_WORDS[name] in line, line
        return
    line = _assert_one_line(*_run(["info", str(bad_files / name)], capsys))
    assert line.startswith("spectrakit info: error: ")
    assert EXPECTED_WORDS[name] in line, line
    assert name in line or "no such" in line


@pytest.mark.parametrize("suffix", ["parquet", "h5", "npy", "spc", "0"])
def test_truncated_binary(bad_files, capsys, suffix):
    line = _assert_one_line(*_run(["info", str(bad_files / f"truncated.{suffix}")], capsys))
    assert "truncated" in line or "not a readable" in line, line


def test_mismatched_axes_between_files(tmp_path, capsys):
    folder = tmp_path / "instruments"
    folder.mkdir()
    (folder / "a.csv").write_text("100,1\n101,2\n102,3\n")
    (folder / "b.csv").write_text("200,1\n202,2\n204,3\n")
    assert main(["info", str(folder)]) == 0  # one summary per block
    shown = capsys.readouterr().out
    assert "[a" in shown and "[b" in shown
    out = tmp_path / "out.csv"
    line = _assert_one_line(*_run(["convert", str(folder), str(out)], capsys))
    assert "do not overlap" in line
    assert not out.exists()
    blocks = sk.read_blocks(folder)
    with pytest.raises(AxisError, match="do not overlap"):
        sk.combine(list(blocks.values()))
    with pytest.raises(AxisError, match="different axis"):
        sk.Spectra.concat(list(blocks.values()))


def _siblings(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    "name",
    sorted(TEXT_CASES) + [f"truncated.{s}" for s in ("parquet", "h5", "npy", "spc", "0")],
)
def test_failing_convert_leaves_no_output(bad_files, capsys, name):
    before = _siblings(bad_files)
    out = bad_files / "converted.parquet"
    _assert_one_line(*_run(["convert", str(bad_files / name), str(out)], capsys))
    assert not out.exists()
    assert _siblings(bad_files) == before  # no temporary file left behind either


def test_failing_write_keeps_existing_output(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("values,1000,1001\na,1,2\n")  # 'values' clashes with the .npz layout
    out = tmp_path / "out.npz"
    out.write_bytes(b"previous result")
    # without --overwrite the existing file is refused before any work
    assert "already exists" in _assert_one_line(*_run(["convert", str(src), str(out)], capsys))
    line = _assert_one_line(*_run(["convert", str(src), str(out), "--overwrite"], capsys))
    assert "clash" in line
    assert out.read_bytes() == b"previous result"
    assert _siblings(tmp_path) == {"in.csv", "out.npz"}

    bad = tmp_path / "bad.csv"
    bad.write_text(TABLE_HEADER + "a,1,2\n")
    _assert_one_line(*_run(["convert", str(bad), str(out), "--overwrite"], capsys))
    assert out.read_bytes() == b"previous result"


def test_failing_folder_write_keeps_nothing(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text(TABLE_HEADER + "a,1,2,3\nb,4,5,6\n")
    out = tmp_path / "one.txt"
    line = _assert_one_line(*_run(["convert", str(src), str(out), "--to", "long"], capsys))
    assert "one spectrum" in line
    assert _siblings(tmp_path) == {"in.csv"}


def test_convert_works_on_good_input(tmp_path, capsys):
    src = tmp_path / "in.csv"
    sk.io.write(_spectra(), src)
    out = tmp_path / "out.jdx"
    code, err = _run(["convert", str(src), str(out)], capsys)
    assert code == 0, err
    np.testing.assert_allclose(sk.read(out).values, _spectra().values, rtol=1e-6)


def test_subprocess_console_script_and_module(bad_files):
    script = Path(sys.executable).with_name("spectrakit")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "spectrakit"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for cmd in (command, [sys.executable, "-m", "spectrakit"]):
        proc = subprocess.run(
            [*cmd, "convert", str(bad_files / "long_row.csv"), str(bad_files / "x.csv")],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            "spectrakit convert: error: long_row.csv: ragged rows: expected 4 fields per row "
            "(as in the header), got 5 fields in line 3. Fix: repair the row with extra fields"
        ]
        assert not (bad_files / "x.csv").exists()
