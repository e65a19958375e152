"""Where the API URL and credentials come from (importer/onoffice/config.py), tested directly
on real config files: the environment before the file, the file refused when others can read
it or when it cannot be read (each message naming the file, exit code 3), ``lang`` and
``proxy`` read leniently, and the file written owner-only in one step."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from importer.core import contract
from importer.core.errors import ConfigurationError, ExitCode
from importer.onoffice.config import (
    DEFAULT_CONFIG,
    api_settings,
    config_path,
    configured_language,
    configured_proxy,
    save_credentials,
)

URL = "http://127.0.0.1:8080/api.php"


def _config(folder: Path, text: str, mode: int = 0o600, name: str = "config.ini") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def _refused(env: dict[str, str], config: Path | None = None) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        api_settings(env, config)
    assert caught.value.exit_code == ExitCode.CONFIGURATION == 3
    return caught.value


FULL = f"[onoffice]\nurl = {URL}\ntoken = file-token\nsecret = file-secret\n"


def test_the_environment_comes_before_the_file(tmp_path: Path) -> None:
    """Token and secret both in the environment: the file is not even read (a file others can
    read is no error then); its url fills a missing ONOFFICE_API_URL only when it is read."""
    path = _config(tmp_path, FULL, mode=0o644)
    env = {"ONOFFICE_TOKEN": "env-token", "ONOFFICE_SECRET": "env-secret"}
    settings = api_settings(env, path)
    assert (settings.credentials.token, settings.credentials.secret) == ("env-token", "env-secret")
    assert settings.url == contract.STABLE_URL  # the file was not read: the stable API
    settings = api_settings({**env, "ONOFFICE_API_URL": "http://env/api.php"}, path)
    assert settings.url == "http://env/api.php"


def test_the_file_fills_what_the_environment_lacks(tmp_path: Path) -> None:
    path = _config(tmp_path, FULL)
    settings = api_settings({}, path)
    assert (settings.credentials.token, settings.credentials.secret) == (
        "file-token",
        "file-secret",
    )
    assert settings.url == URL and settings.proxy is None
    # only the token in the environment: it wins, the file gives the secret
    settings = api_settings({"ONOFFICE_TOKEN": "env-token"}, path)
    assert (settings.credentials.token, settings.credentials.secret) == (
        "env-token",
        "file-secret",
    )
    settings = api_settings({"ONOFFICE_SECRET": "env-secret", "ONOFFICE_API_URL": "u"}, path)
    assert (settings.credentials.token, settings.credentials.secret, settings.url) == (
        "file-token",
        "env-secret",
        "u",
    )
    # without a url anywhere: the stable API
    settings = api_settings({}, _config(tmp_path, "[onoffice]\ntoken = t\nsecret = s\n"))
    assert settings.url == contract.STABLE_URL
    assert "file-token" not in repr(settings) and "file-secret" not in repr(settings)


def test_onoffice_config_names_the_file_and_config_path_says_which(tmp_path: Path) -> None:
    path = _config(tmp_path, FULL)
    other = _config(tmp_path, FULL.replace("file-token", "other"), name="other.ini")
    env = {"ONOFFICE_CONFIG": str(path)}
    assert api_settings(env).credentials.token == "file-token"
    assert api_settings(env, other).credentials.token == "other"  # --config first
    assert config_path(env) == path
    assert config_path(env, other) == other
    assert config_path({}) == DEFAULT_CONFIG.expanduser()
    assert str(config_path({})).startswith(os.environ["HOME"])  # ~ expanded
    assert config_path({"ONOFFICE_CONFIG": "~/x.ini"}) == Path.home() / "x.ini"


def test_the_default_file_is_read_when_it_exists() -> None:
    default = DEFAULT_CONFIG.expanduser()
    default.parent.mkdir(parents=True)
    _config(default.parent, FULL, name=default.name)
    assert api_settings({}).credentials.token == "file-token"


def test_without_credentials_the_message_says_where_to_put_them(tmp_path: Path) -> None:
    """No file anywhere (the default one missing is no error of its own), or a file without
    the secret, or only a token in the environment."""
    for env, config in (
        ({}, None),
        ({"ONOFFICE_TOKEN": "t"}, None),
        ({"ONOFFICE_SECRET": "s"}, None),
        ({}, _config(tmp_path, "[onoffice]\ntoken = t\n", name="token.ini")),
        ({}, _config(tmp_path, "[onoffice]\nsecret = s\n", name="secret.ini")),
    ):
        assert str(_refused(env, config)) == (
            "no API credentials: set ONOFFICE_TOKEN and ONOFFICE_SECRET (and ONOFFICE_API_URL "
            f"for a sandbox), or put them in {DEFAULT_CONFIG} (mode 600); or add --sandbox to "
            "try against the built-in sandbox"
        )


def test_a_config_named_but_missing_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.ini"
    for env, config in (({}, missing), ({"ONOFFICE_TOKEN": "t"}, missing)):
        error = _refused(env, config)
        assert str(error) == f"config file {missing} not found"
        assert error.path == str(missing)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o610, 0o601, 0o620, 0o602, 0o666])
def test_a_file_others_can_use_is_refused(tmp_path: Path, mode: int) -> None:
    """Any bit for group or others (read, write or execute) refuses the file."""
    path = _config(tmp_path, FULL, mode=mode)
    error = _refused({}, path)
    assert str(error) == (f"config file {path} can be read by other users; run: chmod 600 {path}")
    assert error.path == str(path)


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_file_only_its_owner_can_use_is_read(tmp_path: Path, mode: int) -> None:
    path = _config(tmp_path, FULL, mode=mode)
    assert api_settings({}, path).credentials.secret == "file-secret"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"token = t\n", "MissingSectionHeaderError"),
        (b"[onoffice]\ntoken = t\ntoken = u\n", "DuplicateOptionError"),
        (b"[onoffice]\ntoken = \xff\xfe\n", "UnicodeDecodeError"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "config.ini"
    path.write_bytes(content)
    path.chmod(0o600)
    error = _refused({}, path)
    assert str(error) == f"config file {path} cannot be read ({why})"
    assert error.path == str(path)


def test_a_file_without_the_section_is_refused(tmp_path: Path) -> None:
    path = _config(tmp_path, "[other]\ntoken = t\nsecret = s\n")
    error = _refused({}, path)
    assert str(error) == f"config file {path} has no [onoffice] section"
    assert error.path == str(path)


def test_a_byte_order_mark_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "config.ini"
    path.write_bytes(b"\xef\xbb\xbf" + FULL.encode() + b"lang = de\nproxy = none\n")
    path.chmod(0o600)
    assert api_settings({}, path).credentials.token == "file-token"
    assert configured_language({}, path) == "de"
    assert configured_proxy({}, path) == "none"


def test_lang_and_proxy_are_read_leniently(tmp_path: Path) -> None:
    """A comment after the value and spaces are dropped; an empty value is none; a broken,
    missing or open-to-all file is no error here (reported where the credentials are read)."""
    path = _config(tmp_path, "[onoffice]\nlang = en   # English\nproxy = http://p:3128\n")
    assert configured_language({}, path) == "en"
    assert configured_language({"ONOFFICE_CONFIG": str(path)}) == "en"
    assert configured_proxy({}, path) == "http://p:3128"
    for text in ("[onoffice]\nlang =\nproxy = # none set\n", "[other]\nlang = de\n"):
        path = _config(tmp_path, text)
        assert configured_language({}, path) is None
        assert configured_proxy({}, path) is None
    broken = tmp_path / "broken.ini"
    for content in (b"lang = de\n", b"[onoffice]\nlang = \xff\n", b"[onoffice]\nlang=a\nlang=b\n"):
        broken.write_bytes(content)
        assert configured_language({}, broken) is None
    assert configured_language({}, tmp_path / "missing.ini") is None
    assert configured_language({}) is None  # no default file
    assert configured_language({}, _config(tmp_path, "[onoffice]\nlang=de\n", 0o644)) == "de"


def test_the_proxy_is_read_also_with_credentials_from_the_environment(tmp_path: Path) -> None:
    path = _config(tmp_path, "[onoffice]\nproxy = http://proxy:3128\n")
    env = {"ONOFFICE_TOKEN": "t", "ONOFFICE_SECRET": "s", "ONOFFICE_CONFIG": str(path)}
    assert api_settings(env).proxy == "http://proxy:3128"
    assert api_settings({"ONOFFICE_TOKEN": "t", "ONOFFICE_SECRET": "s"}, path).proxy == (
        "http://proxy:3128"
    )
    full = _config(tmp_path, FULL + "proxy = none\n", name="full.ini")
    assert api_settings({}, full).proxy == "none"


def test_save_credentials_writes_an_owner_only_file(tmp_path: Path) -> None:
    """A new file in a new folder: the folder 700, the file 600, no temporary left behind;
    read back as written."""
    path = tmp_path / "new" / "deeper" / "config.ini"
    save_credentials(path, URL, "tok", "sec")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.ini"]
    settings = api_settings({}, path)
    assert (settings.url, settings.credentials.token, settings.credentials.secret) == (
        URL,
        "tok",
        "sec",
    )


def test_save_credentials_keeps_other_settings_and_drops_an_empty_url(tmp_path: Path) -> None:
    """``lang`` and ``proxy`` stay; an empty url removes the file's (the stable API again); an
    empty token or secret keeps the file's; a temporary left by a crash is replaced."""
    path = _config(tmp_path, FULL + "lang = de\nproxy = none\n")
    (tmp_path / ".config.ini.tmp").write_text("left by a crash")
    save_credentials(path, "", "new-token", "")
    settings = api_settings({}, path)
    assert settings.url == contract.STABLE_URL
    assert (settings.credentials.token, settings.credentials.secret) == (
        "new-token",
        "file-secret",
    )
    assert configured_language({}, path) == "de" and configured_proxy({}, path) == "none"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (tmp_path / ".config.ini.tmp").exists()
    save_credentials(path, "http://ümlaut.example/api.php", "", "s2")
    assert api_settings({}, path).url == "http://ümlaut.example/api.php"
    assert api_settings({}, path).credentials.token == "new-token"


def test_save_credentials_refuses_a_file_it_could_not_keep(tmp_path: Path) -> None:
    """An existing file without the section, or one others can read, is refused before
    anything is written (not silently made private with the secret in it, nor its other
    sections dropped); the refused file is left as it was."""
    for text, mode, why in (
        ("", 0o600, "has no [onoffice] section"),
        ("[other]\nx = 1\n", 0o600, "has no [onoffice] section"),
        (FULL, 0o644, "can be read by other users"),
    ):
        path = _config(tmp_path, text, mode=mode)
        with pytest.raises(ConfigurationError, match=re.escape(f"{path} {why}")):
            save_credentials(path, URL, "t", "s")
        assert path.read_text() == text and stat.S_IMODE(path.stat().st_mode) == mode
