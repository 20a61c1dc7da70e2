"""Around the bot: the in-process Bot API, the sandbox and its demo data, backups."""
