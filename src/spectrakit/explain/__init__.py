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

__all__ = [
    "Attribution",
    "explain",
    "fill_removed",
    "list_methods",
    "register_method",
    "rollout",
]
