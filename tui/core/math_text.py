"""R1's final answers as a reader wants them: `\\boxed{…}` LaTeX shown as plain bold text.

DeepSeek-R1 ends nearly every maths answer with `$\\boxed{…}$` or a display
`\\[ \\boxed{…} \\]`; a terminal cannot typeset it, and the raw LaTeX buries the
result. Only math that contains `\\boxed` is touched, never code blocks, and
the conversion is for display only: history, copy and export keep the raw text.
The common commands of a final answer are mapped to Unicode (`\\frac{a}{b}` to
a/b, `\\times` to ×, `\\text{…}` to its text); anything else is left as written.
"""

from __future__ import annotations

import re

__all__ = ["latex_to_text", "present_math", "unfinished_answer_math"]

_FENCE = re.compile(r"^\s*(```|~~~)")
_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|\$(.+?)\$", re.DOTALL)
_MATH_OPENER = re.compile(r"\$\$|\\\[|\\\(|\$")
_SYMBOLS = {
    r"\times": "×", r"\cdot": "·", r"\pm": "±", r"\mp": "∓", r"\leq": "≤", r"\le": "≤", r"\geq": "≥",
    r"\ge": "≥", r"\neq": "≠", r"\ne": "≠", r"\approx": "≈", r"\infty": "∞", r"\pi": "π", r"\circ": "°",
    r"\degree": "°", r"\to": "→", r"\rightarrow": "→", r"\Rightarrow": "⇒", r"\implies": "⇒", r"\ldots": "…",
    r"\dots": "…", r"\cdots": "…", r"\%": "%", r"\$": "$", r"\{": "{", r"\}": "}",
    r"\,": " ", r"\;": " ", r"\:": " ", r"\quad": " ", r"\qquad": "  ", r"\!": "", r"\left": "", r"\right": "",
}
_SUPERSCRIPTS = str.maketrans("0123456789+-n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ")
_WRAPPERS = ("text", "mathrm", "textbf", "mathbf", "textit", "mathit", "operatorname", "boxed")


def present_math(text: str) -> str:
    """`text` with every math span that holds a `\\boxed` answer turned into bold plain text."""
    if "\\boxed" not in text:
        return text
    parts: list[str] = []
    prose: list[str] = []
    in_fence = False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            if not in_fence:
                parts.append(_convert_prose("".join(prose)))
                prose = []
            in_fence = not in_fence
            parts.append(line)
        elif in_fence:
            parts.append(line)
        else:
            prose.append(line)
    parts.append(_convert_prose("".join(prose)))
    return "".join(parts)


def unfinished_answer_math(line: str) -> int | None:
    """Where, in a line still being written, a math span that holds (or may yet hold) `\\boxed` opens and
    has not closed (None: there is none). Shown as written until it closes, the raw LaTeX would flash
    before it turned into the bold answer (`present_math`): a streamed answer's display leaves it out until
    then. An opener with nothing after it yet, or the start of `\\boxed`, counts (a lone `$` may be a price:
    the next word shows it); so does a last backslash (the start of `\\(` or `\\[`)."""
    position = 0
    for span in _MATH.finditer(line):
        position = span.end()  # complete spans are converted (or kept) as they are
    opener = _MATH_OPENER.search(line, position)
    if opener is not None:
        rest = line[opener.end():].lstrip()
        if "\\boxed" in rest or "\\boxed".startswith(rest):
            return opener.start()
    if line.endswith("\\") and not line.endswith("\\\\"):
        return len(line) - 1
    return None


def _convert_prose(prose: str) -> str:
    def replace(match: re.Match[str]) -> str:
        body = next(group for group in match.groups() if group is not None)
        if "\\boxed" not in body:
            return match.group(0)
        plain = latex_to_text(body)
        return f"**{_escape_markdown(plain)}**" if plain else match.group(0)

    return _MATH.sub(replace, prose)


def latex_to_text(latex: str) -> str:
    """Plain text for the LaTeX of a typical final answer (unknown commands are kept)."""
    text = latex.strip()
    for name in ("frac", "dfrac", "tfrac"):
        text = _replace_command(text, name, 2, lambda a, b: f"{_group(a)}/{_group(b)}")
    text = _replace_command(text, "sqrt", 1, lambda a: f"√{_group(a)}")
    for name in _WRAPPERS:
        text = _replace_command(text, name, 1, lambda a: a)
    for command in sorted(_SYMBOLS, key=len, reverse=True):
        text = text.replace(command, _SYMBOLS[command])
    text = re.sub(r"\^\{([0-9+\-n]+)\}|\^([0-9n])", lambda m: (m.group(1) or m.group(2)).translate(_SUPERSCRIPTS), text)
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"[ \t\n]+", " ", text).strip()


def _group(value: str) -> str:
    """Parenthesise a fraction's part when it is more than one term."""
    value = value.strip()
    return f"({value})" if re.search(r"[+\-\s]", value) else value


def _replace_command(text: str, name: str, arguments: int, build) -> str:  # type: ignore[no-untyped-def]
    """Replace `\\name{a}{b}` (balanced braces) with build(a, b), innermost last."""
    pattern = re.compile(r"\\" + name + r"(?![A-Za-z])\s*")
    while True:
        match = pattern.search(text)
        if match is None:
            return text
        position, values = match.end(), []
        for _ in range(arguments):
            value, position = _braced(text, position)
            if value is None:
                return text  # unbalanced: leave the rest as written
            values.append(value)
        text = text[:match.start()] + build(*values) + text[position:]


def _braced(text: str, position: int) -> tuple[str | None, int]:
    while position < len(text) and text[position] == " ":
        position += 1
    if position >= len(text) or text[position] != "{":
        return None, position
    depth = 0
    for index in range(position, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[position + 1:index], index + 1
    return None, position


def _escape_markdown(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)
