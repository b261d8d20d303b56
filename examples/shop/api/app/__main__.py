"""`python -m app`: serve on 0.0.0.0:$PORT (default 8000)."""

import uvicorn

from .config import load_config

if __name__ == "__main__":
    uvicorn.run("app.main:app", host="0.0.0.0", port=load_config().port)
