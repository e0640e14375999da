"""Detectors on embeddings, logits and reconstruction errors.

References
----------
- DIME: Sjögren & Trygg 2021, "Out-of-Distribution Example Detection in Deep Neural
  Networks using Distance to Modelled Embedding".
- Mahalanobis: Lee et al. 2018, "A Simple Unified Framework for Detecting
  Out-of-Distribution Samples and Adversarial Attacks".
- Energy: Liu et al. 2020, "Energy-based Out-of-distribution Detection".
- kNN: Sun et al. 2022, "Out-of-Distribution Detection with Deep Nearest Neighbors".
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.neighbors import NearestNeighbors

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.ood._base import OODDetector, register_detector

__all__ = ["DIME", "EnergyScore", "KNNDistance", "Mahalanobis", "ReconstructionError"]


@register_detector
class DIME(OODDetector):
    """Distance to the truncated-SVD hyperplane of the training embeddings.

    Parameters
    ----------
    n_components : int or float, default=0.99
        Number of singular vectors kept, or (float < 1) the fraction of variance they explain.
    """

    name = "dime"
    input_kind = "embedding"

    def __init__(self, n_components: int | float = 0.99) -> None:
        self.n_components = n_components

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self.mean_ = X.mean(axis=0)
        _, s, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        k = self.n_components
        if isinstance(k, float) and 0 < k < 1:
            var = np.cumsum(s**2) / max(float(np.sum(s**2)), 1e-300)
            k = int(np.searchsorted(var, k) + 1)
        elif not (isinstance(k, int | np.integer) and k >= 1):
            raise ConfigError(
                "invalid n_components", expected="an int >= 1 or a fraction in (0, 1)", got=str(k)
            )
        self.components_ = vt[: min(int(k), vt.shape[0])]

    def _score(self, X: np.ndarray) -> np.ndarray:
        d = X - self.mean_
        residual = d - (d @ self.components_.T) @ self.components_
        return np.linalg.norm(residual, axis=1)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "components": self.components_}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.mean_, self.components_ = arrays["mean"], arrays["components"]


@register_detector
class Mahalanobis(OODDetector):
    """Minimum Mahalanobis distance to a class mean with a shared (ridge) covariance.

    Parameters
    ----------
    ridge : float, default=1e-3
        Added to the covariance as ``ridge * mean(diag) * I`` (stable with D > n).
    """

    name = "mahalanobis"
    input_kind = "embedding"

    def __init__(self, ridge: float = 1e-3) -> None:
        self.ridge = ridge

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        labels = np.zeros(len(X), dtype=int) if y is None else np.unique(y, return_inverse=True)[1]
        means = np.stack([X[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
        centred = X - means[labels]
        cov = centred.T @ centred / len(X)
        cov += float(self.ridge) * max(float(np.mean(np.diag(cov))), 1e-12) * np.eye(len(cov))
        self.means_ = means
        self.precision_ = np.linalg.inv(cov)

    def _score(self, X: np.ndarray) -> np.ndarray:
        d = X[:, None, :] - self.means_[None, :, :]  # (n, K, D)
        dist = np.einsum("nkd,de,nke->nk", d, self.precision_, d)
        return dist.min(axis=1)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"means": self.means_, "precision": self.precision_}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.means_, self.precision_ = arrays["means"], arrays["precision"]


@register_detector
class EnergyScore(OODDetector):
    """Free energy of the logits, ``-T logsumexp(f / T)`` (higher = more unusual).

    Parameters
    ----------
    temperature : float, default=1.0
    """

    name = "energy"
    input_kind = "logits"

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = temperature

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if X.shape[1] < 2:
            raise DataError(
                "the energy score needs classifier logits",
                expected="logits with >= 2 classes",
                got=f"{X.shape[1]} output(s)",
                fix="use method='dime' or 'mahalanobis' for regression models",
            )

    def _score(self, X: np.ndarray) -> np.ndarray:
        t = float(self.temperature)
        return -t * logsumexp(X / t, axis=1)


@register_detector
class KNNDistance(OODDetector):
    """Distance to the k-th nearest training embedding after L2 normalization.

    Parameters
    ----------
    k : int, default=10
    """

    name = "knn"
    input_kind = "embedding"

    def __init__(self, k: int = 10) -> None:
        self.k = k

    @staticmethod
    def _normalize(X: np.ndarray) -> np.ndarray:
        return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if not 1 <= int(self.k) <= len(X):
            raise ConfigError(
                "invalid k for the kNN detector", expected=f"1 <= k <= {len(X)}", got=str(self.k)
            )
        self._set_arrays({"bank": self._normalize(X)})

    def _score(self, X: np.ndarray) -> np.ndarray:
        dist, _ = self.index_.kneighbors(self._normalize(X), n_neighbors=int(self.k))
        return dist[:, -1]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"bank": self.bank_}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.bank_ = arrays["bank"]
        self.index_ = NearestNeighbors().fit(self.bank_)


@register_detector
class ReconstructionError(OODDetector):
    """Masked-reconstruction error of a masked-pretrained model, standardized on training data.

    Inputs are per-spectrum errors of shape (n,) or (n, n_masks), e.g. from
    :func:`~spectrakit.ood.reconstruction_errors`; the score is their mean in units of the
    training errors' spread.
    """

    name = "reconstruction"
    input_kind = "reconstruction"

    def __init__(self) -> None:
        pass

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        e = X.mean(axis=1)
        self.stats_ = np.array([e.mean(), max(float(e.std()), 1e-12)])

    def _score(self, X: np.ndarray) -> np.ndarray:
        return (X.mean(axis=1) - self.stats_[0]) / self.stats_[1]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"stats": self.stats_}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.stats_ = arrays["stats"]
