"""``spectrakit serve``: every bounded numeric option has its default and refuses its range."""

from __future__ import annotations

import pytest

from spectrakit.cli import serve as serve_cli
from spectrakit.cli._app import build_parser

BOUNDED = serve_cli._LIMITS + serve_cli._PERFORMANCE + serve_cli._THREADS


def _parse(*argv):
    return build_parser().parse_args(["serve", "--model", "m", *argv])


def test_defaults_are_those_of_the_tables():
    args = _parse()
    for flag, kind, _, _, default, _ in BOUNDED:
        value = getattr(args, flag[2:].replace("-", "_"))
        assert value == default and isinstance(value, kind), flag
    assert args.runtime == "auto"


@pytest.mark.parametrize(("flag", "kind", "lo", "hi"), [row[:4] for row in BOUNDED])
def test_bounds_are_inclusive_and_outside_values_are_refused(flag, kind, lo, hi, capsys):
    attr = flag[2:].replace("-", "_")
    assert getattr(_parse(flag, str(kind(lo))), attr) == kind(lo)
    assert getattr(_parse(flag, str(kind(hi))), attr) == kind(hi)
    above = hi + 1 if kind is int else hi * 2
    with pytest.raises(SystemExit) as info:
        _parse(flag, str(kind(above)))
    assert info.value.code == 2
    assert flag in capsys.readouterr().err
