"""Model downloads that outlive the screen that started them.

Why a manager owned by the app rather than a worker on the picker: a user
starts a 20 GB pull, closes the picker and goes back to chatting; the pull
must keep going, and whichever screen is open must be able to show it and be
told when it finishes. So pulls are plain asyncio tasks on the app's loop,
their state lives here (pure: no Textual), and screens subscribe to changes.

Failures never escape: a network error, a full disk or an unknown tag ends up
as text on that pull's state, with the next step. A cancelled or failed pull
keeps its partial download on the server, so pulling the tag again resumes.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from tui.core.backend import BackendError, OllamaBackend
from tui.core.pull_progress import LayerProgress, PullTracker, format_bytes

__all__ = ["DEFAULT_MIN_INTERVAL", "DEFAULT_MODEL_DIRS", "DiskSpace", "Pull", "PullManager", "PullState",
           "describe_failure", "disk_refusal", "local_disk_space", "ollama_models_dir"]

log = logging.getLogger(__name__)

# Progress messages arrive tens of times a second per pull; screens need a
# few frames a second. State changes (new layer, finished) are never delayed.
DEFAULT_MIN_INTERVAL = 0.1

Listener = Callable[["Pull"], None]


class PullState(enum.Enum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class Pull:
    """One attempt at pulling one tag; a re-pull is a new attempt (its tracker shows what resumed)."""

    tag: str
    tracker: PullTracker = field(default_factory=PullTracker)
    state: PullState = PullState.RUNNING
    error: str | None = None
    started_at: float = 0.0
    finished_at: float | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state is PullState.RUNNING

    @property
    def finished(self) -> bool:
        return not self.active

    @property
    def status(self) -> str:
        """The server's last status line ("pulling 3f1a2b4c5d6e", "verifying sha256 digest"…)."""
        return self.tracker.status

    @property
    def layers(self) -> list[LayerProgress]:
        return list(self.tracker.layers.values())

    @property
    def total_bytes(self) -> int:
        return self.tracker.total_bytes

    @property
    def completed_bytes(self) -> int:
        return self.tracker.completed_bytes

    @property
    def fraction(self) -> float:
        return self.tracker.fraction

    @property
    def speed(self) -> float | None:
        return self.tracker.speed if self.active else None

    @property
    def eta(self) -> float | None:
        return self.tracker.eta if self.active else None

    @property
    def elapsed(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    def summary(self) -> str:
        """One line a user can act on: where it stands and, when it stopped, what to do next."""
        if self.state is PullState.DONE:
            took = f" in {self.elapsed:.1f} s" if self.elapsed is not None else ""
            return f"pulled {self.tag} ({format_bytes(self.total_bytes)}){took}"
        if self.state is PullState.FAILED:
            return self.error or f"pull of {self.tag} failed"
        where = (f" at {format_bytes(self.completed_bytes)} of {format_bytes(self.total_bytes)}"
                 if self.tracker.layers else "")
        if self.state is PullState.CANCELLED:
            return f"pull of {self.tag} cancelled{where} — pull it again to resume"
        return f"{self.tag}: {self.status or 'starting'}"


def describe_failure(error: BackendError, tag: str, url: str, tracker: PullTracker,
                     *, resume_hint: str = "pull it again to resume") -> str:
    """The failure in the user's terms (unknown tag, unreachable server, full disk) and the next step.

    Shared by the picker and `r1tui pull`, which differ only in how to try again.
    """
    if error.kind == "unreachable":
        return f"pull of {tag} failed: cannot reach the Ollama server at {url} — is `ollama serve` running?"
    if error.kind == "config":  # this machine's set-up (certificates that cannot be loaded): trying again will not help
        return f"pull of {tag} failed: {error}"
    raw = str(getattr(error.__cause__, "error", "") or error.message)
    lowered = raw.lower()
    if not tracker.layers and ("file does not exist" in lowered or "manifest" in lowered
                               or "not found" in lowered or error.status_code == 404):
        return f"{tag} is not a tag the registry knows ({raw}) — check the name at https://ollama.com/library"
    where = (f" after {format_bytes(tracker.completed_bytes)} of {format_bytes(tracker.total_bytes)}"
             if tracker.layers else "")
    advice = resume_hint
    if "no space left" in lowered or "disk full" in lowered:
        advice = "free disk space on the server, then " + advice
    return f"pull of {tag} failed{where}: {raw} — {advice}"


class PullManager:
    """Runs pulls as tasks on the running loop and tells listeners about every change.

    Listeners are called on the loop (never from a thread) and at most every
    `min_interval` seconds per pull for plain progress; the call that reports
    a finished pull is always made, exactly once, and is that pull's last.
    """

    def __init__(self, backend: OllamaBackend, on_change: Listener | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 min_interval: float = DEFAULT_MIN_INTERVAL) -> None:
        self.backend = backend
        self.clock = clock
        self.min_interval = min_interval
        self.pulls: dict[str, Pull] = {}
        self._listeners: list[Listener] = [on_change] if on_change else []
        self._notified_at: dict[str, float] = {}

    # -- listeners -------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it (call it when the screen goes)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _changed(self, pull: Pull, *, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._notified_at.get(pull.tag, float("-inf")) < self.min_interval:
            return
        self._notified_at[pull.tag] = now
        for listener in list(self._listeners):
            try:
                listener(pull)
            except Exception:  # noqa: BLE001 - a broken screen must not stop the download
                log.exception("pull listener failed")

    # -- queries -----------------------------------------------------------------

    def get(self, tag: str) -> Pull | None:
        return self.pulls.get(tag)

    def is_active(self, tag: str) -> bool:
        pull = self.pulls.get(tag)
        return pull is not None and pull.active

    def active(self) -> list[Pull]:
        return [pull for pull in self.pulls.values() if pull.active]

    # -- control -----------------------------------------------------------------

    def start(self, tag: str) -> Pull:
        """Pull `tag` (resuming whatever the server kept); a tag already being pulled is left alone."""
        current = self.pulls.get(tag)
        if current is not None and current.active:
            return current
        # What an earlier attempt left on the server: evidence the tracker needs to call a layer resumed.
        known = {layer.digest: layer.completed for layer in current.layers} if current is not None else {}
        pull = Pull(tag, tracker=PullTracker(known_partial=known), started_at=self.clock())
        self.pulls.pop(tag, None)  # a re-pull moves to the end: newest last
        self.pulls[tag] = pull
        pull.task = asyncio.get_running_loop().create_task(self._run(pull), name=f"pull {tag}")
        self._changed(pull, force=True)
        return pull

    def cancel(self, tag: str) -> bool:
        """Stop the pull; closing the stream makes the server stop too and keep the partial layers."""
        pull = self.pulls.get(tag)
        if pull is None or not pull.active or pull.task is None:
            return False
        pull.task.cancel()
        return True

    def forget(self, tag: str) -> None:
        """Drop a finished pull from the list (an active one stays)."""
        pull = self.pulls.get(tag)
        if pull is not None and pull.finished:
            del self.pulls[tag]

    async def wait(self, tag: str) -> Pull:
        """Until that pull finishes, whichever way; for tests and scripts."""
        pull = self.pulls[tag]
        if pull.task is not None:
            await asyncio.gather(pull.task, return_exceptions=True)
        return pull

    async def aclose(self) -> None:
        """Cancel every running pull and wait for them to stop (the app is exiting)."""
        tasks = [pull.task for pull in self.pulls.values() if pull.active and pull.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- the task ------------------------------------------------------------------

    async def _run(self, pull: Pull) -> None:
        tracker = pull.tracker
        try:
            async for part in self.backend.pull(pull.tag):
                before = (tracker.status, len(tracker.layers))
                tracker.update(self.clock(), part.status, part.digest, part.total, part.completed)
                self._changed(pull, force=(tracker.status, len(tracker.layers)) != before)
            if tracker.finished:
                pull.state = PullState.DONE
            else:
                pull.state = PullState.FAILED
                pull.error = (f"the server ended the pull of {pull.tag} without reporting success"
                              " — pull it again to resume")
        except asyncio.CancelledError:
            pull.state = PullState.CANCELLED
            self._finish(pull)
            raise
        except BackendError as error:
            pull.state = PullState.FAILED
            pull.error = describe_failure(error, pull.tag, self.backend.url, tracker)
        except Exception as error:  # noqa: BLE001 - whatever happens lands on the pull, never on the caller
            log.exception("pull of %s failed", pull.tag)
            pull.state = PullState.FAILED
            pull.error = f"pull of {pull.tag} failed: {type(error).__name__}: {error} — pull it again to resume"
        self._finish(pull)

    def _finish(self, pull: Pull) -> None:
        pull.finished_at = self.clock()
        self._changed(pull, force=True)


# -- before a pull: will the disk hold it? ---------------------------------------------------

# Where Ollama keeps models when OLLAMA_MODELS is unset: the user's own server, then the
# Linux installer's system service (which runs as the `ollama` user).
DEFAULT_MODEL_DIRS = ("~/.ollama/models", "/usr/share/ollama/.ollama/models")


@dataclass(frozen=True)
class DiskSpace:
    """Free space where a pull would land; `free_bytes` None when it cannot be known (a remote server)."""

    free_bytes: int | None
    path: Path | None = None

    @property
    def known(self) -> bool:
        return self.free_bytes is not None


def ollama_models_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The models folder of a server on this machine: $OLLAMA_MODELS, else the first default that
    exists, else ~/.ollama/models (not yet created: the check then uses its nearest existing parent)."""
    environ = os.environ if environ is None else environ
    if environ.get("OLLAMA_MODELS"):
        return Path(environ["OLLAMA_MODELS"]).expanduser()
    candidates = [Path(path).expanduser() for path in DEFAULT_MODEL_DIRS]
    return next((path for path in candidates if path.is_dir()), candidates[0])


def local_disk_space(path: Path | None = None) -> DiskSpace:
    """Free bytes on the disk holding `path` (default: the models folder), measured at its nearest
    existing folder. Blocking (a stat of a possibly slow mount): call it off the event loop."""
    target = path if path is not None else ollama_models_dir()
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return DiskSpace(shutil.disk_usage(probe).free, target)
    except OSError:
        return DiskSpace(None, target)


def disk_refusal(download_bytes: int | None, disk: DiskSpace) -> str | None:
    """Why a pull cannot fit on the disk, in words; None when it can (or when nobody can tell)."""
    if download_bytes is None or disk.free_bytes is None or download_bytes <= disk.free_bytes:
        return None
    return (f"Not enough disk space: the download is {format_bytes(download_bytes)} but only "
            f"{format_bytes(disk.free_bytes)} is free in {disk.path}. Free some space, or point "
            "OLLAMA_MODELS at a larger disk (and restart `ollama serve`), then pull again.")
