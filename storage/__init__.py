"""All SQL lives here: models, engine and sessions, repositories and Alembic migrations."""
