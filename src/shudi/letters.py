"""Reading a citizen's letter (问政 / 网上来信) before matching: framing out, title and body apart.

A call is a sentence or two; a letter is a title line, a salutation, background, the history of
earlier complaints and thanks.  The framing (rules/letters.yaml, each pattern with why it is no
evidence) is removed, and the letter is offered to the classifier as several views: the whole
text without framing, the title alone, and — for a long body — windows of whole sentences.  The
engine scores every view and keeps, per scenario, its best score (shudi.engine), so a matter named
in the title or once in a long letter is found, several matters in one letter are all ranked, and
length alone does not dilute a letter into "no match".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .classifier import ScenarioMatch
from .normalize import normalize
from .source import read_model


class FramingSrc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    pattern: str
    why: str


class TitleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_chars: int = 60
    min_body_chars: int = 20


class ChunkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    longer_than: int = 240
    window_chars: int = 160
    max_windows: int = 6


class LetterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: TitleSpec = TitleSpec()
    chunks: ChunkSpec = ChunkSpec()
    framing: list[FramingSrc]


_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
_PUNCT_RUN = re.compile(r"[，,、\s]*([，,。！!？?；;])[，,、\s]*")


@dataclass
class Letter:
    text: str  # the whole letter without its framing
    title: str = ""
    windows: list[str] = field(default_factory=list)  # sentence windows of a long body
    removed: list[str] = field(default_factory=list)  # ids of the framing patterns that were found

    def views(self) -> list[str]:
        """The texts to score, the whole letter first; without duplicates or empty ones."""
        out = [v for v in (self.text, self.title, *self.windows) if v.strip()]
        return list(dict.fromkeys(out)) or [self.text]


class LetterReader:
    def __init__(self, path: Path) -> None:
        self.spec = read_model(path, LetterFile) if path.is_file() else LetterFile(framing=[])
        self._patterns = [(f.id, re.compile(f.pattern)) for f in self.spec.framing]

    def strip(self, normalized: str) -> tuple[str, list[str]]:
        """(the text without framing, the ids of the patterns removed)."""
        removed: list[str] = []
        for pid, rx in self._patterns:
            new = rx.sub("，", normalized)
            if new != normalized:
                removed.append(pid)
                normalized = new
        text = _PUNCT_RUN.sub(r"\1", normalized).strip("，, ")
        return text, removed

    def read(self, raw: str) -> Letter:
        """raw: the message as written (the title's line break is still there); the views are
        normalised (shudi.normalize)."""
        title, body = split_title(raw, self.spec.title)
        title, body = normalize(title), normalize(body)
        text, removed = self.strip(f"{title}。{body}" if title else body)
        letter = Letter(text=text, removed=removed)
        if title:
            letter.title = self.strip(title)[0]
            body = self.strip(body)[0]
        else:
            body = text
        c = self.spec.chunks
        if len(body) > c.longer_than:
            letter.windows = windows(body, max(c.window_chars, len(body) // c.max_windows + 1))
        return letter


def split_title(text: str, spec: TitleSpec) -> tuple[str, str]:
    """(title, body) when the first line is short and a body follows, else ("", text)."""
    first, sep, rest = text.partition("\n")
    first, rest = first.strip(), rest.strip()
    if sep and first and len(first) <= spec.max_chars and len(rest) >= spec.min_body_chars:
        return first, rest
    return "", text.strip()


def windows(body: str, size: int) -> list[str]:
    """Consecutive runs of whole sentences of about `size` characters."""
    out: list[str] = []
    cur = ""
    for sentence in (s for s in _SENTENCE_END.split(body) if s.strip()):
        if cur and len(cur) + len(sentence) > size:
            out.append(cur)
            cur = ""
        cur += sentence
    if cur:
        out.append(cur)
    return out if len(out) > 1 else []


def merge(views: list[list[ScenarioMatch]]) -> list[ScenarioMatch]:
    """One ranking of the scenario matches of all views of a letter: per scenario the view that
    scored it best (a matter is as strong as where it is named most plainly), best first."""
    best: dict[str, ScenarioMatch] = {}
    for matches in views:
        for m in matches:
            have = best.get(m.scenario.id)
            if have is None or m.raw > have.raw:
                best[m.scenario.id] = m
    return sorted(best.values(), key=lambda m: (-round(m.raw, 9), m.scenario.id))
