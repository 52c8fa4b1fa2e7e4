"""Facts read from the caller's text (rules/cues.yaml): emergency, planning area, homestead,
licence.  Each fired cue keeps the phrase that fired it, for the explanation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .source import CitationSrc, read_model


class CueSrc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    fact: str
    value: str
    label: str  # plain Chinese, shown to users instead of fact=value
    statement: str
    source: CitationSrc | str
    phrases: list[str]


class CueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    negators: list[str] = []
    negation_window: int = 3
    cues: list[CueSrc]


@dataclass(frozen=True)
class CueHit:
    fact: str
    value: str
    phrase: str
    statement: str
    label: str = ""


class CueReader:
    def __init__(self, path: Path) -> None:
        self.spec = read_model(path, CueFile)

    def _negated(self, text: str, start: int) -> bool:
        window = text[max(0, start - self.spec.negation_window) : start]
        return any(window.endswith(n) or n in window[-len(n) - 1 :] for n in self.spec.negators)

    def read(self, normalized: str) -> list[CueHit]:
        hits: list[CueHit] = []
        for cue in self.spec.cues:
            for phrase in cue.phrases:
                start = normalized.find(phrase)
                while start >= 0 and self._negated(normalized, start):
                    start = normalized.find(phrase, start + 1)
                if start >= 0:
                    hits.append(CueHit(cue.fact, cue.value, phrase, cue.statement, cue.label))
                    break
        return hits

    def is_inquiry(self, normalized: str) -> bool:
        """A service inquiry (请问, 怎么办理…): its word evidence counts less (shudi.classifier)."""
        return self.facts(self.read(normalized)).get("inquiry") == "true"

    @staticmethod
    def facts(hits: list[CueHit]) -> dict[str, str]:
        """One value per fact; where the text says both (城区 and 村里), the fact stays unknown."""
        values: dict[str, set[str]] = {}
        for h in hits:
            values.setdefault(h.fact, set()).add(h.value)
        return {k: next(iter(v)) for k, v in values.items() if len(v) == 1}
