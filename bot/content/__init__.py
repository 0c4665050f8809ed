"""Text in: sources and their polling, and the ingest of files, folders and URLs into the archive.

Imports the pure parsers (`bot.digest`), `bot.config` and `storage`; never delivery or handlers.
"""
