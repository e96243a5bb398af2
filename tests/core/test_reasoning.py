"""The think splitter against Ollama's own parser cases, and against every way of chunking a stream."""

from __future__ import annotations

import itertools
import random

import pytest

from tui.core.reasoning import ThinkSplitter

# Cases transcribed from Ollama's thinking/parser_test.go: (chunks, [(thinking, content) per chunk]).
OLLAMA_STEP_CASES = {
    "content without a thinking tag": [("  abc", "", "  abc"), ("def", "", "def")],
    "content before a thinking tag nerfs the thinking tag": [
        ("  abc <think>def</think> ghi", "", "  abc <think>def</think> ghi")],
    "building up a thinking tag partially": [("  <th", "", ""), ("in", "", ""), ("k>a", "a", "")],
    "partial closing tag": [("<think>abc</th", "abc", ""), ("ink>def", "", "def")],
    "partial closing tag fakeout": [
        ("<think>abc</th", "abc", ""), ("ing>def", "</thing>def", ""),
        ("ghi</thi", "ghi", ""), ("nk>jkl", "", "jkl")],
    "whitespace after thinking tag": [("  <think>abc</think>\n\ndef", "abc", "def")],
    "whitespace after thinking tag (incremental)": [("  <think>abc</think>", "abc", ""), ("\n\ndef", "", "def")],
    "whitespace after thinking tag with content and more whitespace": [
        ("  <think>abc</think>\n\ndef ", "abc", "def "), (" ghi", "", " ghi")],
    "token by token": [
        ("<think>", "", ""), ("\n", "", ""), ("</think>", "", ""), ("\n\n", "", ""),
        ("Hi", "", "Hi"), (" there", "", " there")],
    "leading thinking whitespace": [
        ("  <think>   \t ", "", ""), ("  these are some ", "these are some ", ""),
        ("thoughts </think>  ", "thoughts ", ""), ("  more content", "", "more content")],
}


@pytest.mark.parametrize("name", list(OLLAMA_STEP_CASES))
def test_matches_ollama_parser_step_by_step(name: str) -> None:
    splitter = ThinkSplitter()
    for chunk, want_thinking, want_content in OLLAMA_STEP_CASES[name]:
        assert splitter.feed(chunk) == (want_thinking, want_content), (name, chunk)


@pytest.mark.parametrize(
    ("text", "reasoning", "answer"),
    [
        ("<think> internal </think> world", "internal ", "world"),
        ("<think>a</think><think>b</think>c", "a", "<think>b</think>c"),
        ("no think", "", "no think"),
    ],
)
def test_matches_ollama_extract_cases(text: str, reasoning: str, answer: str) -> None:
    splitter = ThinkSplitter()
    got = splitter.feed(text)
    tail = splitter.finish()
    assert (got[0] + tail[0], got[1] + tail[1]) == (reasoning, answer)


def run_chunks(chunks: list[str], in_reasoning: bool = False) -> tuple[str, str]:
    splitter = ThinkSplitter(in_reasoning=in_reasoning)
    reasoning, answer = [], []
    for chunk in chunks:
        r, a = splitter.feed(chunk)
        reasoning.append(r)
        answer.append(a)
    r, a = splitter.finish()
    return "".join(reasoning) + r, "".join(answer) + a


def all_chunkings(text: str, max_cuts: int = 3) -> list[list[str]]:
    """Every way to cut `text` at up to `max_cuts` places, plus one character per chunk.

    Tags are at most 8 characters, so three cuts already split every tag and its
    neighbours in every possible way.
    """
    result = [list(text)]
    for count in range(max_cuts + 1):
        for cuts in itertools.combinations(range(1, len(text)), count):
            result.append([text[a:b] for a, b in zip((0, *cuts), (*cuts, len(text)))])
    return result


STREAMS = [
    # (text, in_reasoning, expected reasoning, expected answer)
    ("<think>\nab</think>\n\ncd", False, "ab", "cd"),
    (" <think> x</think>y", False, "x", "y"),
    ("a</think>\nb", True, "a", "b"),
    ("<think>r</think>a<think>", False, "r", "a<think>"),
    ("q<think>r</think>", False, "", "q<think>r</think>"),
    ("<think>r</thi", False, "r</thi", ""),
    ("\n r</think>", True, "r", ""),
]


@pytest.mark.parametrize(("text", "in_reasoning", "reasoning", "answer"), STREAMS)
def test_result_never_depends_on_chunking(text: str, in_reasoning: bool, reasoning: str, answer: str) -> None:
    for chunks in all_chunkings(text):
        assert run_chunks(chunks, in_reasoning) == (reasoning, answer), chunks


def test_long_stream_random_chunking_is_stable() -> None:
    text = "  <think>\n" + "Step one. </th not a tag </thinking> still thinking\n\n" * 20 + "</think>\n\n" + "Answer <think> stays.\n" * 10
    expected = run_chunks([text])
    assert expected[0].startswith("Step one.") and "</think>" not in expected[0]
    assert expected[1].startswith("Answer <think> stays.")
    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 60)))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
        assert run_chunks(chunks) == expected


def test_prefilled_template_starts_inside_reasoning() -> None:
    assert run_chunks(["Let me think", ".\n</think>", "\n\nThe answer."], in_reasoning=True) == (
        "Let me think.\n", "The answer.")


def test_prefilled_template_swallows_a_stray_opening_tag() -> None:
    assert run_chunks(["<think>", "\nhm", "</think>ok"], in_reasoning=True) == ("hm", "ok")


def test_stream_ending_inside_reasoning_keeps_held_back_text_as_reasoning() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<think>partial </thi") == ("partial ", "")
    assert splitter.finish() == ("</thi", "")


def test_no_tag_reaches_either_side() -> None:
    for text in ("<think>x</think>y", "\n<think>\n\nx\n</think>\n\ny"):
        reasoning, answer = run_chunks(list(text))
        assert "<think>" not in reasoning + answer and "</think>" not in reasoning + answer


def test_in_reasoning_property_tracks_the_block() -> None:
    splitter = ThinkSplitter()
    assert not splitter.in_reasoning
    splitter.feed("<think>hmm")
    assert splitter.in_reasoning
    splitter.feed("</think>done")
    assert not splitter.in_reasoning


@pytest.mark.parametrize(("in_reasoning", "chunk", "expected"), [
    (False, "<thi", ("", "<thi")),       # a partial tag at the end is answer text after all
    (False, "  <th", ("", "  <th")),
    (True, "  <thi", ("<thi", "")),      # inside a pre-filled block it is reasoning, leading space dropped
])
def test_finish_flushes_a_partial_opening_tag(in_reasoning: bool, chunk: str, expected: tuple[str, str]) -> None:
    splitter = ThinkSplitter(in_reasoning=in_reasoning)
    assert splitter.feed(chunk) == ("", "")  # held back: it could still become <think>
    assert splitter.finish() == expected
    assert splitter.finish() == ("", "") and not splitter.in_reasoning
