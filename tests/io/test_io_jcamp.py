"""JCAMP-DX: AFFN, compressed ASDF (SQZ/DIF/DUP), XYPOINTS, PEAK TABLE, multi-block, writer."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit import Spectra
from spectrakit.core.errors import AxisError, FormatError
from spectrakit.io import read, read_blocks, write
from spectrakit.io.formats.jcamp import decode_asdf_line

HEADER = """##TITLE={title}
##JCAMP-DX=4.24
##DATA TYPE=INFRARED SPECTRUM
##XUNITS=1/CM
##YUNITS=ABSORBANCE
##XFACTOR=1
##YFACTOR=0.001
##FIRSTX=100
##LASTX=109
##DELTAX=1
##NPOINTS=10
##XYDATA=(X++(Y..Y))
"""
# The ten ordinates 1000 1000 1000 1010 1025 1040 1040 990 950 950 (x 0.001) in each form
# of JCAMP-DX 4.24 section 5.9: AFFN, PAC, SQZ and DIFDUP (with Y-check values).
EXPECTED = np.array([1000, 1000, 1000, 1010, 1025, 1040, 1040, 990, 950, 950]) * 0.001
TABLES = {
    "AFFN": "100 1000 1000 1000 1010 1025\n105 1040 1040 990 950 950\n",
    "PAC": "100+1000+1000+1000+1010+1025\n105+1040+1040+990+950+950\n",
    "SQZ": "100A000A000A000A010A025\n105A040A040I90I50I50\n",
    "DIFDUP": "100A000%TJ0J5T\n105A040%n0m0%\n109I50\n",
}


@pytest.mark.parametrize("form", list(TABLES))
def test_xydata_forms(tmp_path, form):
    path = tmp_path / f"{form}.jdx"
    path.write_bytes((HEADER.format(title=form) + TABLES[form] + "##END=\n").encode())
    s = read(path)
    np.testing.assert_allclose(s.values[0], EXPECTED, rtol=1e-6)
    assert s.axis.values.tolist() == list(range(100, 110)) and s.axis.unit == "cm-1"
    assert s.meta["title"].tolist() == [form]


def test_decode_line_rules():
    assert decode_asdf_line("100@A0J0%T") == ([100.0, 0.0, 10.0, 20.0, 20.0, 20.0], True)
    # DUP of an absolute value repeats the value; a negative SQZ digit starts a number
    assert decode_asdf_line("1a5T@") == ([1.0, -15.0, -15.0, 0.0], False)
    # an explicit-sign exponent is AFFN; "1E5" without a sign is the SQZ pair 1, 55
    assert decode_asdf_line("10 1.5E+03") == ([10.0, 1500.0], False)
    assert decode_asdf_line("1E5") == ([1.0, 55.0], False)
    assert decode_asdf_line("10A0jj2s") == (
        [10.0, 10.0, 9.0, -3.0] + [-3.0 - 12.0 * k for k in range(1, 9)],
        True,
    )


def test_dif_y_check_failure(tmp_path):
    path = tmp_path / "bad.jdx"
    bad = TABLES["DIFDUP"].replace("105A040", "105A041")
    path.write_text(HEADER.format(title="bad") + bad + "##END=\n")
    with pytest.raises(FormatError, match="Y-check"):
        read(path)


def test_truncated_table(tmp_path):
    path = tmp_path / "cut.jdx"
    path.write_text(HEADER.format(title="cut") + "100 1000 1000 1000 1010 1025\n")
    with pytest.raises(FormatError, match="expected 10 values"):
        read(path)


def test_descending_affn_with_factors(tmp_path):
    x = np.arange(4000.0, 3990.0, -1.0)
    y = np.exp(-0.5 * ((x - 3995.0) / 1.5) ** 2)
    ints = np.round(y * 10000).astype(int)
    body = "".join(
        f"{int(x[i]) * 10} {' '.join(map(str, ints[i : i + 5]))}\n" for i in range(0, 10, 5)
    )
    text = (
        "##TITLE=descending\n##JCAMP-DX=5.01\n##DATA TYPE=INFRARED SPECTRUM\n"
        "##XUNITS=1/CM\n##YUNITS=TRANSMITTANCE\n##XFACTOR=0.1\n##YFACTOR=0.0001\n"
        "##FIRSTX=4000\n##LASTX=3991\n##NPOINTS=10\n##XYDATA=(X++(Y..Y))\n" + body + "##END=\n"
    )
    (tmp_path / "d.jdx").write_text(text)
    s = read(tmp_path / "d.jdx")
    assert s.axis.values[0] == 3991.0
    assert s.axis.values[np.argmax(s.values[0])] == 3995.0
    np.testing.assert_allclose(s.values[0], ints[::-1] * 1e-4, rtol=1e-6)


def test_xypoints_and_peak_table(tmp_path):
    text = (
        "##TITLE=uv\n##JCAMP-DX=5.01\n##DATA TYPE=UV/VIS SPECTRUM\n##XUNITS=NANOMETERS\n"
        "##YUNITS=ABSORBANCE\n##XFACTOR=1\n##YFACTOR=1\n##NPOINTS=4\n"
        "##XYPOINTS=(XY..XY)\n250.5, 0.1; 251.0, 0.4\n251.5, 0.9\n252.0, 0.3\n##END=\n"
    )
    (tmp_path / "uv.jdx").write_text(text)
    s = read(tmp_path / "uv.jdx")
    assert s.axis.unit == "nm" and s.axis.values.tolist() == [250.5, 251.0, 251.5, 252.0]
    np.testing.assert_allclose(s.values[0], [0.1, 0.4, 0.9, 0.3], rtol=1e-6)
    peaks = text.replace("##XYPOINTS=(XY..XY)", "##PEAK TABLE=(XYW..XYW)").replace(
        "250.5, 0.1; 251.0, 0.4\n251.5, 0.9\n252.0, 0.3", "250.5,0.1,1 251.5,0.9,2"
    )
    (tmp_path / "p.jdx").write_text(peaks)
    p = read(tmp_path / "p.jdx")
    assert p.axis.values.tolist() == [250.5, 251.5]
    np.testing.assert_allclose(p.values[0], [0.1, 0.9], rtol=1e-6)


def test_link_blocks_with_different_axes(tmp_path):
    block = (
        "##TITLE={t}\n##JCAMP-DX=5.01\n##BLOCK_ID={i}\n##XUNITS=1/CM\n##YUNITS=ABSORBANCE\n"
        "##FIRSTX={a}\n##LASTX={b}\n##NPOINTS=3\n##XYDATA=(X++(Y..Y))\n{a} 1 2 3\n##END=\n"
    )
    text = (
        "##TITLE=two spectra\n##JCAMP-DX=5.01\n##DATA TYPE=LINK\n##BLOCKS=2\n"
        + block.format(t="first", i=1, a=100, b=102)
        + block.format(t="second", i=2, a=200, b=204)
        + "##END=\n"
    )
    path = tmp_path / "link.jdx"
    path.write_text(text)
    blocks = read_blocks(path)
    assert list(blocks) == ["first", "second"]
    assert blocks["second"].axis.values.tolist() == [200.0, 202.0, 204.0]
    with pytest.raises(AxisError, match="read_blocks"):
        read(path)


def test_round_trip_single_and_multi(tmp_path, raman_like):
    one = tmp_path / "one.jdx"
    write(raman_like[0], one)
    text = one.read_bytes().decode("ascii")
    assert text.startswith(
        "##TITLE=spectrum 1\r\n##JCAMP-DX=5.01\r\n##DATA TYPE=RAMAN SPECTRUM\r\n"
    )
    assert "##XYDATA=(X++(Y..Y))\r\n400 " in text
    assert max(len(line) for line in text.splitlines() if not line.startswith("##")) <= 80
    back = read(one)
    assert back.axis == raman_like.axis and back.axis.laser_wavelength == 785.0
    np.testing.assert_array_equal(back.values, raman_like.values[:1])
    assert back.meta["sample"].tolist() == ["s0"]

    many = tmp_path / "many.jdx"
    write(raman_like, many)
    assert "##BLOCKS=20" in many.read_text()
    back = read(many)
    assert back.n_spectra == 20 and back.axis == raman_like.axis
    np.testing.assert_array_equal(back.values, raman_like.values)
    np.testing.assert_allclose(back.meta["c1"], raman_like.meta["c1"])
    assert len(read_blocks(many)) == 20


def test_uneven_axis_uses_xypoints(tmp_path):
    s = Spectra([[1.0, 2.0, 3.0]], [1.0, 2.0, 4.0], unit="nm")
    path = tmp_path / "u.jdx"
    write(s, path)
    assert "##XYPOINTS=(XY..XY)" in path.read_text()
    back = read(path)
    assert back.axis == s.axis and back.values.tolist() == s.values.tolist()


def test_not_a_spectrum(tmp_path):
    path = tmp_path / "empty.jdx"
    path.write_text("##TITLE=nothing\n##JCAMP-DX=5.01\n##END=\n")
    with pytest.raises(FormatError, match="holds no spectrum"):
        read(path)
