"""County response-time policies for calls (rules/response-profiles.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .source import read_model


class ProfileStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    what: str
    working_days: int
    complexity: str | None = None


class ResponseProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    source: str
    steps: list[ProfileStep]


class ProfilesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profiles: dict[str, ResponseProfile]


def load_profiles(path: Path) -> dict[str, ResponseProfile]:
    return read_model(path, ProfilesFile).profiles
