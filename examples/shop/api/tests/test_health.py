"""Unit tests that need neither a database, Redis nor an HTTP client."""

from app.config import load_config, read_db_password
from app.main import health


def test_health_payload():
    assert health() == {"status": "ok"}


def test_config_defaults():
    cfg = load_config({})
    assert cfg.port == 8000
    assert cfg.db_port == 5432
    assert cfg.db_password == ""
    assert cfg.cache_url.startswith("redis://")


def test_config_from_env():
    cfg = load_config(
        {
            "PORT": "9000",
            "DB_HOST": "db",
            "DB_PORT": "5433",
            "DB_NAME": "shop",
            "DB_USER": "app",
            "DB_PASSWORD": "pw",
            "CACHE_URL": "redis://cache:6379/0",
        }
    )
    assert (cfg.port, cfg.db_host, cfg.db_port) == (9000, "db", 5433)
    assert cfg.db_conninfo()["password"] == "pw"
    assert cfg.cache_url == "redis://cache:6379/0"


def test_password_file_wins_over_env(tmp_path):
    secret = tmp_path / "db_password"
    secret.write_text("from-file\n", encoding="utf-8")
    env = {"DB_PASSWORD_FILE": str(secret), "DB_PASSWORD": "from-env"}
    assert read_db_password(env) == "from-file"
    assert read_db_password({"DB_PASSWORD": "from-env"}) == "from-env"
