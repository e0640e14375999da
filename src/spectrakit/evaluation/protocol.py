"""An honest test protocol enforced by code: test targets stay sealed until choices are frozen.

:class:`SealedTargets` holds the reference values of a test set. It offers no way to read
them; :meth:`SealedTargets.freeze` records the choices made on training data (recipe,
hyper-parameters, ...) and is allowed once; :meth:`SealedTargets.score` then scores a set of
predictions exactly once. Reading the targets before the freeze, freezing twice or scoring
twice raises :class:`ProtocolError`. :func:`strip_targets` removes the reference columns
from test spectra, so models only ever see the spectra.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from spectrakit.core.errors import SpectraError
from spectrakit.core.spectra import Spectra

__all__ = ["ProtocolError", "SealedTargets", "strip_targets"]


class ProtocolError(SpectraError):
    """The test set was used out of order (read before the choice was frozen, or twice)."""


class SealedTargets:
    """Test targets that can be scored once, after the model choice is frozen.

    Parameters
    ----------
    values : array-like of shape (n,)
        Reference values or labels of the test spectra.
    name : str
        What they are (for messages).

    Examples
    --------
    >>> sealed = SealedTargets([1.0, 2.0], name="glucose")
    >>> sealed.freeze({"model": "pls"})
    >>> sealed.score({"pls": [1.0, 2.5]}, lambda y, p: float(np.abs(y - p).max()))
    {'pls': 0.5}
    """

    def __init__(self, values: Any, *, name: str = "targets") -> None:
        self.__values = np.asarray(values).copy()
        self.__values.setflags(write=False)
        self.name = name
        self.choices: dict[str, Any] | None = None
        self.scored = False
        self.log: list[str] = []

    def __len__(self) -> int:
        return len(self.__values)

    def __repr__(self) -> str:
        state = "scored" if self.scored else ("frozen" if self.choices is not None else "sealed")
        return f"SealedTargets({self.name!r}, n={len(self)}, {state})"

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise ProtocolError(
            f"the test {self.name} are sealed",
            expected="choices frozen with freeze(), then one score() call",
            got="an attempt to read them as an array",
        )

    def freeze(self, choices: Mapping[str, Any]) -> None:
        """Record the choices made on training data; no choice can change afterwards."""
        if self.choices is not None:
            raise ProtocolError(
                "the choices were already frozen",
                expected="one freeze() per test set",
                got=f"a second freeze of {sorted(choices)}",
            )
        self.choices = dict(choices)
        self.log.append("freeze")

    def score(
        self, predictions: Mapping[str, Any], metric: Callable[[np.ndarray, np.ndarray], Any]
    ) -> dict[str, Any]:
        """Score every model's test predictions once: ``{name: metric(y_true, y_pred)}``."""
        if self.choices is None:
            raise ProtocolError(
                f"the test {self.name} were requested before the choice was frozen",
                expected="freeze(choices) first",
                got="score() on a sealed test set",
                fix="choose every setting by cross-validation on training data, then freeze",
            )
        if self.scored:
            raise ProtocolError(
                "the test set was already scored",
                expected="one score() call with every model's predictions",
                got="a second score() call",
            )
        self.scored = True
        self.log.append("score")
        return {name: metric(self.__values, np.asarray(p)) for name, p in predictions.items()}

    def reveal(self) -> np.ndarray:
        """The values, for plots and tables, only after scoring (read-only)."""
        if not self.scored:
            raise ProtocolError(
                f"the test {self.name} are sealed until they are scored",
                expected="freeze() then score() first",
                got="reveal() before scoring",
            )
        return self.__values


def strip_targets(spectra: Spectra, columns: Sequence[str]) -> Spectra:
    """Spectra without the given meta columns (the test references), other meta kept."""
    meta = spectra.meta.drop(columns=[c for c in columns if c in spectra.meta.columns])
    return spectra.with_meta(meta)
