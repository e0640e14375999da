"""scikit-learn's estimator protocol without importing scikit-learn.

Importing ``sklearn.base`` loads most of scikit-learn and SciPy (``scipy.stats``,
``scipy.sparse``: about 1.3 CPU s), which a preprocessing run from the command line never
uses. The steps and the pipeline therefore implement the protocol that scikit-learn's
tools rely on (``get_params``/``set_params`` for ``clone`` and grid searches,
``__sklearn_tags__``, ``set_output``, ``NotFittedError``) and import scikit-learn only
inside the methods that scikit-learn itself calls, or that need it (a pandas output
container, the not-fitted error).
"""

from __future__ import annotations

import inspect
import sys
from collections import defaultdict
from typing import Any

import numpy as np

__all__ = ["LightEstimator", "check_fitted"]

_NOT_FITTED = (
    "This {name} instance is not fitted yet. Call 'fit' with appropriate arguments "
    "before using this estimator."
)


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise scikit-learn's ``NotFittedError`` unless ``estimator`` has ``attribute``.

    The error class (a ``ValueError`` and ``AttributeError``) loads only when raised.
    """
    if hasattr(estimator, attribute):
        return
    from sklearn.exceptions import NotFittedError

    raise NotFittedError(_NOT_FITTED.format(name=type(estimator).__name__))


def _same(a: Any, b: Any) -> bool:
    """Whether a parameter value equals its default (arrays and NaN compare safely)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


class LightEstimator:
    """Base of the spectrakit estimators: the scikit-learn protocol, loaded lazily.

    Parameters are the keyword arguments of ``__init__``, stored unchanged as attributes
    of the same name (scikit-learn's convention), so ``clone`` rebuilds an estimator from
    :meth:`get_params`.
    """

    #: which outputs ``set_output`` may wrap (read by scikit-learn's output helpers).
    _sklearn_auto_wrap_output_keys = frozenset({"transform"})

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            raise RuntimeError(f"{cls.__name__}.__init__ must not take *args")
        return sorted(p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (and of nested ones as ``name__param``).

        Parameters
        ----------
        deep : bool, default=True
            Also list the parameters of parameter values that are estimators.

        Returns
        -------
        dict of str to object
        """
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> LightEstimator:
        """Set parameters (``name__param`` reaches a nested estimator).

        Returns
        -------
        self
        """
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = defaultdict(dict)
        for key, value in params.items():
            name, delim, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self}. "
                    f"Valid parameters are: {sorted(self.get_params(deep=False))!r}."
                )
            if delim:
                nested[name][sub] = value
            else:
                self._set_param(name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def _set_param(self, name: str, value: Any) -> None:
        setattr(self, name, value)

    def _changed_params(self) -> dict[str, Any]:
        init = type(self).__init__
        defaults = {
            p.name: p.default
            for p in inspect.signature(init).parameters.values()
            if p.default is not p.empty
        }
        return {
            k: v
            for k, v in self.get_params(deep=False).items()
            if k not in defaults or not _same(v, defaults[k])
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._changed_params().items())
        return f"{type(self).__name__}({args})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags of a transformer (called by scikit-learn only)."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(),
            input_tags=InputTags(allow_nan=bool(getattr(self, "_allow_nan", False))),
        )

    def set_output(self, *, transform: str | None = None) -> LightEstimator:
        """Choose the container of ``transform`` output, as in scikit-learn.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, optional
            ``None`` leaves the setting unchanged.

        Returns
        -------
        self
        """
        if transform is not None:
            config = dict(getattr(self, "_sklearn_output_config", {}))
            config["transform"] = transform
            self._sklearn_output_config = config
        return self

    def _wrap_output(self, out: Any, original: Any) -> Any:
        """``out`` in the container chosen by :meth:`set_output` or scikit-learn's config.

        Without a local choice and with scikit-learn not loaded, no global choice can
        exist either, so the array is returned as is, without importing scikit-learn.
        """
        if not getattr(self, "_sklearn_output_config", None) and "sklearn" not in sys.modules:
            return out
        from sklearn.utils._set_output import _wrap_data_with_container

        return _wrap_data_with_container("transform", out, original, self)
