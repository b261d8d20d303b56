"""Shop API.

Run with:  uvicorn app.main:app --host 0.0.0.0 --port 8000
      or:  python -m app            (listens on $PORT, default 8000)

Environment: PORT, DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD_FILE (or
DB_PASSWORD), CACHE_URL, LOG_LEVEL; see app/config.py.

Endpoints:
  GET  /health  liveness, no dependencies: {"status": "ok"}
  GET  /ready   checks PostgreSQL and Redis (503 if either is down)
  GET  /items   all items and the Redis counter items:created
  POST /items   {"name": "..."} -> inserts a row, increments the counter
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import psycopg
import redis
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from .config import Config, load_config

log = logging.getLogger("shop.api")


def _setup_logging() -> None:
    """LOG_LEVEL (debug, info, warning, error; default info) for this app's logger."""
    level = getattr(logging, os.environ.get("LOG_LEVEL", "info").upper(), None)
    if log.handlers:  # imported twice
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level if isinstance(level, int) else logging.INFO)
    log.propagate = False


_setup_logging()

COUNTER_KEY = "items:created"
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

_config: Config | None = None
_cache: redis.Redis | None = None
_schema_ready = False
_lock = threading.Lock()


def config() -> Config:
    global _config
    if _config is None:
        _config = load_config()
    return _config


def cache() -> redis.Redis:
    global _cache
    with _lock:
        if _cache is None:
            _cache = redis.Redis.from_url(
                config().cache_url,
                socket_connect_timeout=3,
                socket_timeout=3,
                decode_responses=True,
            )
        return _cache


def db() -> psycopg.Connection:
    """A new connection (closed by the caller's `with`); creates the table once."""
    global _schema_ready
    conn = psycopg.connect(**config().db_conninfo())
    if not _schema_ready:
        with _lock:
            if not _schema_ready:
                with conn.transaction():
                    conn.execute(SCHEMA)
                _schema_ready = True
    return conn


def health() -> dict[str, str]:
    return {"status": "ok"}


def item_row(row: tuple[Any, ...]) -> dict[str, Any]:
    item_id, name, created_at = row
    return {"id": item_id, "name": name, "created_at": created_at.isoformat()}


def _unavailable(what: str, exc: Exception) -> HTTPException:
    log.warning("%s unavailable: %s", what, exc)
    return HTTPException(status_code=503, detail=f"{what} unavailable: {exc.__class__.__name__}")


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    cfg = config()
    log.info("db=%s:%s/%s user=%s cache=%s", cfg.db_host, cfg.db_port, cfg.db_name, cfg.db_user, cfg.cache_url)
    try:  # best effort: the database may come up after us
        with db():
            pass
    except psycopg.Error as exc:
        log.warning("database not ready at startup (%s); will retry on first request", exc)
    yield
    if _cache is not None:
        _cache.close()


app = FastAPI(title="shop-api", lifespan=lifespan)


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@app.get("/health")
def get_health() -> dict[str, str]:
    return health()


@app.get("/ready")
def get_ready() -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        with db() as conn:
            conn.execute("SELECT 1").fetchone()
        checks["db"] = "ok"
    except psycopg.Error as exc:
        checks["db"] = f"error: {exc.__class__.__name__}"
    try:
        cache().ping()
        checks["cache"] = "ok"
    except redis.RedisError as exc:
        checks["cache"] = f"error: {exc.__class__.__name__}"
    if any(v != "ok" for v in checks.values()):
        raise HTTPException(status_code=503, detail={"status": "unavailable", **checks})
    return {"status": "ready", **checks}


@app.get("/items")
def list_items() -> dict[str, Any]:
    try:
        with db() as conn:
            rows = conn.execute("SELECT id, name, created_at FROM items ORDER BY id").fetchall()
    except psycopg.Error as exc:
        raise _unavailable("database", exc) from exc
    try:
        created = int(cache().get(COUNTER_KEY) or 0)
    except redis.RedisError as exc:
        raise _unavailable("cache", exc) from exc
    return {"items": [item_row(r) for r in rows], "created_total": created}


@app.post("/items", status_code=201)
def create_item(item: ItemIn) -> dict[str, Any]:
    try:
        with db() as conn:
            row = conn.execute(
                "INSERT INTO items (name) VALUES (%s) RETURNING id, name, created_at",
                (item.name,),
            ).fetchone()
    except psycopg.Error as exc:
        raise _unavailable("database", exc) from exc
    try:
        created = int(cache().incr(COUNTER_KEY))
    except redis.RedisError as exc:
        raise _unavailable("cache", exc) from exc
    return {"item": item_row(row), "created_total": created}
