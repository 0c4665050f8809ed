"""Logging set-up: one place, and no record ever shows a bot token."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from typing import Literal

# Telegram tokens look like `123456:AA…`; in URLs they follow `/bot`.
TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|bot\d+:[A-Za-z0-9_-]+")
REDACTED = "[REDACTED]"
# Passwords in URLs (`//user:pass@host`) and secret-looking query values (`?token=…`), which
# httpx's request log lines carry when DEBUG turns them on.
URL_USERINFO = re.compile(r"//[^/\s@]+@")
SECRET_QUERY = re.compile(
    r"([?&][^=&\s]*(?:token|key|secret|pass|auth|sig|credential)[^=&\s]*=)[^&\s#]+",
    re.IGNORECASE,
)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# httpx logs every request (long polls too) at INFO: noise unless debugging; redacted either way.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler")


class RedactTokens(logging.Filter):
    """Replace the bot token (and anything token-shaped) in a record's message and arguments."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def redact(self, text: str) -> str:
        """`text` with every known secret and token-shaped string replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = URL_USERINFO.sub(f"//{REDACTED}@", text)
        text = SECRET_QUERY.sub(rf"\1{REDACTED}", text)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redact it, and drop the arguments (never the record)."""
        message = self.redact(record.getMessage())
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exc_info.

    It formats what the handler's `RedactTokens` filter left: the message and the traceback
    text are redacted before they get here, exactly as for text lines.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (a traceback stays inside its string)."""
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str = "INFO",
    *,
    secrets: Iterable[str] = (),
    log_format: Literal["text", "json"] = "text",
) -> RedactTokens:
    """Configure the root logger once: a stream handler whose filter redacts tokens."""
    redactor = RedactTokens(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(FORMAT))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in [h for h in root.handlers if any(isinstance(f, RedactTokens) for f in h.filters)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = level if logging.getLevelName(level) < logging.INFO else "WARNING"
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    return redactor
