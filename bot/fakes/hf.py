"""A loopback fake of the Hugging Face daily-papers list (`GET /api/daily_papers`).

    fake = FakeHF("bot/samples/hf_api_b")
    async with fake.running(port=0):
        template = fake.url_template  # …/api/daily_papers?date={date:%Y-%m-%d}, for DIGEST_SOURCES
        fake.release(day, 3)          # the day's list shows its first three entries so far
        fake.bump_votes(day, "2501.04519", by=5)
        fake.fail(429, retry_after=2) # the next request is throttled
        fake.count(date=day)          # requests seen for that day

It serves what the live API does: `date=YYYY-MM-DD`, `week=YYYY-Www` or `month=YYYY-MM` (none:
the newest day), pages of `limit` entries (default 50, 1..100) numbered by `p` from 0, a JSON
list of entry objects, a strong ETag and 304 for a matching If-None-Match. Days come from a
folder of `YYYY-MM-DD.json` files (every shape the corpus has: lists of objects or of Python
literal strings, the `{data: […]}` envelope, a bare number) and from `add_day`/`add_paper`.
Faults are queued and answer the next API requests in order: an HTTP status (429 with
Retry-After, 500, …), a malformed body (JSON cut short) or a partial page (a valid list
missing its tail). The same controls are on `/_control/…` for a fake in another process.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import hashlib
import json
import re
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from bot.fakes.loopback import LoopbackServer

Entry = dict[str, Any]
FaultKind = Literal["status", "malformed", "partial"]

API_PATH = "/api/daily_papers"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class QueryError(ValueError):
    """A query the API refuses (answered 400 with the message)."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One queued misbehaviour: a status, a malformed body or a partial page."""

    kind: FaultKind
    status: int = 200
    retry_after: int | None = None
    keep: int | None = None  # partial pages: entries kept (None: half the page)


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the fake answered: its path, query and status."""

    path: str
    query: Mapping[str, str]
    status: int


@dataclass(slots=True)
class _Day:
    """A day's full list and how much of it is released (None: all of it)."""

    entries: list[Entry]
    shown: int | None = None

    def visible(self) -> list[Entry]:
        """The entries released so far, in list order."""
        return self.entries if self.shown is None else self.entries[: self.shown]


class FakeHF(LoopbackServer):
    """The fake daily-papers API: days, releases and votes, queued faults, request counts."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.days: dict[dt.date, _Day] = {}
        self.faults: deque[Fault] = deque()
        self.hits: list[Hit] = []
        if folder is not None:
            self.load_folder(folder)

    # the data

    def load_folder(self, folder: str | Path) -> list[dt.date]:
        """Add every `YYYY-MM-DD.json` file of `folder` as a fully released day."""
        added = []
        for path in sorted(Path(folder).iterdir()):
            match = _FILE_NAME.match(path.name)
            if match is not None and path.is_file():
                date = dt.date.fromisoformat(match[1])
                self.add_day(date, read_entries(path.read_text(encoding="utf-8-sig")))
                added.append(date)
        return added

    def add_day(
        self, date: dt.date, entries: Iterable[Mapping[str, Any]], *, shown: int | None = None
    ) -> None:
        """Set a day's whole list (copied); `shown` entries released (None: all)."""
        self.days[date] = _Day([copy.deepcopy(dict(entry)) for entry in entries], shown)

    def add_paper(
        self,
        date: dt.date,
        arxiv_id: str,
        title: str,
        *,
        upvotes: int = 0,
        authors: Sequence[str] = (),
        summary: str = "",
    ) -> Entry:
        """Append an entry shaped like the API's to a day's list (made if new); return it."""
        entry = new_entry(arxiv_id, title, upvotes=upvotes, authors=authors, summary=summary)
        self.days.setdefault(date, _Day([])).entries.append(entry)
        return entry

    def release(self, date: dt.date, count: int | None = None) -> None:
        """Show the first `count` entries of the day (None: all); the list grows as it rises."""
        day = self._day(date)
        day.shown = None if count is None else max(0, min(count, len(day.entries)))

    def bump_votes(self, date: dt.date, arxiv_id: str | None = None, *, by: int = 1) -> int:
        """Add `by` upvotes to one paper of the day (None: every paper); return how many."""
        bumped = 0
        for entry in self._day(date).entries:
            paper = _paper_of(entry)
            if arxiv_id is None or paper.get("id") == arxiv_id:
                paper["upvotes"] = int(paper.get("upvotes") or 0) + by
                bumped += 1
        if arxiv_id is not None and not bumped:
            raise KeyError(f"{arxiv_id} is not on {date.isoformat()}")
        return bumped

    def entries(self, date: dt.date) -> list[Entry]:
        """The day's released entries as the API serves them (copies)."""
        day = self.days.get(date)
        return copy.deepcopy(day.visible()) if day is not None else []

    def _day(self, date: dt.date) -> _Day:
        """A known day, or a KeyError naming it."""
        try:
            return self.days[date]
        except KeyError:
            raise KeyError(f"no day {date.isoformat()}") from None

    # faults and counts

    def fail(self, status: int = 500, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` API requests with `status` (429 gets a Retry-After)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self.faults.extend([Fault("status", status, retry_after)] * times)

    def malformed(self, *, times: int = 1) -> None:
        """Answer the next `times` API requests with 200 and a JSON list cut short."""
        self.faults.extend([Fault("malformed")] * times)

    def partial(self, *, times: int = 1, keep: int | None = None) -> None:
        """Answer the next `times` API requests with only the first `keep` entries of the page."""
        self.faults.extend([Fault("partial", keep=keep)] * times)

    def count(self, *, date: dt.date | None = None, status: int | None = None) -> int:
        """API requests answered (for one `date=` and/or with one status)."""
        return sum(
            1
            for hit in self.hits
            if hit.path == API_PATH
            and (date is None or hit.query.get("date") == date.isoformat())
            and (status is None or hit.status == status)
        )

    # serving

    @property
    def base_url(self) -> str:
        """The server's root URL (`…/api/daily_papers` hangs off it)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url_template(self) -> str:
        """A `DIGEST_SOURCES` template asking this fake for one day."""
        return f"{self.base_url}{API_PATH}?date={{date:%Y-%m-%d}}"

    def app(self) -> web.Application:
        """The aiohttp application: the API and the control endpoints."""
        app = web.Application()
        app.router.add_get(API_PATH, self._handle_api)
        controls: dict[str, Callable[[dict[str, Any]], object]] = {
            "release": self._control_release,
            "bump": self._control_bump,
            "fault": self._control_fault,
            "day": self._control_day,
            "stats": self._control_stats,
        }
        for name, handler in controls.items():
            app.router.add_route("*", f"/_control/{name}", _control(handler))
        return app

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Answer one list request: a queued fault, 400, 304 or the page."""
        response = self._answer(request)
        self.hits.append(Hit(request.path, dict(request.query), response.status))
        return response

    def _answer(self, request: web.Request) -> web.Response:
        """The response to a list request (faults first, as a proxy in front would)."""
        fault = self.faults.popleft() if self.faults else None
        if fault is not None and fault.kind == "status":
            return _status(fault)
        try:
            entries = self.select(request.query)
        except QueryError as exc:
            return _json({"error": str(exc)}, status=400)
        if fault is not None and fault.kind == "partial":
            entries = entries[: len(entries) // 2 if fault.keep is None else fault.keep]
        body = json.dumps(entries, ensure_ascii=False).encode("utf-8")
        if fault is not None and fault.kind == "malformed":
            return web.Response(
                body=body[: max(1, len(body) // 2)], content_type="application/json"
            )
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if _matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/json", headers={"ETag": etag})

    def select(self, query: Mapping[str, str]) -> list[Entry]:
        """The entries a query asks for: its days' released lists, then its page."""
        days = _query_days(query, newest=max(self.days, default=None))
        entries = [
            entry for date in days if date in self.days for entry in self.days[date].visible()
        ]
        limit = _int_param(query, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        page = _int_param(query, "p", 0, low=0, high=None)
        return entries[page * limit : (page + 1) * limit]

    # control endpoints (JSON in, JSON out)

    def _control_release(self, body: dict[str, Any]) -> object:
        """`release`: show the first `n` entries of `date` (no `n`: all)."""
        count = body.get("n")
        self.release(_date(body["date"]), None if count is None else int(count))
        return {"shown": len(self.entries(_date(body["date"])))}

    def _control_bump(self, body: dict[str, Any]) -> object:
        """`bump`: add `by` votes to `arxiv_id` on `date` (no id: every paper)."""
        return {
            "bumped": self.bump_votes(
                _date(body["date"]), body.get("arxiv_id"), by=int(body.get("by", 1))
            )
        }

    def _control_fault(self, body: dict[str, Any]) -> object:
        """`fault`: queue a `status` (with `retry_after`), `malformed` or `partial` answer."""
        kind, times = body.get("kind", "status"), int(body.get("times", 1))
        if kind == "status":
            retry = body.get("retry_after")
            self.fail(
                int(body.get("status", 500)),
                times=times,
                retry_after=None if retry is None else int(retry),
            )
        elif kind == "malformed":
            self.malformed(times=times)
        elif kind == "partial":
            keep = body.get("keep")
            self.partial(times=times, keep=None if keep is None else int(keep))
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        return {"queued": len(self.faults)}

    def _control_day(self, body: dict[str, Any]) -> object:
        """`day`: set `date`'s whole list to `entries`, `shown` of them released."""
        entries = body.get("entries", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError("entries must be a list of objects")
        shown = body.get("shown")
        self.add_day(_date(body["date"]), entries, shown=None if shown is None else int(shown))
        return {"entries": len(entries)}

    def _control_stats(self, body: dict[str, Any]) -> object:
        """`stats`: requests by status, released entries by day, faults queued."""
        return {
            "requests": self.count(),
            "by_status": {
                str(s): self.count(status=s) for s in sorted({h.status for h in self.hits})
            },
            "days": {d.isoformat(): len(day.visible()) for d, day in sorted(self.days.items())},
            "faults_queued": len(self.faults),
        }


def read_entries(text: str) -> list[Entry]:
    """The entry objects of an HF list file, whatever its shape (see the module docstring)."""
    document = json.loads(text)
    if isinstance(document, dict):
        document = document.get("data", [])
    if not isinstance(document, list):
        return []  # the API's bare `1` for a day without data
    entries = []
    for item in document:
        value = _literal(item) if isinstance(item, str) else item
        if isinstance(value, dict):
            entries.append(value)
    return entries


def _literal(text: str) -> object:
    """A Python dict literal (some producers wrote `repr()` of each entry), never with eval."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        try:
            return json.loads(text)
        except ValueError:
            return None


def new_entry(
    arxiv_id: str, title: str, *, upvotes: int = 0, authors: Sequence[str] = (), summary: str = ""
) -> Entry:
    """An entry with the fields our parser reads, shaped like the live API's."""
    paper = {
        "id": arxiv_id,
        "title": title,
        "summary": summary,
        "upvotes": upvotes,
        "authors": [{"name": name, "hidden": False} for name in authors],
    }
    thumbnail = f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png"
    return {"paper": paper, "title": title, "thumbnail": thumbnail, "numComments": 0}


def _paper_of(entry: Entry) -> dict[str, Any]:
    """The entry's `paper` object (flat entries are their own paper)."""
    paper = entry.get("paper")
    return paper if isinstance(paper, dict) else entry


def _query_days(query: Mapping[str, str], *, newest: dt.date | None) -> list[dt.date]:
    """The days a query names: one `date`, an ISO `week`, a `month`, or the newest day."""
    given = [name for name in ("date", "week", "month") if name in query]
    if len(given) > 1:
        raise QueryError("use one of date, week or month")
    if not given:
        return [] if newest is None else [newest]
    name = given[0]
    try:
        return _PERIODS[name](query[name])
    except ValueError:
        raise QueryError(f"invalid {name} {query[name][:40]!r}") from None


def _one_day(value: str) -> list[dt.date]:
    """`YYYY-MM-DD` (only this form: `fromisoformat` alone also takes `20250110`)."""
    if _DATE.fullmatch(value) is None:
        raise ValueError(value)
    return [dt.date.fromisoformat(value)]


def _week_days(value: str) -> list[dt.date]:
    """The seven days of ISO week `YYYY-Www`, Monday first."""
    match = _WEEK.fullmatch(value)
    if match is None:
        raise ValueError(value)
    monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    return [monday + dt.timedelta(days=offset) for offset in range(7)]


def _month_days(value: str) -> list[dt.date]:
    """Every day of month `YYYY-MM`."""
    match = _MONTH.fullmatch(value)
    if match is None:
        raise ValueError(value)
    first = dt.date(int(match[1]), int(match[2]), 1)
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [first + dt.timedelta(days=n) for n in range((following - first).days)]


_PERIODS: dict[str, Callable[[str], list[dt.date]]] = {
    "date": _one_day,
    "week": _week_days,
    "month": _month_days,
}


def _int_param(
    query: Mapping[str, str], name: str, default: int, *, low: int, high: int | None
) -> int:
    """An integer parameter within bounds, or a QueryError."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        raise QueryError(
            f"{name} must be between {low} and {high}" if high else f"{name} must be >= {low}"
        )
    return value


def _matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, as for GET)."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def _status(fault: Fault) -> web.Response:
    """A fault's error response, shaped like the Hub's `{"error": …}`."""
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    return _json({"error": f"fake HF: status {fault.status}"}, status=fault.status, headers=headers)


def _json(
    body: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response."""
    text = json.dumps(body, ensure_ascii=False)
    return web.Response(text=text, status=status, content_type="application/json", headers=headers)


def _date(value: object) -> dt.date:
    """A control body's `date`."""
    return dt.date.fromisoformat(str(value))


def _control(
    handler: Callable[[dict[str, Any]], object],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A control endpoint: query and JSON body in, `{"ok": …, "result": …}` out (400 on errors)."""

    async def handle(request: web.Request) -> web.Response:
        body: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            try:
                posted = await request.json()
            except ValueError:
                return _json({"ok": False, "description": "body is not JSON"}, status=400)
            if isinstance(posted, dict):
                body.update(posted)
        try:
            result = handler(body)
        except (KeyError, TypeError, ValueError) as exc:
            return _json({"ok": False, "description": f"{type(exc).__name__}: {exc}"}, status=400)
        return _json({"ok": True, "result": result})

    return handle
