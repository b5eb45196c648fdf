"""Real HTTP servers speaking OpenAI's /v1/chat/completions, started in threads by the tests.

`good` writes lyrics from the request it got: for every section asked, one line per entry with
exactly the syllables asked, starting on the first theme word and ending on a word of the line's
rhyme letter; so a test can check both that the prompt carried the context and that Coda used the
answer. `slow` answers after `delay`; `garbage` answers a chat completion whose message is prose;
`html` answers a web page; `short` leaves a line out of each section; `rude` puts a word the content
check refuses in the first line; `status` answers `status_code`; `drip` sends its answer a byte at a
time. `fail_first` makes the first n requests answer 503 whatever the mode. A down server is a port
nothing listens on (`closed_port`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pronouncing

from tests.local_http import LocalServer

FILLER = ("we", "sing", "of", "the", "wide", "blue", "sea", "and", "all", "its", "waves")
# Monosyllabic end words per rhyme letter (each group rhymes in the CMU dictionary).
RHYMES = {
    "A": ("night", "light", "bright", "flight"),
    "B": ("sea", "free", "me", "be"),
    "C": ("home", "foam", "roam", "dome"),
    "D": ("day", "way", "stay", "play"),
}
TITLE = "Songs of the Ocean Light"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def song(self) -> dict[str, Any]:
        """The song JSON the user message carried."""
        content = self.body["messages"][-1]["content"]
        return json.loads(content[content.index("{") :])


def syllables_of(word: str) -> int:
    return pronouncing.syllable_count(pronouncing.phones_for_word(word)[0])


def line_for(count: int, theme: str | None, rhyme: str, k: int) -> str:
    """A line of exactly `count` syllables: the theme word, filler, an end word of `rhyme`."""
    end = RHYMES.get(rhyme, RHYMES["A"])[k % 4]
    words: list[str] = []
    budget = count - 1
    if theme and syllables_of(theme) <= budget:
        words.append(theme)
        budget -= syllables_of(theme)
    for i in range(budget):
        words.append(FILLER[(i + k) % len(FILLER)])
    return " ".join([*words, end]).capitalize()


def lyrics_for(song: dict[str, Any]) -> dict[str, Any]:
    theme = song["theme"][0] if song["theme"] else None
    sections = []
    for section in song["sections"]:
        if "lines" not in section:
            continue
        lines = [line_for(ln["syllables"], theme, ln["rhyme"], k) for k, ln in enumerate(section["lines"])]
        sections.append({"index": section["index"], "lines": lines})
    return {"title": TITLE, "sections": sections}


@dataclass
class ChatServer(LocalServer):
    mode: str = "good"
    delay: float = 0.0
    status_code: int = 200
    fail_first: int = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def content(self, request: Request) -> str:
        answer = lyrics_for(request.song)
        if self.mode == "garbage":
            return "Sure! Here are some lyrics about the sea:\nla la la, the ocean is wide"
        if self.mode == "short":
            for section in answer["sections"]:
                section["lines"] = section["lines"][:-1]
        if self.mode == "rude":
            first = answer["sections"][0]["lines"]
            first[0] = "we rise motherfucker now"
        return json.dumps(answer)

    def reply(self, request: Request, number: int) -> tuple[int, str, bytes]:
        """(status, content type, body) for the n-th request."""
        if number <= self.fail_first:
            return 503, "application/json", b'{"error": {"message": "model is loading"}}'
        if self.mode == "status":
            body = {"error": {"message": "Incorrect API key provided: sk-abc***xyz", "type": "auth"}}
            return self.status_code, "application/json", json.dumps(body).encode()
        if self.mode == "html":
            return 200, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        completion = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.content(request)},
                    "finish_reason": "stop",
                }
            ],
        }
        return 200, "application/json", json.dumps(completion).encode()


def handler(chat: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = Request(self.path, dict(self.headers.items()), json.loads(raw))
            number = chat.record(request)
            if self.path != "/v1/chat/completions":
                status, kind, body = 404, "application/json", b'{"error": {"message": "no such path"}}'
            else:
                status, kind, body = chat.reply(request, number)
            if chat.mode == "slow":
                time.sleep(chat.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if chat.mode == "drip":
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(chat.delay)
                else:
                    self.wfile.write(body)
            except OSError:  # the client gave up (the slow and dripping servers): expected
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
