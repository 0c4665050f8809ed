"""Prometheus metrics of this process: the counters and histograms each layer increments.

Imports prometheus_client only, so that every layer (delivery, content, telegram) may use it.
Counters are per process; the gauges read from the database (outbox rows by state, the last
sent row) are refreshed at scrape time by `bot.monitor` and read the same from any worker.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPDATES_HANDLED = Counter("paperboy_updates_handled", "Telegram updates run through the handlers")
UPDATE_SECONDS = Histogram(
    "paperboy_update_seconds",
    "Time to handle one Telegram update (every handler group, replies included)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
UPDATES_REPEATED = Counter(
    "paperboy_updates_repeated", "Updates dropped as repeats of a recent update_id (retries)"
)
MESSAGES_SENT = Counter(
    "paperboy_messages_sent", "Messages the Bot API accepted (send* methods)", ["method"]
)
RETRY_AFTER = Counter(
    "paperboy_telegram_retry_after", "429 Too Many Requests answers from the Bot API", ["method"]
)
RETRY_AFTER_SECONDS = Histogram(
    "paperboy_telegram_retry_after_seconds",
    "The retry_after of each 429 answer",
    buckets=(1, 2, 5, 10, 30, 60, 300, 1800),
)
DELIVERY_ROWS = Counter(
    "paperboy_delivery_rows", "Outbox rows this process's engine finished", ["outcome"]
)
DELIVERIES = Gauge(
    "paperboy_deliveries", "Outbox rows by state (database, read at scrape time)", ["state"]
)
LAST_DELIVERY = Gauge(
    "paperboy_delivery_last_sent_timestamp_seconds",
    "When the newest sent outbox row was sent (database, read at scrape time; 0: never)",
)
SOURCE_POLLS = Counter("paperboy_source_polls", "Polls of one digest source", ["kind"])
SOURCE_POLL_ERRORS = Counter(
    "paperboy_source_poll_errors", "Failed fetches or crashes while polling a source", ["kind"]
)
SUMMARIZER_CALLS = Counter("paperboy_summarizer_calls", "Chat-completion calls for summaries")
SUMMARIZER_FAILURES = Counter(
    "paperboy_summarizer_failures",
    "Summary calls that gave nothing usable (endpoint: no answer; rejected: failed validation)",
    ["reason"],
)
SUMMARIZER_TOKENS = Counter(
    "paperboy_summarizer_tokens", "Tokens the summary endpoint reported", ["kind"]
)
