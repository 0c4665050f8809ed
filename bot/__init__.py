"""paperboy: the daily Hugging Face papers digest, delivered to Telegram chats."""
