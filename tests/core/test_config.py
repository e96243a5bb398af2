"""Settings: defaults from DeepSeek's model card, bad values named with what is allowed."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from tui.core.config import Settings, load_settings, save_settings


def test_defaults_follow_the_model_card(tmp_path) -> None:
    settings = load_settings(tmp_path / "missing.toml").settings
    assert settings.temperature == 0.6 and settings.top_p == 0.95 and settings.system_prompt == ""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[chat]\ntemperature = 5\n", "`chat.temperature` = 5 is not allowed: use a number from 0 to 2"),
        ("[chat]\ntop_p = \"high\"\n", "`chat.top_p` = 'high' is not allowed: use a number from 0 to 1"),
        ("[chat]\nnum_ctx = 12.5\n", "`chat.num_ctx` = 12.5 is not allowed: use a whole number"),
        ("[chat]\nkeep_alive = \"forever\"\n", "`chat.keep_alive` = 'forever' is not allowed"),
        ("[ui]\nshow_panel = \"yes\"\n", "`ui.show_panel` = 'yes' is not allowed: use true or false"),
        ("[chat]\ntemprature = 0.5\n", "unknown key `chat.temprature`"),
    ],
)
def test_bad_values_name_file_key_and_allowed(tmp_path, text: str, fragment: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    loaded = load_settings(path)
    assert len(loaded.problems) == 1
    assert str(path) in loaded.problems[0] and fragment in loaded.problems[0]
    assert loaded.settings == Settings()  # the bad key keeps its default


def test_broken_file_gives_defaults_and_is_never_overwritten(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[chat\ntemperature = 0.5")
    loaded = load_settings(path)
    assert loaded.parse_failed and str(path) in loaded.problems[0]
    with pytest.raises(ValueError):
        save_settings(Settings(), path)
    assert path.read_text() == "[chat\ntemperature = 0.5"


def test_round_trip_and_private_permissions(tmp_path) -> None:
    path = tmp_path / "r1tui" / "config.toml"
    settings = Settings(temperature=0.5, model="deepseek-r1:14b", keep_alive="1h")
    save_settings(settings, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = load_settings(path)
    assert loaded.problems == [] and loaded.settings == settings


def test_example_config_documents_every_key_with_its_default() -> None:
    from pathlib import Path

    from tui.core.config import all_keys

    path = Path(__file__).resolve().parents[2] / "config.example.toml"
    loaded = load_settings(path)
    assert loaded.problems == [] and loaded.settings == Settings()
    text = path.read_text()
    for table, key in all_keys():
        assert f"[{table}]" in text and f"\n{key} =" in text


# -- saving edits the user's file instead of rewriting it -------------------------------

USERS_FILE = """\
# my settings, by hand
[chat]
temprature = 0.5   # a typo: unknown, but it is the user's
temperature = 0.6  # what DeepSeek suggests
num_ctx = 12.5     # invalid: loads as the default, stays as written

[mine]
colour = "green"
"""


def test_saving_changes_only_the_changed_value_and_keeps_the_rest_with_a_backup(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USERS_FILE)
    path.chmod(0o644)
    before = load_settings(path).settings
    save_settings(replace(before, temperature=0.7, show_panel=False), path, previous=before)
    assert path.read_text() == USERS_FILE.replace(
        "temperature = 0.6  # what", "temperature = 0.7  # what") + "\n[ui]\nshow_panel = false\n"
    backup = tmp_path / "config.toml.bak"
    assert backup.read_text() == USERS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    loaded = load_settings(path)
    assert loaded.settings == replace(before, temperature=0.7, show_panel=False)


def test_without_previous_settings_the_file_itself_says_what_changed(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USERS_FILE)
    save_settings(replace(load_settings(path).settings, top_p=0.9), path)
    text = path.read_text()
    assert "top_p = 0.9\n" in text and text.replace("top_p = 0.9\n", "") == USERS_FILE


def test_the_example_config_changes_by_one_line(tmp_path) -> None:
    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    path = tmp_path / "config.toml"
    path.write_text(example)
    save_settings(Settings(num_ctx=8192), path, previous=Settings())
    assert path.read_text() == example.replace("\nnum_ctx = 4096\n", "\nnum_ctx = 8192\n")


def test_a_symlinked_config_is_written_through_to_its_target(tmp_path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "r1tui.toml"
    real.write_text("[chat]\ntemperature = 0.6\n")
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    save_settings(Settings(temperature=0.5), link, previous=Settings())
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "[chat]\ntemperature = 0.5\n"
    assert (dotfiles / "r1tui.toml.bak").read_text() == "[chat]\ntemperature = 0.6\n"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600


def test_runtime_and_config_share_public_validators_without_importing_each_other() -> None:
    import subprocess
    import sys

    code = ("import sys, tui.core.runtime as r, tui.core.validators as v; "
            "print('tui.core.config' in sys.modules, r.RUNTIME_KEYS[('runtime', 'autostart')][1] is v.boolean)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.split() == ["False", "True"], result.stderr
