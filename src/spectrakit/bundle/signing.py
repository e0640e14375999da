"""Signed bundles: edits are detectable by whoever holds the key.

A bundle's ``integrity`` and ``files`` checksums are plain sha256: they catch accidents (a
truncated copy, a flipped bit) but anyone who edits a file can recompute them. A signature
closes that gap. It covers the canonical config without ``signature`` and ``integrity``
(:meth:`BundleConfig.signed_message`), hence every file through its recorded sha256, and is
stored in the config's ``signature`` field as ``{"scheme", "key_id", "value"}``:

* ``hmac-sha256`` -- a shared secret (a key file of at least 32 bytes); the same key
  verifies;
* ``ed25519`` -- a private key in PEM (``cryptography``) signs; its public key verifies,
  so the verifying side never holds a key that can sign.

Adding a file or new metrics to a bundle drops its signature: sign it again afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

from spectrakit.bundle.config import BundleConfig
from spectrakit.core.errors import BundleError

__all__ = ["SCHEMES", "check_config", "generate_ed25519_key", "read_key", "sign_config"]

SCHEMES = ("hmac-sha256", "ed25519")
_MIN_SECRET = 32
_MAX_KEY_BYTES = 64 * 1024
_PEM = b"-----BEGIN"


def read_key(key: str | os.PathLike | bytes) -> bytes:
    """Key bytes from ``key``: bytes as given, else the content of the key file it names."""
    if isinstance(key, bytes | bytearray):
        return bytes(key)
    path = Path(key)
    if not path.is_file():
        raise BundleError(
            f"signing key {path} not found",
            expected="a key file (a secret of 32+ bytes, or an ed25519 PEM key)",
            got="missing" if not path.exists() else "not a file",
            fix="pass --key FILE (create one with: spectrakit sign --new-key KEY.pem)",
        )
    if path.stat().st_size > _MAX_KEY_BYTES:
        raise BundleError(
            f"signing key {path} is too large",
            expected=f"at most {_MAX_KEY_BYTES} bytes",
            got=f"{path.stat().st_size} bytes",
        )
    return path.read_bytes()


def _is_pem(material: bytes) -> bool:
    return material.lstrip().startswith(_PEM)


def _ed25519(material: bytes, private: bool) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        if private:
            loaded = serialization.load_pem_private_key(material, password=None)
        else:
            try:
                loaded = serialization.load_pem_public_key(material)
            except ValueError:  # a private key also verifies
                loaded = serialization.load_pem_private_key(material, password=None).public_key()
    except (ValueError, TypeError) as exc:
        raise BundleError(
            "the PEM key cannot be read",
            expected="an unencrypted ed25519 key in PEM",
            got=" ".join(str(exc).split())[:100],
        ) from None
    kind = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(loaded, kind):
        raise BundleError(
            "the PEM key is not the right ed25519 key",
            expected="an ed25519 private key to sign" if private else "an ed25519 key",
            got=type(loaded).__name__,
        )
    return loaded


def _key_id(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:16]


def _secret(material: bytes) -> bytes:
    if len(material) < _MIN_SECRET:
        raise BundleError(
            "the signing secret is too short",
            expected=f"at least {_MIN_SECRET} bytes",
            got=f"{len(material)} bytes",
            fix="generate one: python -c 'import secrets; print(secrets.token_hex(32))' > KEY",
        )
    return material


def _raw_public(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_config(config: BundleConfig, key: str | os.PathLike | bytes) -> BundleConfig:
    """``config`` with a signature made with ``key`` (the scheme follows the key type).

    Parameters
    ----------
    config : BundleConfig
        A verified bundle config.
    key : path-like or bytes
        HMAC secret (32+ bytes) or ed25519 private key in PEM.
    """
    material = read_key(key)
    message = config.replace(signature=None).signed_message()
    if _is_pem(material):
        private = _ed25519(material, private=True)
        signature = {
            "scheme": "ed25519",
            "key_id": _key_id(_raw_public(private.public_key())),
            "value": private.sign(message).hex(),
        }
    else:
        secret = _secret(material)
        signature = {
            "scheme": "hmac-sha256",
            "key_id": _key_id(secret),
            "value": hmac.new(secret, message, hashlib.sha256).hexdigest(),
        }
    return config.replace(signature=signature)


def _matches(signature: dict, material: bytes, message: bytes) -> bool:
    if signature["scheme"] == "hmac-sha256":
        if _is_pem(material):
            raise BundleError(
                "the bundle is signed with a secret key (HMAC) but an ed25519 key was given",
                fix="pass the shared secret that signed it",
            )
        expected = hmac.new(_secret(material), message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature["value"])
    from cryptography.exceptions import InvalidSignature

    if not _is_pem(material):
        raise BundleError(
            "the bundle is signed with ed25519 but a secret (HMAC) key was given",
            fix="pass the signer's ed25519 public key (PEM)",
        )
    try:
        _ed25519(material, private=False).verify(bytes.fromhex(signature["value"]), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check_config(
    config: BundleConfig,
    key: str | os.PathLike | bytes | None,
    *,
    required: bool = False,
    where: str = "the bundle",
) -> bool:
    """Check ``config``'s signature with ``key``.

    Parameters
    ----------
    config : BundleConfig
        Config of a bundle whose files were verified against ``config.files``.
    key : path-like or bytes or None
        HMAC secret, or ed25519 public (or private) PEM key. None checks nothing.
    required : bool, default=False
        Refuse an unsigned bundle, or a missing key.
    where : str
        Bundle named in messages.

    Returns
    -------
    bool
        True when a signature was verified, False when nothing was checked.

    Raises
    ------
    BundleError
        A signature that does not match, or a missing signature or key when required
        (a key given means a signature is required).
    """
    if key is None:
        if required:
            raise BundleError(
                f"no key to check the signature of {where}",
                fix="pass the key: --require-signature KEY (or key=... in spectrakit.load)",
            )
        return False
    if config.signature is None:
        raise BundleError(
            f"{where} is not signed",
            expected="a bundle signed with your key",
            got="no signature",
            fix="sign it: spectrakit sign BUNDLE --key KEY",
        )
    if not _matches(config.signature, read_key(key), config.signed_message()):
        raise BundleError(
            f"the signature of {where} does not match its content",
            expected="files and config exactly as signed, and the signer's key",
            got="altered content or another key",
            fix="do not use this bundle; get the original from its author",
        )
    return True


def generate_ed25519_key(private_path: str | os.PathLike) -> tuple[Path, Path]:
    """Write a new ed25519 private key (PEM, mode 0600) and ``<name>.pub.pem`` beside it.

    Existing files are never overwritten.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private_path = Path(private_path)
    public_path = private_path.with_name(private_path.stem + ".pub.pem")
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise BundleError(
                f"{path} already exists", fix="choose another name; keys are never overwritten"
            )
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for path, data, mode in ((private_path, pem, 0o600), (public_path, public, 0o644)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    return private_path, public_path
