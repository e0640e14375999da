"""Base class and registry of out-of-distribution detectors (higher score = more unusual)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from spectrakit.core.errors import ConfigError, DataError, ModelError
from spectrakit.core.numeric import as_float64
from spectrakit.core.registry import Registry

__all__ = ["DETECTORS", "OODDetector", "create_detector", "list_detectors", "register_detector"]

#: what a detector scores: model embeddings, model logits or masked-reconstruction errors.
INPUT_KINDS = ("embedding", "logits", "reconstruction")


def _check_detector(name: str, cls: Any) -> None:
    if getattr(cls, "input_kind", None) not in INPUT_KINDS:
        raise ConfigError(
            "invalid detector input kind",
            expected="one of " + ", ".join(INPUT_KINDS),
            got=repr(getattr(cls, "input_kind", None)),
        )


#: every OOD detector: ``cls.name`` -> class (with metadata ``input_kind``).
DETECTORS: Registry[type[OODDetector]] = Registry(
    "OOD detector",
    key=lambda cls: cls.name,
    case_sensitive=False,
    modules=("spectrakit.ood",),
    check=_check_detector,
)


def register_detector(cls: type[OODDetector]) -> type[OODDetector]:
    """Class decorator adding a detector to the registry under ``cls.name``."""
    return DETECTORS.register(cls, input_kind=cls.input_kind)


def list_detectors() -> list[str]:
    """Registered detector names."""
    return DETECTORS.names()


def create_detector(name: str, **params: Any) -> OODDetector:
    """A new, unfitted detector by registry name (e.g. ``"dime"``, ``"mahalanobis"``)."""
    return DETECTORS.lookup(name)(**params)


class OODDetector:
    """Common interface: ``fit``, ``score_samples``, ``calibrate``, ``predict``.

    Subclasses set ``name`` and ``input_kind`` and implement ``_fit(X, y)``,
    ``_score(X) -> (n,)``, ``_arrays() -> dict`` (learned arrays) and
    ``_set_arrays(arrays)``. Constructor arguments are stored unchanged and returned by
    :meth:`get_params` (JSON-able), so a detector is rebuilt from JSON + arrays, never pickle.

    Attributes
    ----------
    n_features_in_ : int
        Width D of the fitted inputs.
    threshold_ : float or None
        Score above which a sample is flagged, set by :meth:`calibrate`.
    false_rejection_ : float or None
        Target rate of in-distribution samples flagged, used by :meth:`calibrate`.
    """

    name: ClassVar[str] = ""
    input_kind: ClassVar[str] = "embedding"

    n_features_in_: int | None = None
    threshold_: float | None = None
    false_rejection_: float | None = None

    # ------------------------------------------------------------------ params
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ API
    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> OODDetector:
        """Learn the in-distribution region from ``X`` of shape (n, D) (labels ``y`` optional)."""
        X = self._check(X, fitting=True)
        if y is not None:
            y = np.asarray(y)
            if y.shape[0] != X.shape[0]:
                raise DataError(
                    "labels do not match the inputs",
                    expected=f"{X.shape[0]} labels",
                    got=f"{y.shape[0]}",
                )
        self.n_features_in_ = int(X.shape[1])
        self.threshold_ = None
        self._fit(X, y)
        return self

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """OOD score of each row of ``X`` (n, D); higher = more out-of-distribution."""
        return np.asarray(self._score(self._check(X)), dtype=np.float64)

    def calibrate(self, X_or_scores: np.ndarray, false_rejection: float = 0.05) -> OODDetector:
        """Set the threshold so ``false_rejection`` of held-out in-distribution data is flagged.

        Parameters
        ----------
        X_or_scores : ndarray of shape (n, D) or (n,)
            Held-out in-distribution inputs (not used in :meth:`fit`), or their scores.
        false_rejection : float, default=0.05
            Target fraction of in-distribution samples flagged as OOD.
        """
        if not 0.0 < float(false_rejection) < 1.0:
            raise ConfigError(
                "invalid false-rejection rate",
                expected="a fraction in (0, 1), e.g. 0.05",
                got=str(false_rejection),
            )
        arr = np.asarray(X_or_scores, dtype=np.float64)
        scores = arr if arr.ndim == 1 else self.score_samples(arr)
        if scores.size < 2 or not np.all(np.isfinite(scores)):
            raise DataError(
                "cannot calibrate the OOD threshold",
                expected="at least 2 finite held-out scores",
                got=f"{scores.size} scores",
                fix="hold out some in-distribution spectra (e.g. 20 %) for calibration",
            )
        self.threshold_ = float(np.quantile(scores, 1.0 - float(false_rejection)))
        self.false_rejection_ = float(false_rejection)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Boolean (n,): True where the sample is out-of-distribution."""
        if self.threshold_ is None:
            raise ModelError(
                "the OOD detector has no threshold",
                expected="a calibrated detector",
                got="threshold_=None",
                fix="call detector.calibrate(heldout_in_distribution, false_rejection=0.05)",
            )
        return self.score_samples(X) > self.threshold_

    # ------------------------------------------------------------------ helpers
    def _check(self, X: np.ndarray, fitting: bool = False) -> np.ndarray:
        if not fitting and self.n_features_in_ is None:
            raise ModelError(
                f"{type(self).__name__} is not fitted",
                expected="a fitted detector",
                got="no training data seen",
                fix="call fit(training_inputs) first",
            )
        X = as_float64(X, "OOD inputs are not numeric")
        if X.ndim == 1 and self.input_kind == "reconstruction":
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] == 0:
            raise DataError(
                f"{self.input_kind} inputs have the wrong shape",
                expected="a non-empty array (n_samples, n_features)",
                got=f"shape {X.shape}",
            )
        if not np.all(np.isfinite(X)):
            raise DataError(f"{self.input_kind} inputs contain NaN or infinite values")
        width_fixed = self.input_kind != "reconstruction"  # any number of masks
        if not fitting and width_fixed and X.shape[1] != self.n_features_in_:
            raise DataError(
                f"{self.input_kind} width differs from training",
                expected=f"{self.n_features_in_} features",
                got=f"{X.shape[1]}",
                fix=f"score {self.input_kind}s of the model the detector was fitted with",
            )
        return X

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        raise NotImplementedError

    def _score(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        return None
