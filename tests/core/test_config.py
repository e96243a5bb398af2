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
        ("[chat]\nmodel = 7\n", "`chat.model` = 7 is not allowed: use a string in quotes; using ''"),
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
    with pytest.raises(ValueError, match=f"^{path} could not be parsed .*; fix it by hand before saving$"):
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
    assert path.read_text() == example.replace('\nnum_ctx = "auto"\n', "\nnum_ctx = 8192\n")


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
@pytest.mark.parametrize(("table", "key", "value", "attribute"), [
    ("chat", "temperature", "0", "temperature"),      # greedy decoding: a real choice
    ("chat", "temperature", "2", "temperature"),
    ("chat", "top_p", "0", "top_p"),
    ("chat", "top_p", "1", "top_p"),                  # no nucleus cut
    ("chat", "num_ctx", "512", "num_ctx"),
    ("chat", "num_ctx", "131072", "num_ctx"),         # R1's full context
    ("server", "stall_timeout", "5", "stall_timeout"),
    ("server", "stall_timeout", "3600", "stall_timeout"),
    ("ui", "sample_interval", "0.2", "sample_interval"),
    ("ui", "sample_interval", "60", "sample_interval"),
])
def test_range_ends_are_allowed(tmp_path, table: str, key: str, value: str, attribute: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[{table}]\n{key} = {value}\n")
    loaded = load_settings(path)
    assert loaded.problems == []
    assert getattr(loaded.settings, attribute) == float(value)


@pytest.mark.parametrize(("table", "key", "value"), [
    ("chat", "temperature", "-0.01"), ("chat", "temperature", "2.01"),
    ("chat", "top_p", "-0.01"), ("chat", "top_p", "1.01"),
    ("chat", "num_ctx", "511"), ("chat", "num_ctx", "131073"),
    ("server", "stall_timeout", "4.9"), ("server", "stall_timeout", "3601"),
    ("ui", "sample_interval", "0.19"), ("ui", "sample_interval", "60.1"),
    ("chat", "temperature", "true"),  # TOML booleans are not numbers here
    ("chat", "num_ctx", "4096.5"),  # in range, but not a whole number
    ("chat", "top_p", '"0.9"'),  # a string, not a number
    ("chat", "num_ctx", "true"),
])
def test_just_outside_a_range_is_refused(tmp_path, table: str, key: str, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[{table}]\n{key} = {value}\n")
    loaded = load_settings(path)
    assert len(loaded.problems) == 1 and f"`{table}.{key}` = " in loaded.problems[0]
    assert loaded.settings == Settings()


# -- cases the mutation run found unpinned (benchmarks/MUTATION.md) ------------------------------------


def test_folders_follow_xdg_and_default_under_home(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    from tui.core import config

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    assert config.config_dir() == tmp_path / "c" / "r1tui"
    assert config.data_dir() == tmp_path / "d" / "r1tui"
    assert config.state_dir() == tmp_path / "s" / "r1tui"
    assert config.default_config_path() == tmp_path / "c" / "r1tui" / "config.toml"
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, "")  # set but empty: the XDG default applies
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = Path(tmp_path / "home")
    assert config.config_dir() == home / ".config" / "r1tui"
    assert config.data_dir() == home / ".local" / "share" / "r1tui"
    assert config.state_dir() == home / ".local" / "state" / "r1tui"


def test_without_a_path_the_xdg_config_file_is_read_and_written(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    save_settings(Settings(temperature=0.25))
    path = tmp_path / "c" / "r1tui" / "config.toml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and not path.with_suffix(".toml.tmp").exists()
    loaded = load_settings()
    assert loaded.path == path and loaded.settings.temperature == 0.25 and loaded.problems == []


def test_chat_options_are_what_ollama_reads() -> None:
    assert Settings(temperature=0.3, top_p=0.9, num_ctx=8192).chat_options() == {
        "temperature": 0.3, "top_p": 0.9, "num_ctx": 8192}


def test_hosts_and_odd_tables_in_a_config_file(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('stray = 1\n[hosts.lab]\nurl = "lab"\ntoken = "t0k"\n[hosts.bad]\nurl = 3\n'
                    '[chat]\nnope = 1\ntemperature = 0.1\n[ui]\nshow_panel = false\n', encoding="utf-8")
    os.chmod(path, 0o644)
    loaded = load_settings(path)
    assert list(loaded.settings.hosts) == ["lab"] and loaded.settings.hosts["lab"].url == "http://lab:11434"
    assert loaded.settings.temperature == 0.1 and loaded.settings.show_panel is False  # tables after a bad key
    assert loaded.problems == [
        f"{path}: `stray` should be a [table]; ignored",
        f"{path}: `hosts.bad.url` = 3 is not allowed: use a server address like \"gpu-box\", \"gpu-box:11434\","
        " \"http://…\" or \"https://…\"",
        f"{path}: host `bad` has no valid url; ignored",
        f"{path} holds a token and is readable by others (mode 0644): run `chmod 600 {path}`, or use token_env instead",
        f"{path}: unknown key `chat.nope`; ignored",
    ]
    save_settings(loaded.settings, path)
    assert load_settings(path).settings.hosts == loaded.settings.hosts


@pytest.mark.parametrize(("value", "ok"), [
    ("\"5m\"", "5m"), ("\" 1h \"", "1h"), ("0", "0s"), ("-1", "-1s"), ("2.5", "2.5s"),
    ("true", None), ("\"\"", None), ("\"soon\"", None),
])
def test_keep_alive_values(tmp_path, value: str, ok: str | None) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[chat]\nkeep_alive = {value}\n")
    loaded = load_settings(path)
    if ok is None:
        assert loaded.problems == [f"{path}: `chat.keep_alive` = {tomllib_value(value)!r} is not allowed: use a "
                                   'duration like "5m", "1h", "30s", 0 (unload at once) or -1 (keep loaded); '
                                   "using '5m'"]
    else:
        assert loaded.problems == [] and loaded.settings.keep_alive == ok


def tomllib_value(text: str):
    import tomllib

    return tomllib.loads(f"v = {text}")["v"]


def test_state_is_merged_kept_private_and_never_breaks(tmp_path, monkeypatch) -> None:
    from tui.core.config import read_state, remember

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    assert read_state() == {}
    remember(last_model="deepseek-r1:7b")
    remember(theme="r1-dark")
    path = tmp_path / "s" / "r1tui" / "state.json"
    assert read_state() == {"last_model": "deepseek-r1:7b", "theme": "r1-dark"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.write_text("[1, 2]")
    assert read_state() == {}  # not an object: ignored
    path.write_text("{broken")
    assert read_state() == {}
    (tmp_path / "blocker").write_text("a file where the state folder should be")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "blocker"))
    remember(last_model="x")  # cannot be written: ignored, no exception
    assert read_state() == {}
