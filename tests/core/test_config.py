"""Settings: defaults from DeepSeek's model card, bad values named with what is allowed."""

from __future__ import annotations

import os
import stat

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
    ("chat", "num_ctx", "true"),
])
def test_just_outside_a_range_is_refused(tmp_path, table: str, key: str, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[{table}]\n{key} = {value}\n")
    loaded = load_settings(path)
    assert len(loaded.problems) == 1 and f"`{table}.{key}` = " in loaded.problems[0]
    assert loaded.settings == Settings()
