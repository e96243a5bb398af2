"""The streaming widgets: wrapping by terminal cells, and long answers rendered a settled stretch at a time."""

from __future__ import annotations

import re

import pytest

from textual.app import App, ComposeResult
from tests.apphelpers import wait_for
from tui.widgets.markdown_render import (MarkdownRenderer, block_starts, close_open_inline, code_seam, list_seam,
                                         settled_pieces)
from tui.widgets.answer import AnswerMarkdown
from tui.widgets.stream_text import StreamingText, wrap_line


def test_wrap_line_respects_cells_and_cuts_long_words() -> None:
    assert wrap_line("alpha beta gamma", 11) == ["alpha beta", "gamma"]
    assert wrap_line("中文中文中文", 4) == ["中文", "中文", "中文"]
    assert wrap_line("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert wrap_line("", 10) == [""]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield StreamingText(id="text")
        yield AnswerMarkdown(id="answer")


async def test_streaming_text_grows_and_keeps_every_character() -> None:
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        text = app.query_one(StreamingText)
        for word in ("first ", "line\n", "second ", "line ", "that is long enough to wrap twice here\n\n", "end"):
            text.append(word)
            await pilot.pause()
        assert text.text == "first line\nsecond line that is long enough to wrap twice here\n\nend"
        rows = [text.render_line(y).text.rstrip() for y in range(text.size.height)]
        assert rows == ["first line", "second line that is long enough to wrap", "twice here", "", "end"]


def settled(text: str, minimum: int) -> str:
    """What of `text` is rendered for good (all but its last block) when pieces are grouped to `minimum`."""
    return "".join(settled_pieces(text, minimum)[0])


def test_text_settles_only_where_a_block_starts_at_column_zero() -> None:
    assert settled("para one\n\npara two", 0) == "para one\n\n"
    # An indented line after a blank line may still belong to the list item above.
    assert settled("- item\n\n  more of the item", 0) == ""
    # Nothing settles inside an open fence; however pieces are grouped, all but the last block settles.
    assert settled("```\nx\n\ny", 0) == ""
    fenced = "intro\n\n```python\nx = 1\n\ny = 2\n```\n\nafter\n\nmore"
    assert settled(fenced, 0).endswith("```\n\nafter\n\n")
    assert settled(fenced, len(fenced) - 3) == fenced[:fenced.index("more")]
    assert settled("a\n\nb\n\nc", 3) == "a\n\nb\n\n"


def answer_rows(answer: AnswerMarkdown) -> list[str]:
    return [answer.render_line(y).text.rstrip() for y in range(answer.size.height)]


async def wait_drawn(pilot, answer: AnswerMarkdown) -> None:  # type: ignore[no-untyped-def]
    """Until the answer is laid out and all of it rendered at its width (text shown before a layout, or
    at a new width, is drawn from its end and the rest in the background)."""
    await pilot.pause()
    await wait_for(pilot, lambda: answer.drawn and answer.content_size.width == answer._width)
    await pilot.pause()


async def write_in_slices(answer: AnswerMarkdown, text: str, size: int, pilot=None) -> None:  # type: ignore[no-untyped-def]
    """`text` written as a stream brings it, `size` characters at a time (a frame after each, with `pilot`)."""
    for start in range(0, len(text), size):
        await answer.write(text[start:start + size])
        if pilot is not None:
            await pilot.pause()


def count_renders(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The length of every text the Markdown renderer is given from now on, in order."""
    sizes: list[int] = []
    real_render = MarkdownRenderer.render

    def counting_render(self: MarkdownRenderer, text: str, width: int) -> list:
        sizes.append(len(text))
        return real_render(self, text, width)

    monkeypatch.setattr(MarkdownRenderer, "render", counting_render)
    return sizes


async def test_long_answer_streams_with_flat_rendering_work_and_loses_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each write re-renders only the unsettled tail, never the whole answer; the screen shows all of it."""
    app = Host()
    block = "Some prose about step {n}.\n\n```python\nprint('x')\n\nprint('y')\n```\n\n| a | b |\n|---|---|\n| {n} | 2 |\n\n"
    full = "".join(block.format(n=n) for n in range(60))
    async with app.run_test(size=(80, 20)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await pilot.pause()
        rendered = count_renders(monkeypatch)
        await write_in_slices(answer, full, 37, pilot)
        assert answer.source == full
        # Each render is the block being written (and what came with it), never more: len(full) is over 6,000.
        starts = [0, *block_starts(full), len(full)]
        longest_block = max(end - start for start, end in zip(starts, starts[1:]))
        assert max(rendered) <= longest_block + 2 * 37
        rows = answer_rows(answer)
        assert not any("```" in row for row in rows)  # fences became code blocks, none split open
        assert [row.strip() for row in rows if row.strip().startswith("Some prose")] == [
            f"Some prose about step {n}." for n in range(60)]
        assert sum("print('x')" in row for row in rows) == 60


async def test_streamed_answer_looks_like_the_same_answer_shown_at_once() -> None:
    app = Host()
    text = "# Title\n\nIntro with `code` and **bold**.\n\n1. one\n2. two\n\n> quoted\n\n" * 40
    async with app.run_test(size=(70, 20)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await write_in_slices(answer, text, 11)
        await wait_drawn(pilot, answer)  # written before its first layout: drawn from its end
        streamed = answer_rows(answer)
        await answer.remove()
        shown = AnswerMarkdown()
        await app.mount(shown)
        await shown.show(text)
        await wait_drawn(pilot, shown)
        assert answer_rows(shown) == streamed
        assert streamed[0] == "Title" and " 1. one" in streamed and "▌ quoted" in streamed


LONG_CODE = ("Here is the module:\n\n```python\n" + "".join(
    f"def step_{n}(value: int) -> int:\n"
    f"    \"\"\"Step {n} of the pipeline.\n\n    It adds {n}; the docstring spans lines.\n    \"\"\"\n"
    f"    /* not python, a comment spanning\n    lines, as in C */\n"
    f"    return value + {n}  # the result, with a comment long enough to wrap in a narrow pane\n\n"
    for n in range(40)) + "```\n\nThat is all.\n")


def test_a_code_block_is_cut_only_between_lines_whose_highlighting_it_cannot_change() -> None:
    def cut(code: str, minimum: int = 0) -> str | None:
        found = code_seam("```python\n" + code, minimum)
        return None if found is None else ("```python\n" + code)[found[1]:]

    assert cut("a = 1\nb = 2\nc") == "c"  # at the start of the line being written
    assert cut("a = 1\nb = 2\nc", minimum=6) == "c" and cut("a = 1\nb = 2\nc", minimum=13) is None  # code first
    assert cut("a = 1\n\nb = 2\n") is None  # never beside a blank line (nor before one not begun)
    assert cut('x = 1\ns = """one\ntwo\nthree') == 's = """one\ntwo\nthree'  # not inside a docstring
    assert cut('s = """one\ntwo"""\ny = 2\nz') == "z"
    assert cut("x = 1\n/* a comment\nstill */\ny") == "y" and cut("x = 1\n/* a comment\nstill") == "/* a comment\nstill"
    assert cut("x = 1\ny = `a template\nstring") == "y = `a template\nstring"
    assert cut("x = 1\nconst sep = '`';\ny") == "y"  # a backquote in a one-line string opens nothing
    assert cut("x = 1\nf(a,\n  b)\ny") == "y" and cut("x = 1\nf(a,\n  b") == "f(a,\n  b"  # inside brackets
    assert cut("int f(void) {\n  return 1;\n  x") is None  # a C function's body: its lexer is in another state
    assert cut("x = 1\n#define M(a) \\\n  (a) + 1") == "#define M(a) \\\n  (a) + 1"  # nor after a continued line
    heredoc = "x=1\ncat <<'EOF'\nIt's text\nmore\nEOF\ny"
    assert code_seam("```bash\n" + heredoc, 0) == ("```bash\n", len("```bash\n" + heredoc) - 1)  # after its end
    for marker in ("EOF", "'EOF'", '"EOF"'):  # not inside one, however its end word is quoted
        assert code_seam(f"```bash\nx=1\ncat <<{marker}\ntext\nmore", 0) == ("```bash\n", len("```bash\nx=1\n"))
    assert code_seam("```cpp\nx = 1;\ncout << endl;\ny", 0) == ("```cpp\n", len("```cpp\nx = 1;\ncout << endl;\n"))
    assert cut("a = 1\nb = 2\n``") == "b = 2\n``"  # the line being written may be the closing fence
    assert cut("a = 1\nb = 2\n```\n") is None  # closed: the block settles whole
    assert code_seam("Some prose\nmore prose\nx", 0) is None  # only a fence's lines are cut


def styled_rows(answer: AnswerMarkdown) -> list[list]:  # type: ignore[type-arg]
    """The answer's rows as drawn (56 columns of them): text, padding and colours."""
    return [list(answer.render_line(y).crop(0, 56)) for y in range(answer.size.height)]


async def streamed_rows(app: App[None], pilot, text: str, monkeypatch) -> tuple[list, list[int]]:  # type: ignore[no-untyped-def]
    """`text` streamed into the app's answer 23 characters at a time: its rows once drawn, and the length of
    every text the renderer was given meanwhile. The answer is removed afterwards."""
    answer = app.query_one(AnswerMarkdown)
    await pilot.pause()
    rendered = count_renders(monkeypatch)
    await write_in_slices(answer, text, 23)
    await wait_drawn(pilot, answer)
    assert answer.source == text
    rows = styled_rows(answer)
    await answer.remove()
    return rows, rendered


async def shown_rows(app: App[None], pilot, text: str) -> tuple[AnswerMarkdown, list]:  # type: ignore[no-untyped-def]
    """`text` shown at once in a new answer (as a resumed one is): the answer and its rows once drawn."""
    shown = AnswerMarkdown()
    await app.mount(shown)
    await shown.show(text)
    await wait_drawn(pilot, shown)
    return shown, styled_rows(shown)


async def test_a_long_code_block_streams_in_pieces_drawn_as_the_whole_block(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A frame renders the code block's last lines, not all of it; the result looks as the block rendered whole."""
    import tui.widgets.answer as answer_module

    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        streamed, rendered = await streamed_rows(app, pilot, LONG_CODE, monkeypatch)
        assert len(LONG_CODE) > 8_000 and max(rendered) < 1_000  # never the whole block again
        cut, shown_cut = await shown_rows(app, pilot, LONG_CODE)  # over TAIL_LIMIT: the block is cut at line ends
        assert len(cut._settled) > 1  # cut inside the block
        await cut.remove()
        monkeypatch.setattr(answer_module, "TAIL_LIMIT", 10**6)  # the reference: the block in one render
        shown, at_once = await shown_rows(app, pilot, LONG_CODE)
        assert len(shown._settled) == 1  # the text before the block; the block and after it: the tail
    assert streamed == at_once  # the same rows, padding and colours: no seam shows
    assert shown_cut == at_once  # nor where a block over TAIL_LIMIT is cut (a blank line there was lost)
    texts = ["".join(segment.text for segment in row).rstrip() for row in at_once]
    assert sum("def step_" in row for row in texts) == 40 and texts[-1] == "That is all."


LONG_LISTS = ("Steps:\n\n" + "".join(
    f"{n}. **Step {n}**: check the value against the limit, then carry the remainder into the next column "
    f"so that the sum stays exact\n" + ("    - a nested note on this step\n" if n % 7 == 0 else "")
    for n in range(1, 41)) + "\nChecks:\n\n" + "".join(
    f"- case {n} holds{' for every input the model tried' * (n % 3)}\n" for n in range(60)) + "\nDone.\n")


def test_a_list_is_cut_only_before_an_item_drawn_the_same_whatever_follows() -> None:
    def cut(text: str, minimum: int = 0) -> str | None:
        seam = list_seam(text, minimum)
        return None if seam is None else text[seam:]

    assert cut("- a\n- b\n- c") == "- b\n- c"  # the last finished item: the line being written may be "- - -"
    assert cut("- a\n- b\n- c", minimum=4) == "- b\n- c" and cut("- a\n- b\n- c", minimum=5) is None
    assert cut("1. a\n2. b\n3. c\n") == "3. c\n" and cut("7. a\n8. b\n") == "8. b\n"
    assert cut("1. a\n2. b\n7. c\n") == "2. b\n7. c\n"  # "7." is drawn as 3.: no cut before it
    assert cut("- a\n* b\n- c\n") is None  # another bullet starts another list
    assert cut("- a\n  - a1\n- b\n") == "- b\n"  # nested items go with their item
    assert cut("- a\n- - -\n- b\n") is None  # a rule ends the list
    assert cut("- a\n  ```\n- b\n  ```\n- c\n") is None  # not while a fence in an item is open
    assert cut("- a\n# Title\n- b\n") is None and cut("- a\nlazy text\n- b\n") is None
    assert cut("1. a\n 2. b\n3. c\n") is None  # an indented sibling numbers the items after it
    # Indented less than its item's text, a line is not in the item: another list, or a fence after the list.
    assert cut("- a\n 1. b\n- c\n") is None and cut("8. a\n  ```\n  x\n  ```\n9. b\n") is None
    assert cut("8. a\n   ```\n   x\n   ```\n9. b\n") == "9. b\n"  # the fence in the item: indented as its text
    assert cut("Some prose\n- a\n- b\n") is None  # only a block that starts as a list


async def test_long_lists_stream_in_pieces_drawn_as_the_whole_lists(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A frame renders a long list's last items, not all of it; the result looks as the lists rendered whole."""
    import tui.widgets.answer as answer_module

    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        streamed, rendered = await streamed_rows(app, pilot, LONG_LISTS, monkeypatch)
        assert len(LONG_LISTS) > 7_000 and max(rendered) < 1_000  # never a whole list again
        monkeypatch.setattr(answer_module, "LIST_PIECE_CHARACTERS", 10**6)  # the reference: each list in one render
        _, at_once = await shown_rows(app, pilot, LONG_LISTS)
    assert streamed == at_once  # the same rows, numbers and styles: no seam shows
    texts = ["".join(segment.text for segment in row).rstrip() for row in at_once]
    nine, ten = texts.index(" 9. Step 9: check the value against the limit, then carr"), texts.index(
        "10. Step 10: check the value against the limit, then car")
    assert texts[nine + 1] == texts[ten + 1] == "    the remainder into the next column so that the sum"  # aligned
    assert sum(row.startswith(" • case") for row in texts) == 60 and texts[-1] == "Done."


def test_a_bold_word_or_code_span_being_written_is_closed_on_the_line_being_written() -> None:
    assert close_open_inline("1. **Step") == "1. **Step**" and close_open_inline("1. **Step 1*") == "1. **Step 1**"
    assert close_open_inline("**done** and **more ") == "**done** and **more**"
    assert close_open_inline("use `x") == "use `x`" and close_open_inline("`a ** b") == "`a ** b`"
    assert close_open_inline("so **") == "so " and close_open_inline("use `") == "use "  # nothing inside yet
    assert close_open_inline("para\n- **") == "para\n- **"  # "- " under a paragraph would be a heading's rule
    assert close_open_inline("2 ** 3") == "2 ** 3" and close_open_inline("**a** b") == "**a** b"  # nothing open
    assert close_open_inline("**a\nb") == "**a\nb"  # only the line being written
    assert close_open_inline("| **a | b |") == "| **a | b |"  # a table's row: not a cell of stars more


class LiveHost(App[None]):
    CSS = "AnswerMarkdown { height: 12; }"

    def compose(self) -> ComposeResult:
        yield AnswerMarkdown()


async def live_answer(pilot) -> AnswerMarkdown:  # type: ignore[no-untyped-def]
    """The host's answer, laid out and live: written as a streaming turn's answer is."""
    answer = pilot.app.query_one(AnswerMarkdown)
    await pilot.pause()
    answer.set_live(True)
    await pilot.pause()
    return answer


def last_row(answer: AnswerMarkdown) -> str:
    return [row for row in answer_rows(answer) if row][-1]


async def test_a_streamed_bold_word_never_shows_its_stars_and_the_written_text_is_kept() -> None:
    text = "Steps:\n\n1. **Step 1**: add `x` and `y`\n2. **Check**: the sum is **exact**\n\nSo it is **done"
    async with LiveHost().run_test(size=(60, 16)) as pilot:
        answer = await live_answer(pilot)
        bold_seen = False
        for end in range(1, len(text) + 1):
            await answer.write(text[end - 1])
            line = text[:end].rsplit("\n", 1)[-1]
            rows = answer_rows(answer)
            if re.search(r"\*\*\w", line):  # a bold word begun on the line being written
                assert not any("**" in row for row in rows), (text[:end], rows)
                last = [segment for y in range(answer.size.height) for segment in answer.render_line(y)
                        if segment.text.strip() and segment.text.strip() in line]
                bold_seen |= any(segment.style is not None and segment.style.bold for segment in last)
            if re.search(r"`\w", line):
                assert not any("`" in row for row in rows), (text[:end], rows)
        assert bold_seen
        assert last_row(answer) == "So it is done"  # live: its open "**" drawn closed
        answer.set_live(False)  # the answer is written: the text is drawn as it is, stars and all
        await pilot.pause()
        assert answer.source == text and last_row(answer) == "So it is **done"


@pytest.mark.parametrize("lead", ["So the answer is ", ""])  # in a sentence, or on a line of its own
async def test_a_streamed_boxed_answer_never_shows_its_latex(lead: str) -> None:
    text = f"Both equations hold.\n\n{lead}$\\boxed{{23 \\text{{ chickens}}, 12 \\text{{ rabbits}}}}$.\n"
    async with LiveHost().run_test(size=(70, 16)) as pilot:
        answer = await live_answer(pilot)
        for character in text:
            await answer.write(character)
            rows = answer_rows(answer)
            assert not any("\\" in row or "$" in row for row in rows), rows
        assert last_row(answer) == f"{lead}23 chickens, 12 rabbits."


async def test_markup_html_and_links_in_an_answer_stay_literal() -> None:
    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await answer.write("[bold red]not styled[/] <think>kept</think> [site](https://example.com)\n")
        await pilot.pause()
        row = answer_rows(answer)[0]
        assert row == "[bold red]not styled[/] <think>kept</think> site (https://example.com)"
        assert all(segment.style is None or segment.style.link is None for segment in answer.render_line(0))
        assert not any(segment.style and segment.style.color and segment.style.color.name == "red"
                       for segment in answer.render_line(0))


async def test_first_short_line_becomes_visible() -> None:
    """Empty text has no height; a first one-row append must grow it (a layout pass, not a repaint)."""
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        text = app.query_one(StreamingText)
        await pilot.pause()
        assert text.size.height == 0
        text.append("short")
        await pilot.pause()
        assert text.size.height == 1


async def test_answer_colours_follow_a_theme_change() -> None:
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await answer.write("```python\nx = 1\n```\n")
        await pilot.pause()

        def code_background() -> object:
            return next(s.style.bgcolor for s in answer.render_line(1) if s.style and s.style.bgcolor)

        dark = code_background()
        app.theme = "textual-light"
        await pilot.pause()
        assert code_background() != dark


async def test_a_long_finished_answer_is_drawn_from_its_end_then_completed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Resuming a long answer shows its end at once; the beginning follows and matches a full render."""
    import tui.widgets.answer as answer_module

    text = "".join(f"## Part {n}\n\nProse for part {n} that is long enough to wrap once or twice here.\n\n"
                   f"```python\nx = {n}\n```\n\n" for n in range(400))
    assert len(text) > answer_module.PROGRESSIVE_CHARACTERS
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        drawn_first: list[list[str]] = []  # what the screen had when the background work began
        real_render_earlier = AnswerMarkdown._render_earlier

        def render_earlier(self: AnswerMarkdown) -> None:
            if not drawn_first and self.size.height:  # laid out: the rows it shows
                drawn_first.append(answer_rows(self))
            real_render_earlier(self)

        monkeypatch.setattr(AnswerMarkdown, "_render_earlier", render_earlier)
        await answer.show(text)
        await wait_for(pilot, lambda: bool(drawn_first) and answer_rows(answer)[0] == "Part 0", timeout=20)
        assert "Prose for part 399" in "\n".join(drawn_first[0][-8:])  # the end was there at once
        assert not drawn_first[0][0].strip()  # the beginning came after
        await pilot.pause()  # the last background slice may have left a layout to do
        progressive = answer_rows(answer)

        # The reference: the same text streamed into a laid-out answer, each stretch rendered as it settles.
        streamed = AnswerMarkdown()
        await app.mount(streamed)
        await pilot.pause()
        await write_in_slices(streamed, text, 2_000)
        await wait_drawn(pilot, streamed)
        assert progressive == answer_rows(streamed)


PARTS_TEXT = "".join(f"## Part {n}\n\nProse for part {n} that is long enough to wrap once or twice here.\n\n"
                     f"| n | n² |\n|---|---|\n| {n} | {n * n} |\n\n" for n in range(60))


class WidthChange:
    """An answer of many screens (well under the size always drawn from its end) in a 50-column terminal,
    watched while the terminal widens: the chunks rendered, and what was drawn when the background began."""

    def __init__(self, answer: AnswerMarkdown) -> None:
        self.answer = answer
        self.rendered: list[int] = []  # a width per chunk rendered
        self.before_background: list[tuple[int, list[str]]] = []  # chunks rendered and rows, at its start
        real_chunk_strips, real_render_earlier = answer._chunk_strips, answer._render_earlier

        def chunk_strips(index: int, width: int) -> object:
            self.rendered.append(width)
            return real_chunk_strips(index, width)

        def render_earlier() -> None:
            if not self.before_background:
                self.before_background.append((len(self.rendered), answer_rows(answer)))
            real_render_earlier()

        answer._chunk_strips = chunk_strips  # type: ignore[method-assign]
        answer._render_earlier = render_earlier  # type: ignore[method-assign]


async def test_an_answer_drawn_again_at_a_new_width_with_its_end_in_sight_shows_its_end_first() -> None:
    """The reasoning folding at a turn's end, F2 or a resize while the chat shows its end: the answer is
    drawn again from its end, the rest in the background, not whole while the app waits."""
    import tui.widgets.answer as answer_module

    assert len(PARTS_TEXT) < answer_module.PROGRESSIVE_CHARACTERS
    app = Host()
    async with app.run_test(size=(50, 20)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await answer.show(PARTS_TEXT)
        await wait_drawn(pilot, answer)
        app.screen.scroll_end(animate=False)  # following the chat, as at a turn's end
        await pilot.pause()
        chunks, watched = len(answer._settled), WidthChange(answer)
        await pilot.resize_terminal(90, 20)
        assert answer.size.width > 80
        await wait_for(pilot, lambda: bool(watched.before_background))
        at_once, rows = watched.before_background[0]
        assert 0 < at_once < chunks / 2  # the end: a few chunks, not all of them
        assert "Part 59" in "\n".join(rows[-12:]) and not rows[0].strip()
        await wait_for(pilot, lambda: len(watched.rendered) == chunks and answer_rows(answer)[0] == "Part 0")
        await pilot.pause()
        widened = answer_rows(answer)
        whole = AnswerMarkdown()
        await app.mount(whole)
        await whole.show(PARTS_TEXT)
        await wait_drawn(pilot, whole)
        assert widened == answer_rows(whole)


async def test_an_answer_drawn_again_at_a_new_width_while_scrolled_back_is_drawn_whole_at_once() -> None:
    """Scrolled back to read (F2 or a resize mid-answer): drawn from its end, the rows in sight would be
    blank for a moment and then move; the answer is drawn whole in the same frame, as before."""
    app = Host()
    async with app.run_test(size=(50, 20)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await answer.show(PARTS_TEXT)
        await wait_drawn(pilot, answer)
        app.screen.scroll_to(y=100, animate=False)  # reading the middle
        await pilot.pause()
        chunks, watched = len(answer._settled), WidthChange(answer)
        await pilot.resize_terminal(90, 20)
        assert answer.size.width > 80
        assert watched.rendered == [answer.size.width] * chunks and not watched.before_background
        assert answer.drawn


async def test_a_width_left_part_drawn_and_come_back_to_is_drawn_to_its_top() -> None:
    """F2 twice (or a resize and back) while an answer is still drawn from its end: the width left
    part-drawn goes on being drawn when it comes back, not left with blank estimated rows."""
    import asyncio

    text = PARTS_TEXT * 5
    app = Host()
    async with app.run_test(size=(50, 20)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await answer.show(text)
        await wait_drawn(pilot, answer)
        narrow = answer.styles.width
        app.screen.scroll_end(animate=False)
        await pilot.pause()
        answer.styles.width = 90
        await asyncio.sleep(0.05)
        assert answer.drawing_in_background  # drawn from its end at 90 columns, the rest to come
        answer.styles.width = narrow  # drawn whole at this width already: nothing left to draw there
        await asyncio.sleep(0.1)
        answer.styles.width = 90
        await wait_for(pilot, lambda: answer.content_size.width == 90 and answer.drawn, timeout=5)
        assert answer_rows(answer)[0] == "Part 0"


def test_settled_pieces_cut_long_text_at_block_starts_and_keep_every_character() -> None:
    text = "".join(f"Paragraph {n} " + "word " * 30 + "\n\n" for n in range(50))
    pieces, tail = settled_pieces(text, 400)
    assert "".join(pieces) + tail == text
    assert len(pieces) > 5 and all(len(piece) >= 400 for piece in pieces[:-1])
    assert all(piece.endswith("\n\n") for piece in pieces) and tail.startswith("Paragraph 49 ")


def test_a_wide_table_in_a_narrow_pane_wraps_its_cells_rather_than_cutting_them() -> None:
    header = "| " + " | ".join(f"column{n}" for n in range(10)) + " |"
    rule = "|" + "---|" * 10
    row = "| " + " | ".join(f"value{n}" for n in range(10)) + " |"
    rows = ["".join(s.text for s in line) for line in MarkdownRenderer().render(f"{header}\n{rule}\n{row}\n", 50)]
    assert not any("…" in line for line in rows)
    assert rows[0].strip()  # no blank edge row above the header
    rule_at = next(i for i, line in enumerate(rows) if set(line.strip()) == {"─"})
    head, body = rows[:rule_at], [line for line in rows[rule_at + 1:] if line.strip()]

    def cells(block: list[str]) -> list[str]:
        """Each column's text read down its wrapped lines (a column starts where any line has a word start)."""
        starts = sorted({m.start() for line in block for m in re.finditer(r"\S+", line)})
        spans = list(zip(starts, starts[1:] + [None]))
        return ["".join(line[a:b].strip() for line in block) for a, b in spans]

    assert cells(head) == [f"column{n}" for n in range(10)]
    assert cells(body) == [f"value{n}" for n in range(10)]  # every character of every cell, in its column


DEEP_QUOTE = ">" * 30 + " the answer is 42"
DEEP_LIST = "\n".join("  " * depth + f"- level {depth}" for depth in range(30))


async def test_markdown_nested_past_the_parsers_limit_is_still_shown() -> None:
    """markdown-it drops what lies 20 containers deep: such text is shown flat rather than lost."""
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        await answer.write(DEEP_QUOTE)
        await pilot.pause()
        assert any("the answer is 42" in row for row in answer_rows(answer))
        await answer.remove()
        listed = AnswerMarkdown()
        await app.mount(listed)
        await listed.show("Intro.\n\n" + DEEP_LIST)
        await pilot.pause()
        rows = "\n".join(answer_rows(listed))
        assert "Intro." in rows and all(f"level {depth}" in rows for depth in range(30))


def test_a_list_nested_within_the_limit_is_still_rendered_as_markdown() -> None:
    lines = MarkdownRenderer().render("\n".join("  " * depth + f"- level {depth}" for depth in range(5)), 60)
    assert ["".join(segment.text for segment in line).strip() for line in lines][:2] == ["• level 0", "• level 1"]


async def test_a_code_block_longer_than_the_tail_limit_stays_one_code_block() -> None:
    """A tail with no block start is cut to bound the work per frame; a fence cut open is reopened."""
    import tui.widgets.answer as answer_module

    code = "".join(f"value_{n} = {n}  # line {n}\n" for n in range(2 * answer_module.TAIL_LIMIT // 20))
    text = f"Intro.\n\n```python\n{code}```\n\nAfter the code."
    assert len(code) > answer_module.TAIL_LIMIT
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        streamed = app.query_one(AnswerMarkdown)
        await write_in_slices(streamed, text, 500)
        await wait_for(pilot, lambda: answer_rows(streamed)[:1] == ["Intro."])  # drawn from the end, then up
        await pilot.pause()
        rows = answer_rows(streamed)
        assert answer_module.TAIL_LIMIT > max(len(chunk) for chunk in streamed._settled)  # it was cut
        assert streamed.source == text
        assert not any("```" in row for row in rows)  # no fence shown as text: all of it is code
        assert sum("value_" in row for row in rows) == len(code.splitlines())
        assert rows[-1].strip() == "After the code."


async def test_text_past_the_row_limit_keeps_its_end_under_a_notice(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tui.widgets.answer as answer_module
    import tui.widgets.stream_text as stream_module

    monkeypatch.setattr(answer_module, "MAX_ROWS", 50)
    monkeypatch.setattr(stream_module, "MAX_ROWS", 50)
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        text, answer = app.query_one(StreamingText), app.query_one(AnswerMarkdown)
        text.append("".join(f"line {n}\n" for n in range(200)) + "the end")
        await answer.show("".join(f"Paragraph {n}.\n\n" for n in range(3000)) + "The end.")
        await wait_for(pilot, lambda: answer_rows(answer)[:1] != [] and answer_rows(answer)[0].startswith("… the"))
        await pilot.pause()
        reasoning_rows = [text.render_line(y).text.rstrip() for y in range(text.size.height)]
        assert reasoning_rows[0].startswith("… earlier text is not drawn") and reasoning_rows[-1] == "the end"
        assert reasoning_rows[-2] == "line 199" and len(reasoning_rows) == 51
        rows = answer_rows(answer)
        assert rows[-1] == "The end." and "Paragraph 2999." in rows and len(rows) < 300  # not 6,000
        assert text.text.startswith("line 0\n") and answer.source.startswith("Paragraph 0.")  # all is kept


def test_the_demo_quotes_a_question_as_it_was_typed() -> None:
    """The canned reply quotes the question: its `*` and `_` are the user's, not the start of an emphasis."""
    from tui.demo import demo_reply

    answer = demo_reply([{"role": "user", "content": "what is 6*7, or a_b*c?"}]).answer
    rows = ["".join(segment.text for segment in line) for line in MarkdownRenderer().render(answer, 200)]
    assert any("cannot answer “what is 6*7, or a_b*c?”." in row for row in rows), rows
