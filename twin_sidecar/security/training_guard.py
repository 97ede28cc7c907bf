"""Poisoning defence: data from sources the twin distrusts stay out of its training.

A report or transition names the subjects it came from (the E2 nodes whose KPM it carries, the xApp
that acted); it is admitted only while every one of them is trusted at least ``threshold``. Every
exclusion is recorded (bounded log plus totals per subject), and so is the moment a subject's data are
admitted again after its trust recovered. What was excluded stays excluded: it was produced while the
source was distrusted.

``keep_mask`` filters a ``TransitionBatch`` (rows name the node acted on; the observation carries every
node's KPM, so a row also depends on every node in ``all_sources``); ``wrap`` puts the guard in front
of a transition sink (the sync engine's ``on_transitions``).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ricproto.transition import TransitionBatch

TrustLookup = Callable[[str], float]


@dataclass(frozen=True)
class Exclusion:
    t_s: float
    what: str  # "report", "transition", ...
    subject: str  # the distrusted source that caused it
    trust: float


class TrainingGuard:
    def __init__(self, trust_of: TrustLookup, threshold: float = 0.6, log_size: int = 10_000) -> None:
        self.trust_of = trust_of
        self.threshold = threshold
        self.log: deque[Exclusion] = deque(maxlen=log_size)
        self.excluded: Counter[str] = Counter()  # subject -> data items kept out
        self.admitted = 0
        self.readmissions: deque[tuple[float, str]] = deque(maxlen=1000)  # (t, subject) trusted again
        self._blocked: set[str] = set()
        self._lock = threading.Lock()
        self.all_sources: tuple[str, ...] = ()  # subjects every transition depends on (its nodes)

    def admit(self, sources: Iterable[str], t_s: float, what: str = "report") -> bool:
        """True when every source is trusted enough; otherwise record the exclusion."""
        bad = []
        with self._lock:
            for s in sources:
                score = self.trust_of(s)
                if score < self.threshold:
                    bad.append((s, score))
                    self._blocked.add(s)
                elif s in self._blocked:
                    self._blocked.discard(s)
                    self.readmissions.append((t_s, s))
            if not bad:
                self.admitted += 1
                return True
            for s, score in bad:
                self.log.append(Exclusion(t_s, what, s, round(score, 4)))
                self.excluded[s] += 1
            return False

    def keep_mask(self, batch: TransitionBatch, t_s: float) -> np.ndarray:
        keep = np.ones(len(batch), dtype=bool)
        for i, meid in enumerate(batch.meid):
            sources = [*self.all_sources, *([f"e2node:{meid}"] if meid else [])]
            keep[i] = self.admit(sources, t_s, "transition")
        return keep

    def wrap(
        self, sink: Callable[[TransitionBatch], None], clock: Callable[[], float]
    ) -> Callable[[TransitionBatch], None]:
        """A sink that passes on only the admitted rows of each batch."""

        def guarded(batch: TransitionBatch) -> None:
            keep = self.keep_mask(batch, clock())
            if keep.all():
                sink(batch)
            elif keep.any():
                sink(_rows(batch, np.flatnonzero(keep)))

        return guarded

    def status(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "admitted": self.admitted,
            "excluded": dict(self.excluded),
            "blocked_now": sorted(self._blocked),
            "recent_exclusions": [e.__dict__ for e in list(self.log)[-20:]],
            "readmissions": [{"t_s": t, "subject": s} for t, s in list(self.readmissions)[-20:]],
        }


def _rows(batch: TransitionBatch, idx: np.ndarray) -> TransitionBatch:
    values = {}
    for name, value in batch.__dict__.items():
        values[name] = [value[i] for i in idx] if isinstance(value, list) else value[idx]
    return TransitionBatch(**values)
