"""``spectrakit sign``: sign a bundle (HMAC-SHA256 or ed25519), check a signature, make keys."""

from __future__ import annotations

import argparse

from spectrakit.cli._parser import command_parser

EXAMPLE = (
    "example: spectrakit sign --new-key team.pem; spectrakit sign runs/glucose --key team.pem; "
    "spectrakit serve --model runs/glucose --require-signature team.pub.pem"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "sign",
        "Sign a bundle folder with a secret key file (HMAC-SHA256, 32+ bytes) or "
        "an ed25519 private key (PEM). 'spectrakit serve --require-signature KEY' and "
        "spectrakit.load(..., key=KEY) then refuse it unless the signature verifies. The "
        "bundle's plain checksums only detect accidents; a signature detects edits. " + EXAMPLE,
        run,
    )
    p.add_argument("bundle", nargs="?", help="bundle folder to sign or check")
    p.add_argument("--key", help="key file: a secret (HMAC) or an ed25519 private/public PEM")
    p.add_argument(
        "--new-key", metavar="PEM", help="write a new ed25519 key pair (PEM and .pub.pem) and stop"
    )
    p.add_argument("--check", action="store_true", help="verify the signature instead of signing")


def run(args: argparse.Namespace) -> int:
    from spectrakit.bundle import Bundle
    from spectrakit.bundle.signing import generate_ed25519_key
    from spectrakit.core.errors import ConfigError

    if args.new_key:
        private, public = generate_ed25519_key(args.new_key)
        print(f"wrote private key {private} (keep it secret) and public key {public}")
        return 0
    if not args.bundle or not args.key:
        raise ConfigError(
            "nothing to sign",
            expected="a bundle folder and --key KEY (or --new-key PEM)",
            got="no bundle" if not args.bundle else "no --key",
            fix="run: spectrakit sign BUNDLE --key KEY",
        )
    bundle = Bundle(args.bundle)
    if bundle.path != bundle.source:
        raise ConfigError(
            "only a bundle folder can be signed",
            expected="a folder",
            got=str(args.bundle),
            fix="unpack the .zip, sign the folder, then pack it again",
        )
    if args.check:
        bundle.verify()
        bundle.check_signature(args.key, required=True)
        print(f"the signature of {args.bundle} is valid")
        return 0
    config = bundle.sign(args.key)
    print(f"signed {args.bundle} ({config.signature['scheme']}, key {config.signature['key_id']})")
    return 0
