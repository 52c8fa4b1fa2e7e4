"""Naming the off-list topic a message resembles, when it is answered "no match" (rules/offlist-topics.yaml).

The gate (shudi.calibration) decides whether a message is on the list; this only explains an
abstention in plain Chinese, by the topic of real off-list traffic whose words the message shares
most (学校教育: 学校、老师)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .source import read_model


class TopicSrc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    why: str
    words: list[str]


class TopicFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topics: list[TopicSrc]


class TopicReader:
    def __init__(self, path: Path) -> None:
        self.topics = read_model(path, TopicFile).topics if path.is_file() else []

    def closest(self, normalized: str, shown: int = 3) -> str | None:
        """「名称(词、词)」 of the topic with the most of its words in the text, or None."""
        best: tuple[int, int, TopicSrc, list[str]] | None = None
        for n, topic in enumerate(self.topics):
            found = [w for w in topic.words if w in normalized]
            if found and (best is None or len(found) > best[0]):
                best = (len(found), n, topic, found)
        if best is None:
            return None
        return f"{best[2].name}({'、'.join(best[3][:shown])})"
