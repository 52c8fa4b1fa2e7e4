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


class StepDeadline(BaseModel):
    """A platform step's deadline: `step` (an action) is due `working_days` after the latest of
    its `anchor` events (an action name, or `found` for when a street found the matter)."""

    model_config = ConfigDict(extra="forbid")
    step: str
    what: str
    anchor: list[str]
    working_days: int
    complexity: str | None = None


class PlatformPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = None
    deadlines: list[StepDeadline] = []
    urgent_immediate: list[str] = []
    reopen_on_unsatisfied: bool = False


class ResponseProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    source: str
    steps: list[ProfileStep]
    platform: PlatformPolicy = PlatformPolicy()


class ProfilesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profiles: dict[str, ResponseProfile]


def load_profiles(path: Path) -> dict[str, ResponseProfile]:
    return read_model(path, ProfilesFile).profiles
