"""``spectrakit registry``: push, pull and list bundles in a local registry (or the Hub)."""

from __future__ import annotations

import argparse

from spectrakit.cli._common import write_json
from spectrakit.cli._output import add_overwrite_option, claim_dir
from spectrakit.cli._parser import command_parser
from spectrakit.cli._types import new_folder

EXAMPLE = (
    "example: spectrakit registry push runs/glucose --name glucose; "
    "spectrakit registry pull glucose --dest deployed/"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(sub, "registry", "Local model registry with checksums. " + EXAMPLE, run)
    p.add_argument(
        "--root", help="registry folder (default: $SPECTRAKIT_REGISTRY or ~/.spectrakit/registry)"
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    push = actions.add_parser("push", help="copy a bundle into the registry")
    push.add_argument("bundle", help="bundle folder or .zip")
    push.add_argument("--name", required=True)
    push.add_argument("--version", help="version label (default: next integer)")
    push.add_argument("--force", action="store_true", help="replace an existing version")
    push.add_argument("--hub", metavar="REPO_ID", help="also upload to this Hugging Face repo")
    pull = actions.add_parser("pull", help="verify checksums and copy a bundle out")
    pull.add_argument("name")
    pull.add_argument("--version", default="latest")
    pull.add_argument(
        "--dest",
        required=True,
        type=new_folder,
        help="destination folder (new, empty, or an earlier bundle to replace)",
    )
    pull.add_argument("--hub", action="store_true", help="NAME is a Hugging Face repo id")
    add_overwrite_option(pull)
    ls = actions.add_parser("list", help="list stored bundles")
    ls.add_argument("--json", dest="json_out", help="write the list as JSON ('-' = stdout)")


def run(args: argparse.Namespace) -> int:
    from spectrakit.store.local import LocalRegistry, pull_from_hub, push_to_hub

    reg = LocalRegistry(args.root)
    if args.action == "push":
        m = reg.push(args.bundle, args.name, args.version, force=args.force)
        print(f"pushed {m['name']} version {m['version']} ({len(m['files'])} files) to {reg.root}")
        if args.hub:
            push_to_hub(args.bundle, args.hub)
            print(f"uploaded to the Hub repo {args.hub}")
    elif args.action == "pull":
        claim_dir(args.dest, args)
        if args.hub:
            out = pull_from_hub(args.name, args.dest)
        else:
            out = reg.pull(args.name, None if args.version == "latest" else args.version, args.dest)
        print(f"pulled {args.name} to {out}")
    else:
        rows = reg.list()
        if args.json_out:
            write_json(rows, args.json_out)
        elif not rows:
            print(f"registry {reg.root} is empty")
        for r in rows if not args.json_out else []:
            print(f"{r['name']:<24} {r['version']:<10} {r['model'] or '-':<20} {r['created']}")
    return 0
