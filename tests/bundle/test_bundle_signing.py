"""Signed bundles: an edit with recomputed plain checksums passes unsigned, fails signed."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit
from _bundle_forge import forge
from spectrakit.bundle import Bundle
from spectrakit.bundle.signing import generate_ed25519_key
from spectrakit.cli import main
from spectrakit.core.errors import BundleError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "team.key"
    path.write_bytes(b"0123456789abcdef" * 4)
    return path


@pytest.fixture
def keypair(tmp_path):
    return generate_ed25519_key(tmp_path / "team.pem")


def _spectra(bundle):
    return spectrakit.Spectra(np.ones((2, 64)), spectrakit.load(bundle).axis)


def _rescale(config: dict) -> None:
    """The attack of the report: output scale multiplied, target renamed."""
    config["output"]["target_std"] = [s * 1000.0 for s in config["output"]["target_std"]]
    config["targets"] = ["glucose_mM"]


def test_edit_with_recomputed_hash_is_accepted_unsigned_and_refused_signed(tiny_bundle, secret):
    before = spectrakit.load(tiny_bundle).predict(_spectra(tiny_bundle))["c"].to_numpy()
    Bundle(tiny_bundle).sign(secret)
    assert spectrakit.load(tiny_bundle, key=secret).config.signature["scheme"] == "hmac-sha256"
    forge(tiny_bundle, _rescale)
    # the plain integrity only detects accidents: the forged bundle loads, predictions change
    edited = spectrakit.load(tiny_bundle).predict(_spectra(tiny_bundle))
    assert not np.allclose(edited["glucose_mM"].to_numpy(), before)
    with pytest.raises(BundleError, match="does not match its content"):
        spectrakit.load(tiny_bundle, key=secret)


def test_ed25519_signature_verifies_with_the_public_key_only(tiny_bundle, keypair):
    private, public = keypair
    assert private.stat().st_mode & 0o077 == 0
    Bundle(tiny_bundle).sign(private)
    assert spectrakit.load(tiny_bundle, key=public).config.signature["scheme"] == "ed25519"
    forge(tiny_bundle, _rescale)
    with pytest.raises(BundleError, match="does not match its content"):
        spectrakit.load(tiny_bundle, key=public)


def test_swapped_weights_with_recomputed_checksums_are_refused_signed(tiny_bundle, secret):
    Bundle(tiny_bundle).sign(secret)
    raw = bytearray((tiny_bundle / "model.safetensors").read_bytes())
    raw[-1] ^= 0x01  # one weight changed, every plain checksum recomputed below
    (tiny_bundle / "model.safetensors").write_bytes(bytes(raw))
    forge(tiny_bundle, lambda c: None)
    spectrakit.load(tiny_bundle)
    with pytest.raises(BundleError, match="does not match"):
        spectrakit.load(tiny_bundle, key=secret)


def test_another_key_an_unsigned_bundle_and_a_missing_key_are_refused(
    tiny_bundle, secret, keypair, tmp_path
):
    other = tmp_path / "other.key"
    other.write_bytes(b"z" * 32)
    with pytest.raises(BundleError, match="is not signed"):
        spectrakit.load(tiny_bundle, key=secret)
    with pytest.raises(BundleError, match="no key"):
        spectrakit.load(tiny_bundle, require_signature=True)
    Bundle(tiny_bundle).sign(secret)
    with pytest.raises(BundleError, match="does not match"):
        spectrakit.load(tiny_bundle, key=other)
    with pytest.raises(BundleError, match="ed25519 key was given"):
        spectrakit.load(tiny_bundle, key=keypair[1])
    short = tmp_path / "short.key"
    short.write_bytes(b"abc")
    with pytest.raises(BundleError, match="too short"):
        Bundle(tiny_bundle).sign(short)


def test_adding_a_file_drops_the_signature(tiny_bundle, secret):
    Bundle(tiny_bundle).sign(secret)
    Bundle(tiny_bundle).add_file("notes.txt", b"hello")
    assert Bundle(tiny_bundle).config.signature is None
    with pytest.raises(BundleError, match="is not signed"):
        spectrakit.load(tiny_bundle, key=secret)


def test_cli_sign_check_and_new_key(tiny_bundle, tmp_path, capsys, keypair):
    private, public = keypair
    assert main(["sign", str(tiny_bundle), "--key", str(private)]) == 0
    assert "ed25519" in capsys.readouterr().out
    assert main(["sign", str(tiny_bundle), "--key", str(public), "--check"]) == 0
    forge(tiny_bundle, _rescale)
    assert main(["sign", str(tiny_bundle), "--key", str(public), "--check"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not match" in err
    assert main(["sign", "--new-key", str(private)]) == 2  # never overwrites a key
    assert "already exists" in capsys.readouterr().err


def test_serve_require_signature_refuses_an_edited_bundle(tiny_bundle, secret):
    from spectrakit.serve import create_app

    Bundle(tiny_bundle).sign(secret)
    app = create_app(str(tiny_bundle), signature_key=str(secret))
    engine = app.state.service.engine
    assert engine.config.signature is not None and "# spectrakit model" in engine.card
    forge(tiny_bundle, _rescale)
    with pytest.raises(BundleError, match="does not match its content"):
        create_app(str(tiny_bundle), signature_key=str(secret))


def test_serve_cli_flag_passes_the_key(tiny_bundle, secret, capsys):
    forge(tiny_bundle, lambda c: None)  # unsigned
    code = main(["serve", "--model", str(tiny_bundle), "--require-signature", str(secret)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "is not signed" in err, err


def test_onnx_runtime_checks_the_signature_too(tiny_bundle, secret):
    pytest.importorskip("onnxruntime")
    from spectrakit.predict.runtime import OnnxPredictor

    with pytest.raises(BundleError, match="is not signed"):
        OnnxPredictor(tiny_bundle, key=secret)


def test_a_version_1_bundle_can_be_signed_and_still_predicts(tmp_path, secret):
    import shutil
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    copy = Path(shutil.copytree(fixtures / "bundle_v1", tmp_path / "v1"))
    assert Bundle(copy).sign(secret).version == 2
    data = np.load(fixtures / "bundle_v1_expected.npz")
    spectra = spectrakit.Spectra(
        data["values"], data["axis"], kind="raman_shift", laser_wavelength=785.0
    )
    got = spectrakit.load(copy, key=secret).predict(spectra)["c"].to_numpy()
    np.testing.assert_allclose(got, data["c"], rtol=1e-5, atol=1e-6)
