"""The HTTP transport under every client r1tui builds: credentials go only where they belong,
and JSON lines survive characters that other readers take for line breaks.

Why a transport (httpx's public extension point) and not a patch of the clients:
- The `ollama` client adds `$OLLAMA_API_KEY` as a bearer token to *every* host it
  talks to when no other token is set. r1tui sends a credential only to the host
  it was configured for, so this transport drops any Authorization header that
  r1tui did not configure for the request's own host.
- A fast server fills the socket faster than the app reads it; each read then brings
  up to 64 KiB, hundreds of stream chunks that the client parses one after the other
  without giving the event loop a turn (httpcore hands on the chunks it has buffered
  without awaiting anything): keys, timers and frames waited a tenth of a second and
  more. The body gives the loop a turn whenever it has kept it for TURN_SECONDS.
- A slower stream is the opposite case: each token comes in a packet of its own, and
  waking up for one costs the client and the event loop about half a millisecond here
  (300 tokens/s: 15 % of a core before anything is drawn). The screen shows text 15
  times a second, so once the body has caught up with the server (a read had to wait),
  it lets tokens gather in the socket for READ_PACE_SECONDS before reading again: one
  wake-up brings several tokens, and none waits longer than a frame would anyway.
- The `ollama` client reads NDJSON with httpx's `aiter_lines`, which splits on
  every Unicode line boundary (U+0085 NEL, U+2028, U+2029, ...), while Ollama's
  JSON encoder writes NEL raw inside strings. One NEL in an answer then cut a
  JSON line in two and killed the turn. Inside a JSON document these characters
  can only occur in strings, so rewriting each as its `\\uXXXX` escape is exact:
  the decoded text is unchanged, and only `\\n` ends a line.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import time
from typing import TYPE_CHECKING, AsyncIterator, Mapping
from urllib.parse import urlparse

import httpx

if TYPE_CHECKING:
    from tui.core.backend import BackendError

__all__ = ["GuardedTransport", "authorization_of", "certificates_error", "escape_line_separators",
           "shared_ssl_context"]


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs tens of milliseconds each time,
    and r1tui builds a client per host (the fleet view polls dozens). httpx's own defaults
    (certifi, SSL_CERT_FILE/SSL_CERT_DIR) apply.

    Certificates that cannot be loaded (SSL_CERT_FILE naming a file that is not there) are a
    BackendError that names the variable, for the status line, rather than a traceback.
    """
    try:
        return httpx.create_ssl_context()
    except OSError as exc:  # ssl.SSLError included
        raise certificates_error(exc) from exc


def certificates_error(exc: OSError) -> "BackendError":
    """Certificates that cannot be loaded, as the BackendError the status line shows: which variable
    names them and what is wrong (the `ollama` package's import builds a client, so it fails the same way)."""
    from tui.core.backend import BackendError

    # httpx reads SSL_CERT_FILE if it is set, else SSL_CERT_DIR (its create_ssl_context).
    named = next((name for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(name)), "")
    where = f"{named}={os.environ[named]}" if named else "the system's CA certificates"
    return BackendError("config", f"Cannot load the TLS certificates ({where}): {exc.strerror or exc}",
                        f"fix or unset {named}" if named else "check the system's CA certificates")


# Characters `str.splitlines` breaks on that may appear raw inside a JSON string, as UTF-8 bytes.
# (C0 separators such as U+001C are control characters: JSON encoders always escape those.)
_SEPARATORS = {
    "\u0085".encode(): b"\\u0085",
    "\u2028".encode(): b"\\u2028",
    "\u2029".encode(): b"\\u2029",
}
# Byte prefixes of the sequences above, held over a chunk boundary. Each ends in a different byte,
# so a chunk ends with one of them at most: the order they are tried in does not matter.
_LEADS = (b"\xc2", b"\xe2", b"\xe2\x80")
# The longest the body's consumer keeps the event loop before a turn for keys, timers and frames.
TURN_SECONDS = 0.005
# Caught up with a trickling stream, the body reads again only after this long (under a frame's 67 ms).
READ_PACE_SECONDS = 0.05
# A chunk that took longer than this to come had to wait for the network: the body had caught up.
_WAITED_SECONDS = 0.001


def escape_line_separators(data: bytes) -> bytes:
    """`data` with each raw NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR written as a JSON escape."""
    for raw, escaped in _SEPARATORS.items():
        if raw in data:
            data = data.replace(raw, escaped)
    return data


class _EscapingStream(httpx.AsyncByteStream):
    """A response body with line separators escaped, also when one is split across two chunks.

    `paced`: a stream of events (NDJSON, SSE) is read in batches once caught up (READ_PACE_SECONDS);
    a plain JSON reply is read straight through (a pause there would only delay it).
    """

    def __init__(self, inner: httpx.AsyncByteStream, *, paced: bool = False) -> None:
        self._inner = inner
        self._paced = paced

    async def __aiter__(self) -> AsyncIterator[bytes]:
        held = b""
        clock = time.perf_counter
        turn_ends = clock() + TURN_SECONDS
        caught_up = False
        asked = clock()
        async for chunk in self._inner:
            now = clock()
            caught_up = self._paced and now - asked > _WAITED_SECONDS
            if now > turn_ends:
                await asyncio.sleep(0)  # the event loop's turn: keys, timers and frames
                turn_ends = clock() + TURN_SECONDS
            data = held + chunk
            held = b""
            for lead in _LEADS:
                if data.endswith(lead):
                    data, held = data[: -len(lead)], lead
                    break
            if data:
                yield escape_line_separators(data)
            if caught_up:  # the next tokens gather in the socket meanwhile (it is the loop's turn too)
                await asyncio.sleep(READ_PACE_SECONDS)
                turn_ends = clock() + TURN_SECONDS
            asked = clock()
        if held:
            yield held

    async def aclose(self) -> None:
        await self._inner.aclose()


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = urlparse(url)
    default_port = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, (parsed.hostname or "").lower(), parsed.port or default_port


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with the two guards described in this module's docstring.

    `base_url` is the server this client is for and `authorization` the header value
    r1tui configured for it (None: send none).
    """

    def __init__(self, base_url: str, authorization: str | None = None, **kwargs: object) -> None:
        kwargs.setdefault("verify", shared_ssl_context())
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._origin = _origin(base_url)
        self._authorization = authorization

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        same_origin = (request.url.scheme, request.url.host.lower(), request.url.port or
                       {"http": 80, "https": 443}.get(request.url.scheme)) == self._origin
        if "authorization" in request.headers:
            if not same_origin or request.headers["authorization"] != self._authorization:
                del request.headers["authorization"]
        response = await super().handle_async_request(request)
        content_type = response.headers.get("content-type", "")
        if "json" not in content_type and "event-stream" not in content_type:  # NDJSON, SSE of JSON events
            return response
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_EscapingStream(response.stream,  # type: ignore[arg-type]
                                   paced="ndjson" in content_type or "event-stream" in content_type),
            extensions=response.extensions,
            request=request,
        )


def authorization_of(headers: Mapping[str, str] | None) -> str | None:
    """The Authorization value in configured headers, whatever its case."""
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            return value
    return None
