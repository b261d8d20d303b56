"""Configuration from environment variables (stdlib only, no I/O at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Config:
    port: int
    db_host: str
    db_port: int
    db_name: str
    db_user: str
    db_password: str
    cache_url: str

    def db_conninfo(self) -> dict[str, object]:
        """Keyword arguments for psycopg.connect()."""
        return {
            "host": self.db_host,
            "port": self.db_port,
            "dbname": self.db_name,
            "user": self.db_user,
            "password": self.db_password,
            "connect_timeout": 3,
        }


def read_db_password(env: Mapping[str, str]) -> str:
    """The password from the file named by DB_PASSWORD_FILE, else DB_PASSWORD.

    Trailing newlines (as left by `echo secret > file`) are stripped.
    """
    path = env.get("DB_PASSWORD_FILE", "")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().rstrip("\r\n")
    return env.get("DB_PASSWORD", "")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def load_config(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    return Config(
        port=_int(env, "PORT", 8000),
        db_host=env.get("DB_HOST", "localhost"),
        db_port=_int(env, "DB_PORT", 5432),
        db_name=env.get("DB_NAME", "shop"),
        db_user=env.get("DB_USER", "shop"),
        db_password=read_db_password(env),
        cache_url=env.get("CACHE_URL", "redis://localhost:6379/0"),
    )
