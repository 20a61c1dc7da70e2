"""Storage: the only place with SQL. Connection, migrations, repositories returning pydantic models."""

from storage.db import Database

__all__ = ["Database"]
