"""A model hub on localhost that serves one weights file the way Hugging Face does."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class FakeHub:
    """The served file and the requests the hub saw."""

    endpoint: str
    payload: bytes
    requests: list[str] = field(default_factory=list)


@contextmanager
def fake_hub(
    payload: bytes, filename: str = "open_clip_model.safetensors", chunk_delay_s: float = 0.0
) -> Iterator[FakeHub]:
    """Serve ``payload`` as ``filename`` of any repo at the returned endpoint.

    ``chunk_delay_s``: a pause after each 64 KiB sent, as on a slow line.
    """
    digest = hashlib.sha256(payload).hexdigest()
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def _headers(self) -> bool:
            requests.append(f"{self.command} {self.path}")
            if not self.path.split("?")[0].endswith("/resolve/main/" + filename):
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False
            self.send_response(200)
            self.send_header("X-Repo-Commit", "1" * 40)
            self.send_header("ETag", f'"{digest}"')
            self.send_header("X-Linked-Etag", f'"{digest}"')
            self.send_header("X-Linked-Size", str(len(payload)))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            return True

        def do_HEAD(self) -> None:
            self._headers()

        def do_GET(self) -> None:
            if not self._headers():
                return
            try:
                for start in range(0, len(payload), 1 << 16):
                    self.wfile.write(payload[start : start + (1 << 16)])
                    if chunk_delay_s:
                        time.sleep(chunk_delay_s)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading (a cancelled download)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeHub(f"http://127.0.0.1:{server.server_address[1]}", payload, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def closed_port() -> int:
    """A localhost port nothing listens on: a model hub that cannot be reached."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
