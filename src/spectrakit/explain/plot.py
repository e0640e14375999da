"""Pictures of explanations: the spectrum coloured by importance, top bands, reference lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.errors import DataError, FormatError
from spectrakit.explain._attribution import Attribution

__all__ = ["plot_attribution", "read_reference_bands", "save_figure"]


def read_reference_bands(path: str | Path) -> pd.DataFrame:
    """Known band positions from a CSV with columns ``position,label``.

    Returns
    -------
    DataFrame
        Columns ``position`` (float, axis units) and ``label`` (str), sorted by position.
    """
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise FormatError(
            "cannot read the reference band list",
            expected="a CSV file with columns position,label",
            got=str(exc)[:100],
        ) from exc
    cols = {c.strip().lower(): c for c in table.columns}
    if "position" not in cols:
        raise FormatError(
            "reference band list has no 'position' column",
            expected="columns position,label",
            got=", ".join(map(str, table.columns)),
            fix="name the first column 'position' (axis units) and the second 'label'",
        )
    pos = pd.to_numeric(table[cols["position"]], errors="coerce")
    if pos.isna().any():
        row = int(np.flatnonzero(pos.isna())[0])
        raise FormatError(
            "reference band position is not a number",
            expected="numbers in axis units",
            got=f"{table[cols['position']].iloc[row]!r} in row {row + 1}",
        )
    labels = table[cols["label"]].astype(str) if "label" in cols else pos.map("{:g}".format)
    out = pd.DataFrame({"position": pos.astype(float), "label": labels.to_numpy()})
    return out.sort_values("position", ignore_index=True)


def plot_attribution(
    attr: Attribution,
    index: int | None = 0,
    *,
    top_k: int = 5,
    reference: pd.DataFrame | str | Path | None = None,
    style: str = "line",
    ax: Any = None,
    cmap: str | None = None,
) -> Any:
    """Draw a spectrum coloured by its attribution.

    Parameters
    ----------
    attr : Attribution
        Result of :func:`~spectrakit.explain.explain`.
    index : int or None, default=0
        Spectrum to draw; ``None`` draws the mean spectrum and mean ``|attribution|``.
    top_k : int, default=5
        Number of top bands annotated with their axis positions (0: none).
    reference : DataFrame or path, optional
        Known bands (``position,label``) drawn as dashed vertical lines.
    style : {"line", "band"}
        ``"line"``: the spectrum itself coloured point by point; ``"band"``: the spectrum
        in black over a coloured importance band.
    ax : matplotlib Axes, optional
        Axes to draw into (a new figure otherwise).
    cmap : str, optional
        Colormap (default: diverging for signed attributions, sequential otherwise).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if style not in ("line", "band"):
        raise DataError("unknown plot style", expected="'line' or 'band'", got=repr(style))
    x = attr.axis.values
    values, spectrum, title = _selected(attr, index)
    cmap, norm = _colour_scale(values, cmap)
    ax = _new_axes() if ax is None else ax
    fig = ax.figure
    draw = _draw_line if style == "line" else _draw_band
    mappable = draw(ax, x, spectrum, values, cmap, norm)
    what = "attribution" if index is not None else "mean |attribution|"
    fig.colorbar(mappable, ax=ax, label=f"{what} ({attr.method})", pad=0.01)
    if top_k:
        _annotate_top_bands(ax, attr.top_bands(top_k, index=index), x, spectrum)
    if reference is not None:
        ref = reference if isinstance(reference, pd.DataFrame) else read_reference_bands(reference)
        _draw_reference(ax, ref, x)
    ax.set_xlim(x.min(), x.max())
    ax.set_xlabel(attr.axis.label(tex=True))
    ax.set_ylabel("intensity (model input)")
    ax.set_title(title, fontsize=10)
    return fig


def _new_axes() -> Any:
    """Axes of a new figure (headless backend unless one is chosen already)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
    return ax


def _colour_scale(values: np.ndarray, cmap: str | None) -> tuple[str, Any]:
    """Colormap and normalisation: diverging around 0 for signed values, else from 0."""
    from matplotlib.colors import Normalize

    signed = bool((values < 0).any())
    scale = float(np.abs(values).max()) or 1.0
    norm = Normalize(-scale, scale) if signed else Normalize(0.0, scale)
    return cmap or ("coolwarm" if signed else "viridis"), norm


def _selected(attr: Attribution, index: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Attribution (L,), spectrum drawn (L,) and title of one spectrum, or of the mean."""
    if index is None:
        values = np.abs(attr.values).mean(axis=0)
        spectrum = None if attr.inputs is None else attr.inputs.mean(axis=0)
        title = f"{attr.method}: mean over {attr.n_spectra} spectra"
    else:
        if not -attr.n_spectra <= index < attr.n_spectra:
            raise DataError(
                "spectrum index out of range",
                expected=f"0 <= index < {attr.n_spectra}",
                got=str(index),
            )
        values = attr.values[index]
        spectrum = None if attr.inputs is None else attr.inputs[index]
        title = f"{attr.method}: spectrum {index}, target {attr.target_names[index]}"
    return values, values if spectrum is None else spectrum, title


def _draw_line(ax: Any, x: np.ndarray, spectrum: np.ndarray, values, cmap, norm) -> Any:
    """The spectrum itself, coloured point by point by its attribution."""
    from matplotlib.collections import LineCollection

    points = np.column_stack([x, spectrum])[:, None, :]
    segments = np.concatenate([points[:-1], points[1:]], axis=1)
    lc = LineCollection(segments, cmap=cmap, norm=norm, linewidth=2.0)
    lc.set_array(0.5 * (values[:-1] + values[1:]))
    ax.add_collection(lc)
    ax.autoscale_view()
    return lc


def _draw_band(ax: Any, x: np.ndarray, spectrum: np.ndarray, values, cmap, norm) -> Any:
    """The spectrum in black over a coloured importance band."""
    lo, hi = float(np.min(spectrum)), float(np.max(spectrum))
    pad = 0.05 * (hi - lo or 1.0)
    band = ax.imshow(
        values[None, :],
        aspect="auto",
        extent=(x[0], x[-1], lo - pad, hi + pad),
        cmap=cmap,
        norm=norm,
        alpha=0.6,
        origin="lower",
    )
    ax.plot(x, spectrum, color="black", linewidth=1.0)
    return band


def _annotate_top_bands(ax: Any, bands: pd.DataFrame, x: np.ndarray, spectrum: np.ndarray) -> None:
    """Each top band's axis position written above the spectrum."""
    for _, b in bands.iterrows():
        i = int(np.argmin(np.abs(x - b["position"])))
        ax.annotate(
            f"{b['position']:.6g}",
            xy=(x[i], spectrum[i]),
            xytext=(0, 12),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            arrowprops={"arrowstyle": "-", "lw": 0.6},
        )


def _draw_reference(ax: Any, ref: pd.DataFrame, x: np.ndarray) -> None:
    """Known bands inside the plotted range as labelled dashed lines."""
    inside = ref[(ref["position"] >= x.min()) & (ref["position"] <= x.max())]
    for _, r in inside.iterrows():
        ax.axvline(r["position"], color="0.3", linestyle="--", linewidth=0.8)
        ax.text(
            r["position"], 1.0, f" {r['label']}", transform=ax.get_xaxis_transform(),
            rotation=90, va="top", ha="right", fontsize=7, color="0.3",
        )  # fmt: skip


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` atomically (PNG by extension) and close it."""
    import matplotlib.pyplot as plt

    from spectrakit.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path
