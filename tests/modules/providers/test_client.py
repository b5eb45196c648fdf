"""The chat-completions client against real local servers: the request it sends, and each way a
server can fail (slow, dripping, garbage, an HTTP error, down) as a ProviderError saying so."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from modules.providers.models import CallOutcome
from modules.providers.openai import ProviderError, chat_completion, completions_url
from tests.modules.providers.chat import ChatServer

MESSAGES = [
    {"role": "system", "content": "Answer JSON."},
    {"role": "user", "content": 'Write the lyrics of this song:\n{"theme": ["ocean"], "sections": []}'},
]


def ask(endpoint: str, timeout: float = 2.0, api_key: str = "sk-test-123") -> str:
    return chat_completion(
        endpoint, model="tiny-llm", api_key=api_key, messages=MESSAGES, seed=42, timeout=timeout
    ).content


def failure(endpoint: str, timeout: float = 2.0) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        ask(endpoint, timeout)
    return caught.value


def test_the_request_is_an_openai_chat_completion_with_seed_json_mode_and_the_key(
    chat_server: Callable[..., ChatServer],
) -> None:
    chat = chat_server()
    content = ask(chat.endpoint)
    assert content == '{"title": "Songs of the Ocean Light", "sections": []}'
    (request,) = chat.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test-123"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "model": "tiny-llm",
        "messages": MESSAGES,
        "seed": 42,
        "temperature": 0.8,
        "stream": False,
        "response_format": {"type": "json_object"},
    }


def test_no_key_no_authorization_header(chat_server: Callable[..., ChatServer]) -> None:
    chat = chat_server()
    ask(chat.endpoint, api_key="")
    assert "Authorization" not in chat.requests[0].headers


def test_the_endpoint_may_end_with_a_slash() -> None:
    assert completions_url("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1/chat/completions"


def test_a_slow_server_times_out_at_the_timeout(chat_server: Callable[..., ChatServer]) -> None:
    chat = chat_server(mode="slow", delay=3.0)
    started = time.monotonic()
    error = failure(chat.endpoint, timeout=0.3)
    elapsed = time.monotonic() - started
    assert (error.outcome, error.message, error.retryable) == (
        CallOutcome.TIMEOUT,
        "timed out after 0.3 s",
        True,
    )
    assert 0.3 <= elapsed < 1.0


def test_a_dripping_server_is_cut_off_at_the_deadline(chat_server: Callable[..., ChatServer]) -> None:
    # Each byte comes well inside the read timeout; only the overall deadline stops it.
    chat = chat_server(mode="drip", delay=0.05)
    started = time.monotonic()
    error = failure(chat.endpoint, timeout=0.5)
    assert error.outcome == CallOutcome.TIMEOUT
    assert time.monotonic() - started < 1.2


def test_a_down_server_is_unreachable(closed_port: int) -> None:
    started = time.monotonic()
    error = failure(f"http://127.0.0.1:{closed_port}/v1")
    assert error.outcome == CallOutcome.UNREACHABLE and error.retryable
    assert error.message.startswith("could not connect: ")
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("html", "answered something that is not JSON"),
    ],
)
def test_an_answer_that_is_not_a_chat_completion_is_invalid(
    chat_server: Callable[..., ChatServer], mode: str, message: str
) -> None:
    error = failure(chat_server(mode=mode).endpoint)
    assert (error.outcome, error.message, error.retryable) == (CallOutcome.INVALID, message, True)
    # What came back is the server's, unchecked: only the staff-only call log quotes it.
    assert error.logged == f"{message}: '<html><body><h1>502 Bad Gateway</h1></body></html>'"


def test_a_wrong_path_is_an_http_error_not_retried(chat_server: Callable[..., ChatServer]) -> None:
    chat = chat_server()
    error = failure(f"http://127.0.0.1:{chat.port}/api")
    assert (error.outcome, error.status_code, error.retryable) == (CallOutcome.HTTP_ERROR, 404, False)
    assert chat.requests[0].path == "/api/chat/completions"


@pytest.mark.parametrize(("status", "retryable"), [(401, False), (400, False), (429, True), (503, True)])
def test_http_errors_keep_their_body_for_staff_only(
    chat_server: Callable[..., ChatServer], status: int, retryable: bool
) -> None:
    error = failure(chat_server(mode="status", status_code=status).endpoint)
    assert (error.outcome, error.status_code, error.retryable) == (CallOutcome.HTTP_ERROR, status, retryable)
    # The body (here quoting a masked key) goes to the call log, not into the owner's events.
    assert error.message == f"answered HTTP {status}"
    assert error.logged == f"answered HTTP {status}: Incorrect API key provided: sk-abc***xyz"
