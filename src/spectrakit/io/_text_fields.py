"""Field-level helpers shared by the plain-text table readers and the layout sniffer."""

from __future__ import annotations

__all__ = ["SEPARATORS", "guess_separator", "is_number"]

#: separators tried in order; ``None`` from :func:`guess_separator` means blanks.
SEPARATORS = ("\t", ";", ",")


def guess_separator(line: str) -> str | None:
    """Return the first separator of :data:`SEPARATORS` present in ``line``.

    Parameters
    ----------
    line : str
        One line of a text table.

    Returns
    -------
    str or None
        The separator, or ``None`` when fields are blank-separated.
    """
    for sep in SEPARATORS:
        if sep in line:
            return sep
    return None


def is_number(text: str) -> bool:
    """Return whether ``text`` parses as a float (``"nan"`` and ``"1e3"`` included).

    Parameters
    ----------
    text : str
        One field.

    Returns
    -------
    bool
        ``True`` when :func:`float` accepts it.
    """
    try:
        float(text)
    except ValueError:
        return False
    return True
