"""The picker's pull lines say "resumed" only for a resume (F3 → p on a tag)."""

from __future__ import annotations

from tui.core.pull_progress import PullTracker
from tui.core.pulls import Pull
from tui.screens.picker import pull_lines

LAYER = 19_851_336_256


def lines_after_first_report(completed: int, tracker: PullTracker | None = None) -> str:
    pull = Pull("deepseek-r1:32b", tracker=tracker or PullTracker())
    pull.tracker.update(0.0, "pulling manifest")
    pull.tracker.update(0.07, "pulling 6e9f90f02bb3", "sha256:6e9f90f02bb3", LAYER, completed)
    return "\n".join(str(line) for line in pull_lines(pull))


def test_a_fresh_pull_is_not_labelled_resumed() -> None:
    assert "resumed" not in lines_after_first_report(17_400_000)


def test_a_real_resume_is() -> None:
    assert "(resumed at 6.0 GB)" in lines_after_first_report(6_000_000_000)
    known = PullTracker(known_partial={"sha256:6e9f90f02bb3": 40_000_000})
    assert "(resumed at 40.0 MB)" in lines_after_first_report(41_000_000, known)
