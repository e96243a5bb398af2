"""Every key of the chat, written once: the bindings carry their help text (`tooltip`),
and the F1 screen, the welcome text and the command palette are all built from them.

Why here and not in each screen: the key list used to be written four times (bindings, the
welcome text, the help screen, the palette) and drifted; now a key added to a binding shows
up everywhere by itself.
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding

__all__ = ["APP_BINDINGS", "CHAT_BINDINGS", "FOCUSED_TURN_BINDINGS", "SCROLL_BINDINGS", "PROMPT_BINDINGS", "PROMPT_KEYS", "SCROLL_KEYS", "SECTION_ORDER", "TEXTUAL_KEYS", "documented",
           "key_label", "section_of"]

# F1's sections. Not Textual's Binding.group: the footer would squeeze a group's keys into one label.
CHAT, TURN, SCREENS, EVERYWHERE = "Chat", "Turns (Alt+Up focuses one)", "Screens", "Everywhere"
SECTION_ORDER = ("This screen", CHAT, SCREENS, TURN, EVERYWHERE)

PROMPT_BINDINGS = [
    Binding("enter", "submit", "Send", show=False, tooltip="send the prompt"),
    Binding("ctrl+j", "newline", "Newline", show=False,
            tooltip="new line in the prompt (also Alt+Enter)"),
    Binding("alt+enter", "newline", "Newline", show=False),  # documented with Ctrl+J
]

# Keys the prompt handles itself (`tui.widgets.prompt`), listed in F1 with the bindings.
PROMPT_KEYS = [
    Binding("up,down", "recall", "Recall",
            tooltip="on the first / last line: earlier prompts (Down: the draft)"),
]

TURN_BINDINGS = [
    Binding("escape", "stop", "Stop", priority=True, tooltip="stop generating (the server stops too)"),
    # Priority: over the prompt, so they work while typing the next question.
    Binding("ctrl+g", "answer_now", "Answer now", priority=True, show=False,
            tooltip="answer now: cut the reasoning while the model thinks, and have it answer from what it has "
                    "thought"),
    Binding("f9", "think_budget", "Budget", priority=True, show=False,
            tooltip="thinking budget for this chat: none, 300, 1,000, 3,000, 8,000 tokens, or thinking off"),
    Binding("ctrl+o", "app.choose_model", "Model",
            tooltip="switch model: installed tags, their fit and whether loaded"),
    Binding("ctrl+t", "toggle_reasoning", "Fold",
            tooltip="fold or unfold the last turn's reasoning (or click its header)"),
    # Priority: over the prompt's own Ctrl+Y (redo).
    Binding("ctrl+y", "copy_answer", "Copy", priority=True, show=False,
            tooltip="copy the last (or focused) answer to the clipboard"),
    Binding("ctrl+n", "new_chat", "New chat", tooltip="start an empty conversation"),
    # Priority: over the prompt, so they work while typing.
    Binding("ctrl+r", "regenerate", "Retry", priority=True,
            tooltip="answer the last prompt again with the model chosen now"),
    Binding("alt+left", "flip_answer(-1)", "Answers", show=False,
            tooltip="earlier answer (Alt+→: later); the model sees the one shown"),
    Binding("alt+right", "flip_answer(1)", "Answers", show=False),
    Binding("alt+up", "focus_turn(-1)", "Turns", priority=True, show=False,
            tooltip="focus the previous turn (Alt+Down: next; then the prompt)"),
    Binding("alt+down", "focus_turn(1)", "Turns", priority=True, show=False),
]

# On a focused turn (Alt+Up from the prompt, or Tab to it).
FOCUSED_TURN_BINDINGS = [
    Binding("up", "screen.focus_turn(-1)", "Previous", show=False,
            tooltip="the previous turn (Down: the next); Esc: back to the prompt"),
    Binding("down", "screen.focus_turn(1)", "Next", show=False),
    Binding("left_square_bracket", "screen.flip_answer(-1)", "Earlier answer", show=False,
            key_display="[ ]", tooltip="its earlier answer ([) or later one (])"),
    Binding("right_square_bracket", "screen.flip_answer(1)", "Later answer", show=False),
    Binding("e", "screen.edit_prompt", "Edit", show=False,
            tooltip="edit its prompt; Enter forks the chat from there (original kept in F5)"),
    Binding("r", "screen.regenerate", "Retry", show=False,
            tooltip="answer it again (an earlier turn: as a fork)"),
    Binding("t,space", "fold", "Fold", show=False, tooltip="fold or unfold its reasoning"),
    Binding("c", "screen.copy_menu", "Copy", show=False,
            tooltip="copy its answer, reasoning or a code block, or save it to a file"),
    Binding("enter", "open", "Show", show=False,
            tooltip="on a turn shown as a one-line summary: show it in full"),
]

SCREEN_BINDINGS = [
    # Priority: the prompt (a TextArea) binds F6 and F7 to selections of its own.
    Binding("f2", "toggle_panel", "Panel", priority=True,
            tooltip="hardware panel: VRAM, GPU, CPU, RAM, loaded models, tokens/s"),
    Binding("f3", "app.open_picker", "Models", priority=True,
            tooltip="model library: GPU fit of every tag; pull, delete, details"),
    Binding("f4", "compare", "Compare", priority=True, tooltip="compare one prompt on 2–4 models"),
    Binding("f5", "history", "History", priority=True,
            tooltip="history: search, resume, rename, export, delete"),
    Binding("f8", "app.open_fleet", "Fleet", priority=True,
            tooltip="fleet: every host's engine, models, load and GPUs; Enter chats there"),
    # Shown in F1 and the palette; the footer keeps room for the everyday keys.
    Binding("f6", "server", "Server", priority=True, show=False,
            tooltip="the Ollama server: version, loaded models, log, restart"),
    Binding("f7", "settings", "Settings", priority=True, show=False,
            tooltip="settings, saved to config.toml"),
]

CHAT_BINDINGS = [*TURN_BINDINGS, *SCREEN_BINDINGS]

APP_BINDINGS = [
    Binding("f1", "toggle_help", "Help", tooltip="every key of the current screen (Esc closes it)"),
]

# Priority: the prompt (a TextArea) moves its cursor with these; they scroll the chat from anywhere.
SCROLL_BINDINGS = [
    Binding("pageup", "scroll_chat(-1)", "Scroll", priority=True, show=False,
            tooltip="scroll the chat up (PgDn: down), also while typing"),
    Binding("pagedown", "scroll_chat(1)", "Scroll", priority=True, show=False),
    Binding("home", "chat_edge(-1)", "Top", priority=True, show=False,
            tooltip="top of the chat (End: bottom, following again); in a typed prompt: the line"),
    Binding("end", "chat_edge(1)", "Bottom", priority=True, show=False),
]

# Keys handled by Textual's own widgets, shown in F1 with the bindings (the summary's Enter is
# listed with the turn keys).
SCROLL_KEYS: list[Binding] = []

TEXTUAL_KEYS = [
    Binding("ctrl+p", "command_palette", "Palette",
            tooltip="command palette: themes, unload/preload model, switch host, …"),
    Binding("ctrl+q", "quit", "Quit", tooltip="quit"),
]

_KEY_NAMES = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn", "up": "Up", "down": "Down",
              "left": "←", "right": "→", "space": "Space",
              "left_square_bracket": "[", "right_square_bracket": "]"}


def key_label(key: str) -> str:
    """A binding's key as people write it: "ctrl+o" → "Ctrl+O", "pageup,pagedown" → "PgUp/PgDn",
    a bare letter as typed ("e", not "E", which reads as Shift+E)."""
    def one(name: str) -> str:
        if name in _KEY_NAMES:
            return _KEY_NAMES[name]
        if len(name) == 1:
            return name
        return "+".join(_KEY_NAMES.get(part) or (part.upper() if len(part) == 1 or part[0] == "f"
                                                 else part.capitalize()) for part in name.split("+"))

    return "/".join(one(name) for name in key.split(","))


def section_of(binding: Binding) -> str:
    """The F1 section a binding is listed under."""
    for section, bindings in _SECTIONS.items():
        if any(binding is known for known in bindings):
            return section
    return "This screen"


def documented(bindings: Iterable[Binding]) -> list[Binding]:
    """The bindings that carry help text, in order."""
    return [binding for binding in bindings if binding.tooltip]


_SECTIONS = {
    CHAT: [*PROMPT_BINDINGS, *PROMPT_KEYS, *TURN_BINDINGS[:-4], *SCROLL_BINDINGS, *SCROLL_KEYS],
    TURN: [*TURN_BINDINGS[-4:], *FOCUSED_TURN_BINDINGS],
    SCREENS: SCREEN_BINDINGS,
    EVERYWHERE: [*APP_BINDINGS, *TEXTUAL_KEYS],
}
