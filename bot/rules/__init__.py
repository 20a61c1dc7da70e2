"""Business rules as plain functions of data: no Telegram, no database."""
