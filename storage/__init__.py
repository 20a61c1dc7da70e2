"""Storage: the only place with SQL: connection, migrations, repositories of pydantic models."""

from storage.db import Database

__all__ = ["Database"]
