"""The model card (``card.md``): a human-readable summary written from the bundle config."""

from __future__ import annotations

from spectrakit.bundle.config import BundleConfig

__all__ = ["render_card"]


def _measured(config: BundleConfig) -> str:
    """``277 on 300-400 nm, 64 points (wavelength); ...``: each measured channel's axis."""
    return "; ".join(
        f"{c['name']} on {a.describe()} ({a.kind})"
        for c, a in zip(config.channels, config.channel_layout.axes, strict=True)
    )


def _intended_use(config: BundleConfig) -> str:
    ax = config.axis
    if config.channels and not config.intended_use:
        return (
            f"Predict {', '.join(config.targets) or 'embeddings'} from separately measured "
            f"channels, one spectrum per channel and sample: {_measured(config)}. A channel "
            "on another grid of its range is resampled onto its own axis; a missing channel "
            "is refused."
        )
    return config.intended_use or (
        f"Predict {', '.join(config.targets) or 'embeddings'} from spectra measured on "
        f"{ax.describe()} ({ax.kind}). Inputs on another grid of the same unit are "
        "resampled when they cover this range; other inputs are refused."
    )


def _inputs(config: BundleConfig) -> list[str]:
    ax = config.axis
    expected = f"- expected: {ax.describe()}, kind {ax.kind}"
    if config.channels:
        expected = f"- expected: measured channels {_measured(config)}"
    lines = [
        expected + (f", laser {ax.laser_wavelength:g} nm" if ax.laser_wavelength else ""),
        f"- model input: {config.model_axis.describe()}",
        f"- per-spectrum standardization: {'yes' if config.normalize else 'no'}",
        "",
        "## Preprocessing",
        "",
    ]
    for c, p in enumerate(config.preprocessing):
        steps = "none" if p is None else " -> ".join(s["step"] for s in p.get("steps", []))
        lines.append(f"- channel {c}: {steps}")
    return lines


def _training_data(config: BundleConfig) -> list[str]:
    summary = config.training.get("data", {})
    if not summary:
        return ["- not recorded"]
    n = summary.get("n_spectra", "?")
    if "sources" not in summary:
        lines = [f"- {n} spectra, {summary.get('n_points', '?')} points"]
    else:
        lines = [f"- {n} spectra from {len(summary['sources'])} source(s)"]
    for src in summary.get("sources", []):
        lines.append(
            f"  - {src.get('name', '?')}: {src.get('n_spectra', '?')} spectra, "
            f"{src.get('axis_description', '?')}"
        )
    if config.grid:
        lines.append(f"- resampled onto the common grid {config.grid}")
    for name, info in summary.get("meta", {}).items():
        if "min" in info:
            lines.append(f"- {name}: {info['min']:.4g} .. {info['max']:.4g}")
    return lines


def render_card(config: BundleConfig) -> str:
    """Markdown model card: intended use, input axis, preprocessing, data, metrics, versions."""
    lines = [
        f"# spectrakit model: {config.family.name} ({config.task})",
        "",
        "## Intended use",
        "",
        _intended_use(config),
        "",
        "## Input axis",
        "",
        *_inputs(config),
        "",
        "## Training data",
        "",
        *_training_data(config),
        "",
        "## Metrics",
        "",
    ]
    for k, v in config.metrics.items():
        lines.append(f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}")
    if not config.metrics:
        lines.append("- none recorded")
    lines += ["", "## Versions", ""]
    lines += [f"- {k} {v}" for k, v in config.versions.items()]
    return "\n".join(lines) + "\n"
