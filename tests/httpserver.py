"""A loopback HTTP file server for tests, which can also misbehave: no network, no external dependencies.

    with FileServer({"/mnist/a.gz": b"..."}) as server:   # or FileServer.from_folder(path, prefix="/mnist")
        url = server.url                                   # http://127.0.0.1:<ephemeral port>
        ...
        server.requests          # ["/mnist/a.gz", ...]: every GET path served or refused, in order
        server.count("/mnist/a.gz")
        server.set("/mnist/a.gz", b"fixed bytes")          # swap what a path serves, mid-test
        server.queue("/mnist/a.gz", b"bad", b"worse")       # the next two GETs get these, then the set bytes
        server.queue("/mnist/a.gz", Status(503), Cut(100))  # faults: a 503, then a body cut after 100 bytes
        server.set("/mnist/a.gz", Redirect("/mnist/a.gz"))  # a fault for every GET from now on

    FileServer(files, tls=context)   # HTTPS, with an ssl.SSLContext holding a certificate for 127.0.0.1

Answers GET and HEAD with Content-Length and, unless `etag=False`, an ETag derived from the
bytes (so that clients which key their cache by ETag see a swap); 404 for unknown paths. A HEAD
describes what the next GET of that path will get. The faults, in place of bytes: `Status(code)`,
`Redirect(path)`, `Cut(after)` (the headers promise the whole set bytes, the connection closes after
`after` of them) and `Hang(after)` (silent after `after` body bytes, or before answering when `after`
is None, until `seconds` pass or the server stops). Runs in a daemon thread; `stop()` (or leaving
the `with` block) shuts it down and closes the socket. For "connection refused", use `closed_port()`.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = ["Cut", "FileServer", "Hang", "LoopbackServer", "Redirect", "Status", "closed_port"]


class Status(NamedTuple):
    """Answer with this HTTP status and a short text body."""

    code: int


class Redirect(NamedTuple):
    """Answer 302 to `path` (on the same server); to the path itself, a redirect loop."""

    path: str


class Cut(NamedTuple):
    """Promise the path's set bytes in Content-Length, send the first `after` of them, close the connection."""

    after: int


class Hang(NamedTuple):
    """Go silent before answering (`after` None) or after `after` body bytes, for `seconds` or until stop."""

    after: int | None = None
    seconds: float = 10.0


def closed_port() -> int:
    """A loopback port that nothing listens on: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """An HTTP server on 127.0.0.1 at an ephemeral port, in a daemon thread; subclasses give `_handler()`.

    With `tls` (an `ssl.SSLContext` holding a certificate for 127.0.0.1) it speaks HTTPS.
    """

    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    tls: ssl.SSLContext | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self):
        if self._httpd is not None:
            return self
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        if self.tls:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
        self._httpd = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FileServer(LoopbackServer):
    """Serve `files` (URL path -> bytes) on 127.0.0.1 at an ephemeral port, recording requests."""

    def __init__(self, files: dict[str, bytes] | None = None, *, etag: bool = True, tls: ssl.SSLContext | None = None):
        self.etag, self.tls = etag, tls
        self._stopping = threading.Event()  # ends every Hang at stop()
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}
        self._queued: dict[str, list[bytes]] = {}
        self._gets: list[str] = []
        self._heads: list[str] = []
        for path, data in (files or {}).items():
            self.set(path, data)

    @classmethod
    def from_folder(cls, folder, prefix: str = "", *, etag: bool = True, tls=None) -> "FileServer":
        """Serve every file below `folder` at `<prefix>/<relative path>`."""
        folder = Path(folder)
        prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        files = {
            f"{prefix}/{p.relative_to(folder).as_posix()}": p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        return cls(files, etag=etag, tls=tls)

    # -- content ---------------------------------------------------------------------------

    def set(self, path: str, data) -> None:
        """Serve `data` (bytes or a fault) at `path` from now on (adds the path, or swaps what it serves)."""
        path = "/" + path.lstrip("/")
        with self._lock:
            self._files[path] = _answer(data)

    def queue(self, path: str, *datas) -> None:
        """Serve each of `datas` (bytes or faults) once, in order, to the next GETs of `path`; then its set bytes."""
        path = "/" + path.lstrip("/")
        with self._lock:
            self._queued.setdefault(path, []).extend(_answer(d) for d in datas)

    def remove(self, path: str) -> None:
        path = "/" + path.lstrip("/")
        with self._lock:
            self._files.pop(path, None)
            self._queued.pop(path, None)

    def get(self, path: str):
        """What `path` serves when nothing is queued: bytes, a fault or None."""
        with self._lock:
            return self._files.get("/" + path.lstrip("/"))

    # -- what was asked ----------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """Paths of every GET request received, in arrival order (a copy)."""
        with self._lock:
            return list(self._gets)

    @property
    def head_requests(self) -> list[str]:
        with self._lock:
            return list(self._heads)

    def count(self, path: str) -> int:
        """How many GET requests asked for `path`."""
        path = "/" + path.lstrip("/")
        return self.requests.count(path)

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._gets.clear()
            self._heads.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def start(self):
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    # -- used by the handler -----------------------------------------------------------------

    def _lookup(self, raw_path: str, method: str):
        path = unquote(urlsplit(raw_path).path)
        with self._lock:
            (self._gets if method == "GET" else self._heads).append(path)
            queued = self._queued.get(path)
            if queued:
                return queued.pop(0) if method == "GET" else queued[0]
            return self._files.get(path)


def _answer(data):
    return data if isinstance(data, (Status, Redirect, Cut, Hang)) else bytes(data)


def _handler_for(server: FileServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, method: str) -> None:
            data = server._lookup(self.path, method)
            if data is None:
                data = Status(404)
            if isinstance(data, Redirect):
                self.send_response(302)
                self.send_header("Location", data.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(data, Status):
                self._send(method, data.code, f"{data.code} {self.responses[data.code][0]}\n".encode(), "text/plain")
                return
            if isinstance(data, Hang) and data.after is None:
                self._hang(data)
                return
            body = server.get(unquote(urlsplit(self.path).path))  # what a Cut or Hang promises
            body = body if isinstance(body, bytes) else b""
            if isinstance(data, bytes):
                self._send(method, 200, data, "application/octet-stream")
            elif method == "HEAD":
                self._send(method, 200, body, "application/octet-stream")
            else:
                self._send_headers(200, body, "application/octet-stream")
                self.wfile.write(body[: data.after])
                self.wfile.flush()
                if isinstance(data, Hang):
                    self._hang(data)
                self.close_connection = True

        def _send(self, method: str, code: int, body: bytes, content_type: str) -> None:
            self._send_headers(code, body, content_type)
            if method == "GET":
                self.wfile.write(body)

        def _send_headers(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if server.etag and code == 200:
                self.send_header("ETag", '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
            self.end_headers()

        def _hang(self, hang: Hang) -> None:
            server._stopping.wait(hang.seconds)
            self.close_connection = True

        def do_GET(self):  # noqa: N802
            self._answer("GET")

        def do_HEAD(self):  # noqa: N802
            self._answer("HEAD")

        def log_message(self, format, *args):  # keep test output clean
            pass

    return Handler
