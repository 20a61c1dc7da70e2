"""Getting updates in and messages out reliably: inbox, outbox, rate limiter, retries, updates."""
