"""The summarizer's client of an OpenAI-compatible chat-completions endpoint (sole `openai` user).

Plain text in, plain text out: one system and one user message, no JSON mode, no tools, so any
compatible server (OpenAI, vLLM, Ollama, llama.cpp, a loopback fake) answers. Retries are the
official client's own: on connection errors, timeouts, 408/409/429 and 5xx it retries
`max_retries` times with exponential backoff (0.5 s doubling to 8 s, with jitter), honouring a
`Retry-After`/`retry-after-ms` header of up to two minutes. What still fails after that becomes
an `EndpointError` whose message names the kind of failure, never the key or the request.
"""

from __future__ import annotations

from dataclasses import dataclass

import openai
from openai import AsyncOpenAI

from bot.config import Settings

DEFAULT_TIMEOUT = 60.0  # seconds per request: a summary takes a few seconds, a stuck one never ends
DEFAULT_RETRIES = 2
# Self-hosted servers often need no key, but the client refuses to start without one.
NO_KEY = "not-needed"


class EndpointError(Exception):
    """The endpoint did not answer usably after the client's retries (safe to log and store)."""


@dataclass(frozen=True, slots=True)
class Completion:
    """The model's text and what the endpoint reported it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int


class ChatClient:
    """One `AsyncOpenAI` client for the configured endpoint and model."""

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
    ) -> None:
        if settings.summary_api_base_url is None:
            raise ValueError("SUMMARY_API_BASE_URL is not set")
        key = settings.summary_api_key
        self.model = settings.summary_model
        self._client = AsyncOpenAI(
            base_url=settings.summary_api_base_url,
            api_key=key.get_secret_value() if key is not None else NO_KEY,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def complete(self, *, system: str, user: str, max_tokens: int) -> Completion:
        """Ask for one completion; raise EndpointError when none arrives."""
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                max_tokens=max_tokens,
            )
        except openai.APITimeoutError:
            raise EndpointError("timeout") from None
        except openai.APIStatusError as exc:
            raise EndpointError(f"HTTP {exc.status_code}") from None
        except openai.APIError as exc:
            # Connection errors and unreadable answers; the type is enough to act on.
            raise EndpointError(type(exc).__name__) from None
        choice = response.choices[0] if response.choices else None
        usage = response.usage
        return Completion(
            text=(choice.message.content or "") if choice is not None else "",
            prompt_tokens=usage.prompt_tokens if usage is not None else 0,
            completion_tokens=usage.completion_tokens if usage is not None else 0,
        )

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        await self._client.close()
