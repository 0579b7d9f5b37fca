"""Typed settings read from environment variables, with safe defaults for local use.

Every setting can be overridden by an environment variable of the same name. Production
must set ``SECRET_KEY`` and should set ``DATABASE_URL`` to PostgreSQL + PostGIS.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def _env(name: str, default: Any, cast: type) -> Any:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if cast is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if cast is Path:
        return Path(raw)
    return cast(raw)


@dataclass
class Config:
    """Application settings; ``Config.from_env()`` reads them from the environment."""

    ENV: str = "development"
    SECRET_KEY: str = field(default_factory=lambda: secrets.token_hex(32))
    DATABASE_URL: str = f"sqlite:///{INSTANCE_DIR / 'tellus.db'}"
    # Path of the directory holding photos; created on start-up.
    UPLOAD_DIR: Path = INSTANCE_DIR / "uploads"
    # Where the Coventry reference geography lives (see its README for licences).
    GEO_DATA_DIR: Path = BASE_DIR.parent / "shared" / "data" / "coventry"
    # Empty TILE_URL means no tile layer at all: ward outlines are the base map.
    TILE_URL: str = OSM_TILES
    TILE_ATTRIBUTION: str = OSM_ATTRIBUTION
    # The bbox endpoint returns individual points up to this many, clusters beyond.
    MAP_MAX_POINTS: int = 400
    PAGE_SIZE: int = 25
    # Three photos of at most 10 MB each, plus the form fields.
    MAX_CONTENT_LENGTH: int = 32 * 1024 * 1024
    SESSION_COOKIE_SECURE: bool = False
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    WTF_CSRF_ENABLED: bool = True
    WTF_CSRF_TIME_LIMIT: int = 4 * 3600
    # argon2id cost: 3 passes over 64 MiB (above OWASP's minimum of 2 over 19 MiB).
    ARGON2_TIME_COST: int = 3
    ARGON2_MEMORY_KIB: int = 65536
    # Sign-in sessions: ended after this long unused, and this long after sign-in whatever.
    SESSION_IDLE_MINUTES: int = 60
    SESSION_ABSOLUTE_HOURS: int = 12
    # flask-limiter storage: memory:// suits one process; use redis://... for several.
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    # Demo mode: `flask demo load` creates demo organisations and sign-ins.
    DEMO_MODE: bool = True
    TESTING: bool = False
    SQL_ECHO: bool = False
    # Absolute links in emails start with this (no request to take the host from).
    PUBLIC_BASE_URL: str = "http://127.0.0.1:5000"
    # Email (docs/email.md): "file" writes .eml files to MAIL_DIR; "smtp" sends with SMTP_*.
    MAIL_TRANSPORT: str = "file"
    MAIL_DIR: Path = INSTANCE_DIR / "mail"
    MAIL_FROM: str = "TellUs Coventry <no-reply@tellus.coventry.example>"
    SMTP_HOST: str = "localhost"
    SMTP_PORT: int = 587
    SMTP_USERNAME: str = ""
    SMTP_PASSWORD: str = ""
    # Upgrade to TLS before logging in; turn off only for a relay on the same machine.
    SMTP_STARTTLS: bool = True
    # Seconds for each step of an SMTP conversation.
    SMTP_TIMEOUT: int = 30

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        """Build settings from environment variables, then apply ``overrides``.

        Raises ValueError when a variable cannot be converted to its setting's type.
        """
        values: dict[str, Any] = {}
        for f in fields(cls):
            cast = {"int": int, "bool": bool, "str": str, "Path": Path}[str(f.type)]
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            try:
                values[f.name] = _env(f.name, default, cast)
            except ValueError as exc:
                raise ValueError(f"Environment variable {f.name} is not a valid {cast.__name__}") from exc
        values.update(overrides)
        config = cls(**values)
        if config.ENV == "production":
            if "SECRET_KEY" not in os.environ:
                raise ValueError("Set SECRET_KEY in production: sessions would not survive a restart")
            config.SESSION_COOKIE_SECURE = True
        return config

    def as_flask(self) -> dict[str, Any]:
        """Return the settings as a plain mapping for ``app.config``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
