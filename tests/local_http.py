"""Real HTTP peers for the tests: a threaded server on a free loopback port that records what it
receives (a webhook receiver, a chat-completions provider)."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class LocalServer:
    requests: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None, "start() it first"
        return self.server.server_address[1]

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def record(self, request: Any) -> int:
        """Keep a request; returns how many there have been."""
        with self.lock:
            self.requests.append(request)
            return len(self.requests)

    def start(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        # A short poll interval: shutdown() waits up to one interval.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
