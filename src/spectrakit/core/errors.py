"""One small exception hierarchy; every message says what was expected, what was found, how to fix.

All errors derive from :class:`SpectraError`, itself a :class:`ValueError`, so code that
already catches ``ValueError`` keeps working. The command line prints ``str(error)`` as a
single line and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "AxisError",
    "BundleError",
    "ConfigError",
    "DataError",
    "FormatError",
    "ModelError",
    "PreprocessingError",
    "SpectraError",
    "TrainingError",
]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class SpectraError(ValueError):
    """Base class of every error spectrakit raises on bad input.

    Parameters
    ----------
    message : str
        What went wrong, in the words of the user's data ("axis of file b.csv").
    expected : str, optional
        What spectrakit expected.
    got : str, optional
        What it found instead.
    fix : str, optional
        How the user can fix it.

    Examples
    --------
    >>> str(SpectraError("bad axis", expected="increasing", got="[3, 1]", fix="sort it"))
    'bad axis: expected increasing, got [3, 1]. Fix: sort it'
    """

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        got: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = _one_line(message)
        self.expected = None if expected is None else _one_line(expected)
        self.got = None if got is None else _one_line(got)
        self.fix = None if fix is None else _one_line(fix)
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [self.message]
        detail = []
        if self.expected is not None:
            detail.append(f"expected {self.expected}")
        if self.got is not None:
            detail.append(f"got {self.got}")
        if detail:
            parts[0] += ": " + ", ".join(detail)
        text = parts[0]
        if self.fix is not None:
            text += f". Fix: {self.fix}"
        return text

    def __reduce__(self):  # keep errors picklable across worker processes
        return (
            _rebuild,
            (type(self), self.message, self.expected, self.got, self.fix),
        )


def _rebuild(cls, message, expected, got, fix):
    return cls(message, expected=expected, got=got, fix=fix)


class AxisError(SpectraError):
    """The spectral axis is invalid or incompatible (order, duplicates, units, range)."""


class DataError(SpectraError):
    """Spectral values or metadata are invalid (shape, NaN, non-numeric, mismatched rows)."""


class FormatError(SpectraError):
    """A file cannot be read or written in the requested format."""


class PreprocessingError(SpectraError):
    """A preprocessing step cannot be applied to the given spectra."""


class ConfigError(SpectraError):
    """A configuration (pipeline, model, training) is invalid."""


class ModelError(SpectraError):
    """A model cannot be created or applied as requested."""


class TrainingError(SpectraError):
    """Training cannot start or continue as requested."""


class BundleError(SpectraError):
    """A model bundle is missing, tampered with, or unsafe to load."""
