"""Real files are accepted: rounded axis headers, CSVs that any reader opens, old files."""

from __future__ import annotations

import numpy as np
import pandas as pd

import spectrakit as sk


def test_csv_written_by_spectrakit_opens_with_plain_pandas(tmp_path):
    x = np.linspace(1000.0, 1100.0, 20)
    s = sk.Spectra(np.random.default_rng(0).random((4, 20)), x, meta={"id": list("abcd")})
    sk.io.write(s, tmp_path / "s.csv")
    df = pd.read_csv(tmp_path / "s.csv")
    assert df.shape == (4, 1 + 2 + 20)  # id, axis_unit, axis_kind, 20 points
    assert set(df["axis_unit"]) == {"cm-1"}
    back = sk.read(tmp_path / "s.csv")
    assert list(back.meta.columns) == ["id"]
    assert back.axis.unit == "cm-1" and back.axis.kind == s.axis.kind
    np.testing.assert_array_equal(back.values, s.values)


def test_old_csv_with_a_unit_comment_line_still_reads(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("# spectrakit unit=nm kind=wavelength\nid,500,501,502\na,1,2,3\n")
    s = sk.read(path)
    assert s.axis.unit == "nm" and s.shape == (1, 3)


def test_header_rounded_to_two_decimals_stays_a_uniform_grid(tmp_path):
    x = np.linspace(400.0, 1800.0, 700)  # step 2.00286..., printed as 2.00 / 2.01
    header = ",".join(f"{v:.2f}" for v in x)
    rows = "\n".join(",".join("1" for _ in x) for _ in range(2))
    path = tmp_path / "rounded.csv"
    path.write_text(
        "id,"
        + header
        + "\n"
        + "\n".join(f"s{i},{r[0:]}" for i, r in enumerate(rows.split("\n")))
        + "\n"
    )
    s = sk.read(path)
    assert s.axis.is_uniform
    np.testing.assert_allclose(s.axis.values, x, atol=0.005 + 1e-9)


def test_really_uneven_header_stays_uneven(tmp_path):
    path = tmp_path / "uneven.csv"
    path.write_text("id,400.00,401.00,402.00,404.00\na,1,2,3,4\n")
    s = sk.read(path)
    assert not s.axis.is_uniform
    np.testing.assert_array_equal(s.axis.values, [400.0, 401.0, 402.0, 404.0])
