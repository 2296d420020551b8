"""Downloading a source's published files into a cache folder, checked, with bounded waits.

Each file is fetched (stdlib `urllib`, proxies from the environment) into `<name>.partial`, checked
against its published hash and only then renamed, so a cut, corrupt or interrupted download is never
trusted. Transient faults are retried with exponential backoff; anything else (a 404, a redirect
loop, an untrusted certificate) fails at once. Failures raise one line that names the file, says
what happened and what to do.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import urllib.error
import urllib.request
from time import sleep

from generator.files import ChecksumError, SourceFiles, verify

CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds the server may stay silent, before the answer or within the body
ATTEMPTS = 4  # tries per file for transient faults: connection errors, timeouts, 5xx, 429, cut bodies
BACKOFF = 1.0  # seconds before the second try, doubled before each next one (1, 2, 4)
MAX_REDIRECTS = 10


class DownloadError(ConnectionError):
    """A source file could not be downloaded; the message says which, why and what to do."""


class _Fault(Exception):
    """What went wrong with one GET, in words; `transient` if another try may go better."""

    def __init__(self, what: str, transient: bool = True):
        super().__init__(what)
        self.transient = transient


def download(source: SourceFiles, folder: str, mirror: str | None = None) -> dict[str, str]:
    """Return role -> path of each of a source's files in `folder`, fetching the ones not there yet.

    A file is fetched from its canonical URL, or from `<mirror>/<source>/<file name>`. A copy that
    fails its checksum is deleted and fetched once more; a second bad copy raises `ChecksumError`.
    """
    os.makedirs(folder, exist_ok=True)
    return {role: _download_file(source, role, folder, mirror) for role in source.files}


def _download_file(source: SourceFiles, role: str, folder: str, mirror: str | None) -> str:
    file, url = source.files[role], source.url(role, mirror)
    path = os.path.join(folder, file.name)
    if os.path.exists(path):
        try:
            verify(path, file)
            return path
        except ChecksumError:
            os.remove(path)  # damaged since it was stored: fetch it again
    partial, advice = path + ".partial", _advice(source)
    try:
        for attempt in (1, 2):
            _fetch(url, partial, f"could not download {file.name} from {url}", advice)
            try:
                verify(partial, file, origin=url, remedy=f"It was fetched twice and deleted. {advice}")
            except ChecksumError:
                if attempt == 2:
                    raise
            else:
                os.replace(partial, path)
                return path
    finally:
        if os.path.exists(partial):  # cut, corrupt or interrupted: never left to be mistaken for data
            os.remove(partial)


def _fetch(url: str, partial: str, failed: str, advice: str) -> None:
    """Write the body at `url` to `partial`, retrying transient faults; else raise `DownloadError(failed: why. advice)`."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _get(url, partial)
        except _Fault as fault:
            if not fault.transient:
                raise DownloadError(f"{failed}: {fault}. {advice}") from None
            what = str(fault)
        if attempt < ATTEMPTS:
            sleep(BACKOFF * 2 ** (attempt - 1))
    raise DownloadError(f"{failed}: {what} ({ATTEMPTS} attempts). {advice}")


def _get(url: str, partial: str) -> None:
    """One GET of `url` into `partial`; raise `_Fault` if it fails."""
    try:
        with _OPENER.open(url, timeout=CONNECT_TIMEOUT) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
            size, expected = out.tell(), response.headers.get("Content-Length")
    except urllib.error.HTTPError as error:
        error.close()
        raise _Fault(_http_status(error), transient=error.code >= 500 or error.code == 429) from None
    except urllib.error.URLError as error:  # while connecting: refused, unreachable, no such host, untrusted
        if isinstance(error.reason, TimeoutError):
            raise _Fault(f"no connection within {CONNECT_TIMEOUT:g} s") from None
        trusted = not isinstance(error.reason, ssl.SSLCertVerificationError)
        raise _Fault(_connection_fault(error.reason), transient=trusted) from None
    except (OSError, http.client.HTTPException) as error:  # a silent, reset or closing server
        raise _Fault(_connection_fault(error)) from None
    if expected is not None and size != int(expected):
        raise _Fault(f"the connection closed after {size} of {expected} bytes")


def _connection_fault(error) -> str:
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host name ({error.strerror}; no network?)"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the server's TLS certificate is not trusted ({error.verify_message})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return f"the server was silent for {READ_TIMEOUT:g} s"
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed before the end of the body"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(error, OSError) and error.strerror:
        return f"connection error: {error.strerror}"
    return f"connection error: {type(error).__name__} {error}".strip()


def _http_status(error: urllib.error.HTTPError) -> str:
    if "infinite loop" in str(error.reason):  # urllib's words when it stops following redirects
        return f"a redirect loop (HTTP {error.code} more than {MAX_REDIRECTS} times)"
    return f"HTTP {error.code} {error.reason}"


def _advice(source: SourceFiles) -> str:
    names = ", ".join(f.name for f in source.files.values())
    npz = f" (or {source.npz.name})" if source.npz else ""
    return (
        f"Set MOVING_MNIST_MIRROR to a mirror that serves <mirror>/{source.name}/<file name>, "
        f"or pass --data-dir (data_dir) a folder holding {names}{npz}."
    )


def _timed(connection_class):
    """`connection_class` with READ_TIMEOUT once connected (the `timeout` given to open bounds connecting)."""

    class Timed(connection_class):
        def connect(self):
            super().connect()
            self.sock.settimeout(READ_TIMEOUT)

    return Timed


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_timed(http.client.HTTPConnection), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_timed(http.client.HTTPSConnection), req, context=self._context)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_repeats = max_redirections = MAX_REDIRECTS


_OPENER = urllib.request.build_opener(_HTTPHandler, _HTTPSHandler, _RedirectHandler)
