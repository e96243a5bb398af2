"""A host that accepts connections and never answers: a hung server, a half-open firewall, a frozen VM.

Why it exists: the fleet view must show such a host as "timed out" without it
delaying any other host, and neither a refused port nor the simulated servers
behave like this. It accepts TCP connections on 127.0.0.1, reads what arrives,
and keeps each socket open, silent, until stopped.
"""

from __future__ import annotations

import socket
import threading

from tui.demo.http_sim import serve_until_interrupted

__all__ = ["SilentHost"]


class SilentHost:
    """Listens on 127.0.0.1 and never sends a byte; `url` is an http:// URL for it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._listener: socket.socket | None = None
        self._accepted: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def connections(self) -> int:
        """How many connections it has accepted (and left hanging)."""
        with self._lock:
            return len(self._accepted)

    def start(self) -> "SilentHost":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, self._port))
        listener.listen(256)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, name="silent-host", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        listener = self._listener
        while listener is not None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            with self._lock:
                self._accepted.append(conn)

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            for conn in self._accepted:
                conn.close()
            self._accepted.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "SilentHost":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """`python -m tui.demo.silent [--port N]`: accept and never answer, until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="Accept connections and never answer (a hung host).")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    host = SilentHost(port=args.port).start()
    print(f"silent host listening on {host.url}", flush=True)
    serve_until_interrupted(host)


if __name__ == "__main__":
    main()
