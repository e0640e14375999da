"""Explanations on the spectrum: attributions tied to the axis, faithfulness, pictures.

>>> from spectrakit.explain import explain
>>> attr = explain(predictor, spectra, method="ig")  # doctest: +SKIP
>>> attr.top_bands(5)  # doctest: +SKIP
"""

from spectrakit.explain._attention import rollout
from spectrakit.explain._attribution import Attribution
from spectrakit.explain._explain import explain
from spectrakit.explain._perturb import fill_removed
from spectrakit.explain._registry import list_methods, register_method
from spectrakit.explain.channel_sets import compare_channel_sets
from spectrakit.explain.faithfulness import (
    compare_methods,
    deletion_curve,
    infidelity_score,
    sensitivity_score,
)
from spectrakit.explain.plot import plot_attribution, read_reference_bands, save_figure

__all__ = [
    "Attribution",
    "compare_channel_sets",
    "compare_methods",
    "deletion_curve",
    "explain",
    "fill_removed",
    "infidelity_score",
    "list_methods",
    "plot_attribution",
    "read_reference_bands",
    "register_method",
    "rollout",
    "save_figure",
    "sensitivity_score",
]
