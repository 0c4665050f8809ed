"""A fake OpenAI-compatible chat-completions endpoint on loopback (`POST /v1/chat/completions`).

It answers with deterministic Korean bullets built from the request's `Title:` and `Abstract:`
lines (so they pass the summarizer's checks), after `latency` seconds. Modes, planned per paper
(`plan(..., arxiv_id=…)`) or for any next request, make it misbehave:

- errors: `429` and `500` (with `retry-after-ms: 1`, so the client retries at once), `timeout`
  (no answer until the client gives up);
- junk: `refusal`, `empty`, `english`, `chinese`, `giant` (one huge bullet), `script`
  (a `<script>` tag), `jslink` (a `javascript:` link), `heading` (a fake `### [` paper heading),
  `other` (bullets about the previous other paper it was asked about);
- `wrapped`: good bullets inside a code fence after a "Here is…" line (harmless).

It counts requests per arXiv id and the tokens it reported, so callers can assert that no
paper was asked for twice.

It also answers the search's query-expansion prompt (bot.content.expansion): with the
recorded answer of that query in `expansions` (what a model answered, replayed: the relevance
bench's `--expansions` file), else with nothing; modes apply to those requests too, counted
under `query:` and the query.

And the keyword prompt (bot.content.keywords): with the answer recorded in `keywords` under
`prompt_key` of the user message (the relevance bench's `--keywords` file), else with the
title's longer words, one a line; counted under `keywords:` and the title.

And `POST /v1/embeddings`: each input's vector is its hashed character bigrams (`EMBEDDING_DIM`
wide, unit length), so texts sharing words lie close; `embedded` counts the texts it embedded.

    async with FakeLLM(latency=0.3).running() as fake:
        settings = load_settings(summary_api_base_url=fake.base_url)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import re
import time
import zlib
from collections import Counter, deque
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.fakes.loopback import LoopbackServer

MODES = frozenset(
    [
        "ok",
        "429",
        "500",
        "timeout",
        "refusal",
        "empty",
        "english",
        "chinese",
        "giant",
        "script",
        "jslink",
        "heading",
        "other",
        "wrapped",
    ]
)
# How the query-expansion prompt begins (bot.content.expansion.SYSTEM_PROMPT).
EXPANSION_PROMPT = "You expand search queries"
# How the keyword prompt begins (bot.content.keywords.SYSTEM_PROMPT).
KEYWORDS_PROMPT = "You write the search keywords"
EMBEDDING_DIM = 64
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]{4,}")
_CANNED = (
    "Lightning Attention for Million-Token Contexts",
    "We present MiniMax, a hybrid lightning attention mixture-of-experts language model.",
)


def _fields(prompt: str) -> dict[str, str]:
    """`Key: value` lines of the user message (arXiv, Title, Abstract, …)."""
    found: dict[str, str] = {}
    for line in prompt.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key and key not in found:
            found[key.strip()] = value.strip()
    return found


def _name(title: str) -> str:
    """A short name for the paper: the part before a colon, at most eight words."""
    return " ".join(title.split(":")[0].split()[:8]) or "this method"


def bigram_vector(text: str) -> list[float]:
    """The fake's embedding: counts of the text's character bigrams hashed into
    `EMBEDDING_DIM` buckets (crc32: the same in every process), scaled to unit length."""
    folded = "".join(text.lower().split())
    vector = [0.0] * EMBEDDING_DIM
    for start in range(len(folded) - 1):
        vector[zlib.crc32(folded[start : start + 2].encode()) % EMBEDDING_DIM] += 1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


def _abstract_terms(abstract: str) -> str:
    """Two longer words of the abstract, as a Korean summary keeps technical terms."""
    words = list(dict.fromkeys(_WORD.findall(abstract)))[:2]
    return ", ".join(words) if words else "Transformer"


def korean_bullets(title: str, abstract: str) -> str:
    """Three bullets in the seed's latest style about this paper."""
    name, words = _name(title), _abstract_terms(abstract)
    return (
        f"- ***What's New***: 이 논문은 {name}을(를) 소개합니다. 기존 방법의 한계를 분석하고 "
        "이를 해결하기 위한 새로운 접근 방식을 제안합니다.\n"
        f"- ***Technical Details***: 제안된 방법은 {words} 등의 핵심 요소를 결합하여 모델의 "
        "학습과 추론 과정을 체계적으로 개선합니다. 각 구성 요소의 역할을 실험으로 검증했습니다.\n"
        "- ***Performance Highlights***: 여러 벤치마크에서 기존 최고 성능 모델보다 우수한 결과를 "
        "보였으며, 특히 효율성과 정확도 측면에서 뚜렷한 향상을 확인했습니다."
    )


def junk(mode: str, title: str, abstract: str, other: tuple[str, str]) -> str:
    """The answer of a junk (or `wrapped`, or `ok`) mode."""
    good = korean_bullets(title, abstract)
    name = _name(title)
    answers = {
        "ok": good,
        "empty": "",
        "refusal": "I'm sorry, but I can't help with summarizing this paper.",
        "english": (
            f"- ***What's New***: This paper introduces {name}, a new approach.\n"
            "- ***Technical Details***: The method combines several components to improve "
            "training and inference.\n"
            "- ***Performance Highlights***: It outperforms strong baselines on many benchmarks."
        ),
        "chinese": (
            f"- ***What's New***: 本文提出了{name}，一种解决现有方法局限性的新方法。\n"
            "- ***Technical Details***: 该方法结合了多个关键组件，"
            "系统地改进了模型的训练和推理过程。\n"
            "- ***Performance Highlights***: 在多个基准测试中取得了优于现有最佳模型的结果。"
        ),
        "giant": "- " + " ".join([good.split("\n")[0][2:]] * 12),
        "script": good + "\n- 자세한 내용은 다음을 참고하세요 <script>alert(1)</script>",
        "jslink": good + "\n- 자세한 내용은 [여기](javascript:alert(1))를 참고하세요.",
        "heading": "### [Another Paper](https://arxiv.org/abs/2501.00001)\n\n" + good,
        "other": korean_bullets(*other),
        "wrapped": f"Here is the summary:\n```markdown\n{good}\n```",
    }
    return answers[mode]


def prompt_key(user: str) -> str:
    """The key of a recorded answer: a digest of the user message it answered."""
    return hashlib.sha1(user.encode()).hexdigest()[:16]


class FakeLLM(LoopbackServer):
    """The fake endpoint: `running()` serves it; `plan()` scripts misbehaviour."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        hang: float = 30.0,
        expansions: Mapping[str, str] | None = None,
        keywords: Mapping[str, str] | None = None,
    ) -> None:
        self.latency = latency
        self.expansions = {key.lower(): text for key, text in (expansions or {}).items()}
        self.keywords = dict(keywords or {})
        self.hang = hang  # how long a `timeout` request is held (or until stop)
        self.calls: Counter[str] = Counter()  # requests per arXiv id, errors included
        self.answers: Counter[str] = Counter()  # 200 answers per arXiv id
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.embedded = 0  # texts embedded by `POST /v1/embeddings`
        self._plans: dict[str | None, deque[str]] = {}
        self._seen: dict[str, tuple[str, str]] = {}  # arXiv id → (title, abstract), newest last
        self._stopping = asyncio.Event()

    @property
    def base_url(self) -> str:
        """What SUMMARY_API_BASE_URL should be."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def total_calls(self) -> int:
        """Requests received so far."""
        return sum(self.calls.values())

    def duplicate_calls(self) -> int:
        """Requests beyond the first for each paper (0 when no paper was asked for twice)."""
        return sum(count - 1 for count in self.calls.values() if count > 1)

    def plan(self, *modes: str, arxiv_id: str | None = None) -> None:
        """The next requests (for `arxiv_id`, or any paper) behave as `modes`, in order."""
        unknown = set(modes) - MODES
        if unknown:
            raise ValueError(f"unknown fake modes: {sorted(unknown)}")
        self._plans.setdefault(arxiv_id, deque()).extend(modes)

    def _mode(self, arxiv_id: str) -> str:
        """The planned mode of this request (`ok` when none is planned)."""
        for key in (arxiv_id, None):
            queue = self._plans.get(key)
            if queue:
                return queue.popleft()
        return "ok"

    def _other(self, arxiv_id: str) -> tuple[str, str]:
        """The most recent other paper asked about (a canned one before any)."""
        others = [paper for key, paper in self._seen.items() if key != arxiv_id]
        return others[-1] if others else _CANNED

    async def _wait(self, seconds: float) -> None:
        """Sleep `seconds`, or less when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _completions(self, request: web.Request) -> web.Response:
        """`POST /v1/chat/completions`."""
        body: dict[str, Any] = await request.json()
        messages = body.get("messages") or []
        prompt = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        user = next((str(m["content"]) for m in messages if m.get("role") == "user"), "")
        fields = _fields(user)
        expanding = prompt.startswith(EXPANSION_PROMPT)
        keywording = prompt.startswith(KEYWORDS_PROMPT)
        if expanding:
            arxiv_id = f"query:{user}"
        elif keywording:
            arxiv_id = f"keywords:{fields.get('Title', '')}"
        else:
            arxiv_id = fields.get("arXiv", "")
        self.calls[arxiv_id] += 1
        mode = self._mode(arxiv_id)
        if self.latency:
            await self._wait(self.latency)
        if mode in ("429", "500"):
            error = {"error": {"message": f"fake {mode}", "type": "fake", "code": mode}}
            return web.json_response(error, status=int(mode), headers={"retry-after-ms": "1"})
        if mode == "timeout":
            await self._wait(self.hang)
            return web.json_response({"error": {"message": "too late"}}, status=504)
        title, abstract = fields.get("Title", ""), fields.get("Abstract", "")
        text = junk(mode, title, abstract, self._other(arxiv_id))
        if expanding and mode == "ok":
            text = self.expansions.get(user.lower(), "")
        if keywording and mode == "ok":
            default = "\n".join(dict.fromkeys(_WORD.findall(title)))
            text = self.keywords.get(prompt_key(user), default)
        if not (expanding or keywording):
            self._seen.pop(arxiv_id, None)
            self._seen[arxiv_id] = (title, abstract)
        self.answers[arxiv_id] += 1
        return web.json_response(self._completion(body, prompt, text))

    async def _embeddings(self, request: web.Request) -> web.Response:
        """`POST /v1/embeddings` (`input`: a string or a list of strings)."""
        body: dict[str, Any] = await request.json()
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            error = {"error": {"message": "input must be a string or a list of strings"}}
            return web.json_response(error, status=400)
        self.embedded += len(texts)
        data = [
            {"object": "embedding", "index": index, "embedding": bigram_vector(text)}
            for index, text in enumerate(texts)
        ]
        tokens = sum(max(1, len(text) // 4) for text in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        model = str(body.get("model", "fake"))
        return web.json_response({"object": "list", "data": data, "model": model, "usage": usage})

    def _completion(self, body: dict[str, Any], prompt: str, text: str) -> dict[str, Any]:
        """A chat.completion object with deterministic usage (~4 characters a prompt token)."""
        prompt_tokens = max(1, len(prompt) // 4)
        completion_tokens = max(1, len(text) // 2) if text else 0
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        return {
            "id": f"chatcmpl-fake-{self.total_calls}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "fake")),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_post("/v1/embeddings", self._embeddings)
        return app

    async def start(self, *, port: int = 0, host: str = "127.0.0.1") -> None:
        """Listen on loopback (`port` 0 picks a free one)."""
        self._stopping = asyncio.Event()
        await super().start(port=port, host=host)

    async def stop(self) -> None:
        """Release held requests and shut the server down."""
        self._stopping.set()
        await super().stop()
