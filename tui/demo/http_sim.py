"""What every simulated server shares: a threaded HTTP server on 127.0.0.1 and its lifecycle.

Why one place: the simulated Ollama, the vLLM/SGLang/llama.cpp engines and the DCGM
exporter all start on a free port, stop like a killed server (every open connection
cut), and work as context managers; a fix to that behaviour (a client hanging up
mid-stream, a connection left open at shutdown) is then made once.
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HttpSimulator"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-stream is normal (Esc, a dropped-stream fault, a test ending):
        say nothing. socketserver's default prints a traceback to stderr from a handler thread,
        which can land in whatever is capturing stderr at that moment, even another test."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)) or (isinstance(error, OSError) and error.errno in (
                errno.EBADF, errno.ENOTCONN, errno.EPIPE)):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self._conn_lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _ClientGone(Exception):
    """The client closed the connection while we were streaming to it."""


class HttpSimulator:
    """A simulated server's lifecycle. Subclasses set `handler` (whose `sim` attribute is set to the
    instance) and call `_listen_on(host, port)` in their `__init__`."""

    handler: type[BaseHTTPRequestHandler]
    thread_name = "sim"

    def _listen_on(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> Any:
        handler = type(self.handler.__name__, (self.handler,), {"sim": self})
        httpd = _Server((self._host, self._port), handler)
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection, like a killed server."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_all()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_interrupted(server: Any) -> None:
    """A simulator run from the command line: it serves (on its own threads) until Ctrl+C, then stops."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
