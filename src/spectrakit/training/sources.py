"""Names and summaries of the training sources (instruments, files) recorded in a bundle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spectrakit.core.spectra import Spectra
from spectrakit.preprocessing.quality import summarize

__all__ = ["describe_sources", "source_name"]

_NAME_COLUMNS = ("instrument", "source", "file")


def source_name(source: Any, index: int) -> str:
    """A source's name: its single ``instrument``/``source``/``file`` value, else ``#index``."""
    meta = getattr(source, "meta", None)
    for col in _NAME_COLUMNS:
        if meta is not None and col in meta.columns:
            values = meta[col].dropna().unique()
            if len(values) == 1:
                return str(values[0])
            if len(values) > 1:
                return ", ".join(map(str, values[:4])) + (" ..." if len(values) > 4 else "")
    return f"#{index}"


def _one(source: Any, index: int) -> dict[str, Any]:
    if isinstance(source, Spectra):
        entry = summarize(source)
    else:  # a SpectraStore: counts and axis only (its spectra stay on disk)
        entry = {"n_spectra": len(source), "n_points": source.axis.n_points, "meta": {}}
    entry["name"] = source_name(source, index)
    entry["axis_description"] = source.axis.describe()
    return entry


def _merged_meta(entries: list[dict]) -> dict[str, dict]:
    """Numeric metadata ranges over all sources (a column's range spans every source)."""
    out: dict[str, dict] = {}
    for entry in entries:
        for name, info in entry.get("meta", {}).items():
            if "min" not in info:
                out.setdefault(name, {k: v for k, v in info.items() if k != "missing"})
                continue
            seen = out.setdefault(name, {"min": info["min"], "max": info["max"]})
            seen["min"], seen["max"] = min(seen["min"], info["min"]), max(seen["max"], info["max"])
    return out


def describe_sources(sources: Sequence[Any]) -> dict[str, Any]:
    """Training-data summary over every source, with one entry per source.

    Parameters
    ----------
    sources : sequence of Spectra or SpectraStore
        The pretraining sources, in order.

    Returns
    -------
    dict
        ``n_spectra`` (total), ``n_points`` (of the first source, as a single-source
        summary gives), ``meta`` (numeric ranges over all sources) and ``sources``: per
        source ``name``, ``n_spectra``, ``n_points``, ``axis_description`` and its own
        summary.
    """
    entries = [_one(s, i) for i, s in enumerate(sources)]
    return {
        "n_spectra": int(sum(e["n_spectra"] for e in entries)),
        "n_points": entries[0]["n_points"],
        "meta": _merged_meta(entries),
        "sources": entries,
    }
