"""``python -m spectrakit``: the same as the ``spectrakit`` command."""

from spectrakit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
