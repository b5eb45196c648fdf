"""An OpenAI-compatible chat-completions client: any local or remote server speaking the protocol
(llama.cpp's server, vLLM, Ollama's /v1, LM Studio, OpenAI itself...).

One call is one POST to <endpoint>/chat/completions. Every network wait (connect, send, each read)
is bounded by the timeout, and reading the answer stops at a deadline of the same length from the
start and at a maximum size, so a server that drips or floods cannot hold a worker. Every failure
is a ProviderError saying what happened and whether another try could help.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .models import CallOutcome

MAX_ANSWER_BYTES = 512 * 1024
USER_AGENT = "Coda-Providers/1"
# HTTP errors worth another try: the server is busy, briefly away, or timed out itself.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class ProviderError(Exception):
    """A call that gave nothing usable: `outcome` (a CallOutcome), whether to retry, a `message` fit
    for the composition's owner (progress events) and a `detail` for staff only (the call log: an
    error body may quote a masked key or an internal name)."""

    def __init__(
        self,
        outcome: str,
        message: str,
        *,
        retryable: bool = True,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.detail = detail

    @property
    def logged(self) -> str:
        """What the call log keeps."""
        return f"{self.message}: {self.detail}" if self.detail else self.message


@dataclass(frozen=True)
class Completion:
    content: str  # the assistant message's text
    status_code: int
    model: str  # the model the server says answered


def completions_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/chat/completions"


def request_body(
    model: str, messages: list[dict[str, str]], *, seed: int, temperature: float, json_mode: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "seed": seed,
        "temperature": temperature,
        "stream": False,
    }
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    return body


def chat_completion(
    endpoint: str,
    *,
    model: str,
    api_key: str,
    messages: list[dict[str, str]],
    seed: int,
    timeout: float,
    temperature: float = 0.8,
    json_mode: bool = True,
) -> Completion:
    """POST one chat completion and return the assistant's text; ProviderError otherwise."""
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    body = json.dumps(
        request_body(model, messages, seed=seed, temperature=temperature, json_mode=json_mode)
    ).encode()
    deadline = time.monotonic() + timeout
    received = bytearray()
    try:
        # trust_env=False: no proxy from the environment sees the prompt or the key.
        with (
            httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client,
            client.stream("POST", completions_url(endpoint), content=body, headers=headers) as response,
        ):
            for chunk in response.iter_bytes():
                received.extend(chunk)
                if len(received) > MAX_ANSWER_BYTES:
                    raise ProviderError(
                        CallOutcome.INVALID, f"answered more than {MAX_ANSWER_BYTES // 1024} KB"
                    )
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("deadline passed while reading the answer")
            status = response.status_code
    except httpx.TimeoutException:
        raise ProviderError(CallOutcome.TIMEOUT, f"timed out after {timeout:g} s") from None
    except httpx.ConnectError as error:
        raise ProviderError(CallOutcome.UNREACHABLE, f"could not connect: {_short(error)}") from None
    except (httpx.RemoteProtocolError, httpx.NetworkError) as error:
        raise ProviderError(CallOutcome.UNREACHABLE, f"lost the connection: {_short(error)}") from None
    except httpx.HTTPError as error:
        raise ProviderError(CallOutcome.UNREACHABLE, f"{type(error).__name__}: {_short(error)}") from None
    text = received.decode("utf-8", errors="replace")
    if not 200 <= status < 300:
        detail = _error_detail(text)
        raise ProviderError(
            CallOutcome.HTTP_ERROR,
            f"answered HTTP {status}",
            retryable=status in RETRYABLE_STATUS,
            status_code=status,
            detail=detail,
        )
    content, model = _content(text)
    return Completion(content, status, model)


def _short(error: Exception) -> str:
    return (str(error) or type(error).__name__)[:200]


def _error_detail(text: str) -> str:
    """The message of an OpenAI-style error body, or the start of the body."""
    try:
        data = json.loads(text)
        message = data.get("error", {}).get("message") if isinstance(data, dict) else None
        if isinstance(message, str):
            return message[:200]
    except (ValueError, AttributeError):
        pass
    return text.strip()[:200]


def _content(text: str) -> tuple[str, str]:
    """(choices[0].message.content, model) of a chat-completion answer; ProviderError(INVALID) otherwise."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ProviderError(
            CallOutcome.INVALID, "answered something that is not JSON", detail=repr(text.strip()[:80])
        ) from None
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ProviderError(
            CallOutcome.INVALID,
            "answered something that is not a chat completion (no choices[0].message.content)",
        ) from None
    if not isinstance(content, str) or not content.strip():
        raise ProviderError(CallOutcome.INVALID, "answered an empty message")
    if choice.get("finish_reason") == "length":
        raise ProviderError(CallOutcome.INVALID, "stopped at its length limit before the answer was complete")
    model = data.get("model") if isinstance(data, dict) else None
    return content, model if isinstance(model, str) else ""
