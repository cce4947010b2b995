"""Whether to answer: a fitted model over the evidence an answer rests on, and, when it
declines, the reason in words.

A threshold on one score swept on the same questions it is judged on declines long
questions (their words are spread over more sentences) and quotes confidently on close-to-topic
questions no release answers. The judge here is a logistic regression over the evidence the
answerer gathers (:class:`~assistant.documents.Evidence`: how much of the question's
informative weight the best sentence and its release hold, the rarest question word the
release lacks, whether the sentence holds the kind of answer asked, the similarity, the
question's length...), fitted by ``benchmarks/fit_abstention.py`` on the tune halves of the
question sets plus negatives made from them (the same questions asked of the archive without
their release), and measured on the held-out halves. Its coefficients ship in
``assistant/models/abstention.json`` with the embedding model they were fitted for; with
another model the evidence means something else, and the judge falls back to the plain
threshold ``Settings.min_relevance`` on the best score.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any

from .documents import Evidence

__all__ = ["FEATURES", "Judge", "Verdict", "features", "load_judge"]

MODEL_FILE = "abstention.json"

FEATURES: tuple[str, ...] = tuple(f.name for f in fields(Evidence))
"""The order of the model's coefficients: every field of :class:`Evidence`."""


def features(evidence: Evidence) -> list[float]:
    return [float(getattr(evidence, name)) for name in FEATURES]


@dataclass(frozen=True, slots=True)
class Verdict:
    answer: bool
    confidence: float
    """The judge's probability that the archive answers the question (the threshold's own
    scale when no fitted model applies)."""
    reason: str | None = None
    """Why it declined, in words; None when it answers."""


@dataclass(frozen=True, slots=True)
class Judge:
    """A fitted logistic regression: standardised features, coefficients, a threshold."""

    embedder: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    names: tuple[str, ...] = FEATURES

    def confidence(self, evidence: Evidence) -> float:
        values = dict(zip(FEATURES, features(evidence), strict=True))
        z = self.intercept + sum(
            c * (values[n] - m) / (s or 1.0)
            for n, m, s, c in zip(self.names, self.mean, self.scale, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {"embedder": self.embedder, "features": list(self.names),
                "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef),
                "intercept": self.intercept, "threshold": self.threshold}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Judge:
        names = tuple(data["features"])
        if set(names) - set(FEATURES):
            raise ValueError(f"unknown features {sorted(set(names) - set(FEATURES))}")
        return cls(embedder=str(data["embedder"]), mean=tuple(data["mean"]),
                   scale=tuple(data["scale"]), coef=tuple(data["coef"]),
                   intercept=float(data["intercept"]), threshold=float(data["threshold"]),
                   names=names)


@lru_cache(maxsize=1)
def _shipped() -> Judge | None:
    try:
        text = resources.files("assistant").joinpath("models", MODEL_FILE).read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    return Judge.from_json(json.loads(text))


def load_judge(embedder: str) -> Judge | None:
    """The shipped judge when it was fitted for ``embedder``; None otherwise."""
    judge = _shipped()
    return judge if judge is not None and judge.embedder == embedder else None


def decide(evidence: Evidence, *, judge: Judge | None, min_relevance: float,
           missing_word: str | None = None, wanted_type: str | None = None) -> Verdict:
    """Answer or decline on ``evidence``. ``missing_word``: the question's rarest word that the
    best release lacks (for the reason); ``wanted_type``: the kind of answer asked."""
    if judge is None:
        confidence = evidence.best_score
        answer = confidence >= min_relevance
    else:
        confidence = judge.confidence(evidence)
        answer = confidence >= judge.threshold
    if answer:
        return Verdict(True, confidence)
    return Verdict(False, confidence, _reason(evidence, confidence, missing_word, wanted_type))


def _reason(evidence: Evidence, confidence: float, missing_word: str | None,
            wanted_type: str | None) -> str:
    if evidence.names_missing >= 0.5:
        return "the releases closest to the question lack most of the names it asks about"
    if missing_word and evidence.missing_rare >= 0.5:
        return f"no release close to the question mentions “{missing_word}”"
    if wanted_type and evidence.typed and not evidence.type_found:
        what = {"amount": "an amount", "number": "a number", "date": "a date",
                "person": "a name", "organisation": "an organisation", "place": "a place"}
        return (f"the closest sentences do not state {what.get(wanted_type, 'what is asked')} "
                "for what the question asks")
    return (f"the closest passages do not match the question well enough "
            f"(confidence {confidence:.2f})")
