"""`python -m app`: serve on $HOST:$PORT (default 0.0.0.0:8000)."""

import os

import uvicorn

from .config import load_config

if __name__ == "__main__":
    uvicorn.run("app.main:app", host=os.environ.get("HOST", "0.0.0.0"), port=load_config().port)
