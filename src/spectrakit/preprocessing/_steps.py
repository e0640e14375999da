"""The named-steps part of scikit-learn's pipeline protocol, without scikit-learn.

``get_params``/``set_params`` reach each step as ``name`` and its parameters as
``name__param`` (so ``clone``, ``GridSearchCV`` and an enclosing scikit-learn
``Pipeline`` work as with ``sklearn.pipeline.Pipeline``); ``named_steps``, ``len`` and
indexing (an int, a name or a slice) behave as there too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.core.errors import ConfigError
from spectrakit.core.spectra import axis_column_names
from spectrakit.preprocessing._estimator import LightEstimator, check_fitted

__all__ = ["StepsProtocol"]


class _Bunch(dict):
    """A dict whose keys are also attributes (``pipe.named_steps.snv``)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __dir__(self) -> list[str]:
        return list(self.keys())


def _skipped(step: Any) -> bool:
    return step is None or (isinstance(step, str) and step == "passthrough")


class StepsProtocol(LightEstimator):
    """A chain of ``(name, step)`` pairs with scikit-learn's pipeline parameters.

    Parameters
    ----------
    steps : list of (str, estimator)
        Named steps, applied in order (``"passthrough"`` or ``None`` skips one).
    transform_input, memory, verbose
        Accepted for compatibility with ``sklearn.pipeline.Pipeline``; unused.
    """

    def __init__(
        self,
        steps: list[tuple[str, Any]],
        *,
        transform_input: Any = None,
        memory: Any = None,
        verbose: bool = False,
    ) -> None:
        self.steps = steps
        self.transform_input = transform_input
        self.memory = memory
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters, plus each step as ``name`` and its parameters as ``name__param``."""
        out = super().get_params(deep=False)
        if not deep:
            return out
        for name, step in self.steps:
            out[name] = step
            if hasattr(step, "get_params") and not isinstance(step, type):
                out.update((f"{name}__{k}", v) for k, v in step.get_params(deep=True).items())
        return out

    def set_params(self, **params: Any) -> StepsProtocol:
        """Set parameters; ``steps`` first, then whole steps by name, then nested ones."""
        if "steps" in params:
            self.steps = params.pop("steps")
        return super().set_params(**params)

    def _set_param(self, name: str, value: Any) -> None:
        names = [n for n, _ in self.steps]
        if name in names and name not in self._get_param_names():
            i = names.index(name)
            self.steps = [*self.steps[:i], (name, value), *self.steps[i + 1 :]]
        else:
            setattr(self, name, value)

    def _validate_steps(self) -> None:
        names = [name for name, _ in self.steps]
        bad = [n for n in names if "__" in n or n in self._get_param_names()]
        if len(set(names)) != len(names) or bad:
            raise ConfigError(
                "pipeline step names must be unique, without '__' and not a parameter name",
                got=", ".join(map(repr, names)),
            )
        for name, step in self.steps:
            if _skipped(step):
                continue
            if not (hasattr(step, "fit") or hasattr(step, "fit_transform")) or not hasattr(
                step, "transform"
            ):
                raise ConfigError(
                    f"pipeline step {name!r} is not a transformer",
                    expected="an object with fit and transform, or 'passthrough'",
                    got=type(step).__name__,
                )

    # ------------------------------------------------------------------ access
    @property
    def named_steps(self) -> _Bunch:
        """The steps by name (also as attributes)."""
        return _Bunch(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, ind: int | str | slice) -> Any:
        """A step by position or name; a slice is a new pipeline of those steps."""
        if isinstance(ind, slice):
            if ind.step not in (1, None):
                raise ValueError("Pipeline slicing only supports a step of 1")
            return type(self)(self.steps[ind], memory=self.memory, verbose=self.verbose)
        if isinstance(ind, str):
            return self.named_steps[ind]
        return self.steps[ind][1]

    @property
    def n_features_in_(self) -> int:
        """Points per input spectrum seen in ``fit``."""
        check_fitted(self, "axis_in_")
        return self.axis_in_.n_points

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Axis positions of the output as strings (table-format column names)."""
        check_fitted(self, "axis_out_")
        return np.asarray(axis_column_names(self.axis_out_), dtype=object)

    def set_output(self, *, transform: str | None = None) -> StepsProtocol:
        """Set the output container of every step (as ``sklearn.pipeline.Pipeline``)."""
        for _, step in self.steps:
            if not _skipped(step) and hasattr(step, "set_output"):
                step.set_output(transform=transform)
        return super().set_output(transform=transform)
