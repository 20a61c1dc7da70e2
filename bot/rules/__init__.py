"""Business rules that know neither Telegram nor SQL: transitions, forms, time, money, billing."""
