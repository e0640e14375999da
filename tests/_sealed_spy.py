"""A :class:`SealedTargets` that records when the choice is frozen and the test is scored."""

from __future__ import annotations

from spectrakit.evaluation.protocol import SealedTargets


def recording_sealed_targets(events: list[str]) -> type[SealedTargets]:
    """``SealedTargets`` subclass appending "freeze" and "score" to ``events`` as they happen."""

    class Recording(SealedTargets):
        def freeze(self, choices):
            events.append("freeze")
            super().freeze(choices)

        def score(self, predictions, metric):
            events.append("score")
            return super().score(predictions, metric)

    return Recording
