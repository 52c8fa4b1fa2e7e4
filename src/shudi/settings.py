"""The one settings object.  Built once by the service or a CLI command from SHUDI_* environment
variables (or passed in by a test) and handed down; no other module reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


DEFAULT_COUNTY = "template"


def source_root() -> Path:
    """The source checkout: where kb/, ontologies/ and rules/ live when SHUDI_ROOT is not set."""
    return Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHUDI_", extra="ignore", frozen=True)

    root: Path = Field(default_factory=source_root, description="folder holding kb/, rules/, ontologies/")
    county: str = Field(DEFAULT_COUNTY, description="the county served when a request names none")
    db_url: str | None = Field(None, description="SQLAlchemy URL of the store; default SQLite under <root>/.data/")
    tokens: str = Field("", description='API tokens: "tok=role:name;tok2=role:name"')
    tokens_file: Path | None = Field(None, description="YAML file: tokens: [{token, role, name}]")
    sparql_timeout: float = Field(5.0, gt=0)
    sparql_max_rows: int = Field(10000, gt=0)
    sparql_engine: Literal["oxigraph", "rdflib"] = "oxigraph"
    sparql_workers: int = Field(2, gt=0, description="SPARQL queries evaluated at once (one worker process each)")
    sparql_per_client: int = Field(1, gt=0, description="SPARQL queries one client address runs at once; more queue behind them (429 after one time limit)")
    max_body_bytes: int = Field(1_048_576, gt=0, description="largest request body accepted (413 beyond)")
    cors_origins: list[str] = Field(default_factory=list, description='origins allowed cross-origin (JSON list); none by default')
    rate_writes: str = Field("120/minute", description='per client: proposals, decisions, calls, events ("" = no limit)')
    rate_sparql: str = Field("300/minute", description="per client: SPARQL queries")
    rate_diff: str = Field("20/minute", description="per client: list diffs (seconds of CPU each)")
    platform_tokens: str = Field("", description='platform tokens: "tok=role:unit:name[@county];…" (township, dispatcher, department, supervisor)')
    platform_tokens_file: Path | None = Field(None, description="YAML file: tokens: [{token, role, unit, name, county}]")
    sweep_seconds: float = Field(60.0, ge=0, description="how often overdue calls are swept for 督办 (0: never)")
    model_cache: Path | None = Field(None, description="where learned models are cached (shared by scratch lists)")

    def store_url(self) -> str:
        if self.db_url:
            return self.db_url
        (self.root / ".data").mkdir(exist_ok=True)
        return f"sqlite:///{self.root / '.data' / 'shudi.sqlite'}"
