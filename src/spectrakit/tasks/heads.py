"""Deprecated location: the output heads live in :mod:`spectrakit.models.heads`.

Inference needs them without training code, so they moved beside the models; this alias
keeps old imports working for one release.
"""

from __future__ import annotations

import warnings

from spectrakit.models.heads import *  # noqa: F403
from spectrakit.models.heads import __all__  # noqa: F401

warnings.warn(
    "spectrakit.tasks.heads moved to spectrakit.models.heads",
    DeprecationWarning,
    stacklevel=2,
)
