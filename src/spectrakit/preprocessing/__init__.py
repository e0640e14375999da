"""Axis-aware, batched preprocessing steps (scikit-learn transformers) and pipelines.

Every step accepts :class:`~spectrakit.Spectra` (and returns Spectra) or arrays with the
axis given to ``fit``; positions (crop ranges, peak positions) are in axis units and
derivatives scale with the real spacing. :class:`Pipeline` chains steps, keeps the axis and
serialises to plain JSON/YAML (steps by registered name) plus an array dict for fitted state.
"""

from spectrakit._lazy import lazy_attributes

_P = "spectrakit.preprocessing."
# Every step loads on first use (scikit-learn, SciPy and numba are heavy), so the command
# line can list presets and steps without them.
_LAZY = {
    **dict.fromkeys(("Crop", "ExcludeRegions", "Resample", "SelectRegions"), _P + "_axis"),
    "SpectralTransformer": _P + "_base",
    "Pipeline": _P + "_pipeline",
    **dict.fromkeys(("get_pipeline", "list_presets", "preset"), _P + "_presets"),
    **dict.fromkeys(
        ("STEPS", "build_step", "get_step_class", "list_steps", "register_step"),
        _P + "_registry",
    ),
    **dict.fromkeys(("MeanCenter", "Standardize"), _P + "_scaling"),
    **dict.fromkeys(
        ("EMSC", "MSC", "SNV", "AreaNorm", "MaxNorm", "MinMax", "PeakNorm", "VectorNorm"),
        _P + "_scatter",
    ),
    **dict.fromkeys(("SavitzkyGolay", "WhittakerSmooth", "savgol_operators"), _P + "_smoothing"),
    **dict.fromkeys(("MedianDespike", "WhitakerHayes"), _P + "_spikes"),
    **dict.fromkeys(("is_stateless", "stream_transform"), _P + "_stream"),
    # the baseline family
    **dict.fromkeys(
        (
            "SNIP",
            "AirPLS",
            "ArPLS",
            "AsLS",
            "AsPLS",
            "BaselineCorrection",
            "DrPLS",
            "IModPoly",
            "LinearCorrection",
            "ModPoly",
            "Rubberband",
        ),
        _P + "baseline",
    ),
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes("spectrakit.preprocessing", _LAZY)
