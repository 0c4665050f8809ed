"""Command handlers: one module per command family, each exporting `HANDLERS` for bot.app."""
