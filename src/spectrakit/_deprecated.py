"""Old module paths that keep working for one release, with a :class:`DeprecationWarning`.

A renamed module is reached under its old name as the *same* module object (not a copy), so
``isinstance`` checks and module state agree whichever name imported it. Old names of whole
packages (``spectrakit.baselines``) cover their submodules too
(``spectrakit.baselines.transfer`` is ``spectrakit.chemometrics.transfer``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "install", "new_name"]

#: old module path -> new module path (removed in the release after next)
MOVED: dict[str, str] = {
    "spectrakit.axis": "spectrakit.core.axis",
    "spectrakit.spectra": "spectrakit.core.spectra",
    "spectrakit.resample": "spectrakit.core.resample",
    "spectrakit.errors": "spectrakit.core.errors",
    "spectrakit.io._atomic": "spectrakit.core.atomic",
    "spectrakit.quality": "spectrakit.preprocessing.quality",
    "spectrakit._spike_kernels": "spectrakit.preprocessing._spike_kernels",
    "spectrakit._threads": "spectrakit.core.threads",
    "spectrakit.archive": "spectrakit.bundle.archive",
    "spectrakit.predictor": "spectrakit.predict.predictor",
    "spectrakit.inference": "spectrakit.predict.core",
    "spectrakit.export.runtime": "spectrakit.predict.runtime",
    "spectrakit.data.channels": "spectrakit.preprocessing.channels",
    "spectrakit.evaluation.deep": "spectrakit.training.evaluate",
    "spectrakit.registry": "spectrakit.store.local",
    "spectrakit.baselines": "spectrakit.chemometrics",
}


def new_name(old: str) -> str | None:
    """The current path of module ``old`` (or of a submodule of a moved package), else None."""
    for prefix, target in MOVED.items():
        if old == prefix or old.startswith(prefix + "."):
            return target + old[len(prefix) :]
    return None


class _AliasLoader:
    """Loads an old name as the module of its new name (``importlib.abc.Loader``'s protocol)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._spec = None

    def create_module(self, spec) -> ModuleType:
        warnings.warn(
            f"{spec.name} is deprecated and will be removed in the next release; "
            f"import {self.target} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system stamped the alias spec on the shared module: give it back its own
        module.__spec__ = self._spec


class _AliasFinder:
    """Finds the old names (``importlib.abc.MetaPathFinder``'s protocol).

    Not a subclass: importing ``importlib.abc`` would load ``importlib.resources`` into every
    ``import spectrakit``.
    """

    def find_spec(self, fullname: str, path=None, target=None):
        new = new_name(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Make the old module paths importable (idempotent)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
