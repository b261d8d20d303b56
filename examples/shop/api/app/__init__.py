"""Shop API: a small FastAPI service backed by PostgreSQL and Redis."""
