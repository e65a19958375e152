"""Where the API URL and credentials come from: the environment, or an owner-only config file.

Never from a command-line argument (visible to every user of the machine in the process list).
The config file is INI::

    [onoffice]
    url = https://api.onoffice.de/api/stable/api.php
    token = ...
    secret = ...
    lang = de
    proxy = http://proxy.example:3128

``lang`` (de or en) is optional; without it the system's language is used. ``proxy`` is
optional too: without it the environment's (``HTTPS_PROXY``, ``NO_PROXY`` …) is used; ``none``
goes direct whatever the environment says.

It is refused when others can read it (POSIX mode bits beyond 0600; Windows has none of them:
there the file lies in the user's own profile, which other users cannot read). Saved with a
byte order mark (Notepad's "UTF-8 with BOM", PowerShell 5's ``Set-Content -Encoding UTF8``) it
reads the same.
"""

from __future__ import annotations

import configparser
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import ConfigurationError
from ..core.i18n import _

if TYPE_CHECKING:  # the CLI reads `lang` from here before anything heavy is imported
    from .client import Credentials

DEFAULT_CONFIG = Path("~/.config/onoffice-import/config.ini")


# A BOM at the start is read as nothing, not as part of the first section's name.
ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class ApiSettings:
    url: str
    credentials: Credentials
    proxy: str | None = None  # the config file's `proxy`; None: the environment's


def api_settings(env: Mapping[str, str], config: Path | None = None) -> ApiSettings:
    """ONOFFICE_TOKEN/ONOFFICE_SECRET/ONOFFICE_API_URL first, then the config file."""
    from ..core import contract
    from .client import Credentials

    token, secret = env.get("ONOFFICE_TOKEN", ""), env.get("ONOFFICE_SECRET", "")
    url = env.get("ONOFFICE_API_URL", "")
    path = Path(config or env.get("ONOFFICE_CONFIG") or DEFAULT_CONFIG).expanduser()
    if not (token and secret) and (config is not None or path.exists()):
        file_values = _read_config(path)
        token = token or file_values.get("token", "")
        secret = secret or file_values.get("secret", "")
        url = url or file_values.get("url", "")
    if not token or not secret:
        raise ConfigurationError(
            _(
                "no API credentials: set ONOFFICE_TOKEN and ONOFFICE_SECRET (and "
                "ONOFFICE_API_URL for a sandbox), or put them in {config} (mode 600); or add "
                "--sandbox to try against the built-in sandbox"
            ).format(config=DEFAULT_CONFIG)
        )
    return ApiSettings(
        url or contract.STABLE_URL, Credentials(token, secret), configured_proxy(env, config)
    )


def _read_config(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(
            _("config file {path} not found").format(path=path), path=path
        ) from None
    # Windows answers 0o666 for every file (its ACLs are no modes): the check means nothing there
    if sys.platform != "win32" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            _("config file {path} can be read by other users; run: chmod 600 {path}").format(
                path=path
            ),
            path=path,
        )
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding=ENCODING)
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        raise ConfigurationError(
            _("config file {path} cannot be read ({why})").format(
                path=path, why=type(exc).__name__
            ),
            path=path,
        ) from None
    if not parser.has_section("onoffice"):
        raise ConfigurationError(
            _("config file {path} has no [onoffice] section").format(path=path), path=path
        )
    return dict(parser["onoffice"])


def configured_language(env: Mapping[str, str], config: Path | None = None) -> str | None:
    """The config file's ``[onoffice] lang`` (de or en), if there is one; never an error (the
    language is needed to say errors in, and a broken file is reported where it is used)."""
    return _setting(env, config, "lang")


def configured_proxy(env: Mapping[str, str], config: Path | None = None) -> str | None:
    """The config file's ``[onoffice] proxy`` (a URL, or ``none``), if there is one; read also
    when the credentials come from the environment."""
    return _setting(env, config, "proxy")


def _setting(env: Mapping[str, str], config: Path | None, key: str) -> str | None:
    path = Path(config or env.get("ONOFFICE_CONFIG") or DEFAULT_CONFIG).expanduser()
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding=ENCODING)
    except (configparser.Error, UnicodeDecodeError, OSError):
        return None
    value = parser.get("onoffice", key, fallback=None)
    return None if value is None else value.split("#")[0].strip() or None


def config_path(env: Mapping[str, str], config: Path | None = None) -> Path:
    """The config file in use: ``--config``, else ``ONOFFICE_CONFIG``, else the default."""
    return Path(config or env.get("ONOFFICE_CONFIG") or DEFAULT_CONFIG).expanduser()


def save_credentials(path: Path, url: str, token: str, secret: str) -> None:
    """Write url, token and secret into ``path`` (``[onoffice]``), readable by its owner only.

    Other settings in the file (``lang``) are kept. The file is created with mode 600 before
    anything is written into it, and replaced in one step, so no other user can ever read it.
    """
    parser = configparser.ConfigParser(interpolation=None)
    if path.exists():
        parser.read_dict({"onoffice": _read_config(path)})
    if not parser.has_section("onoffice"):
        parser.add_section("onoffice")
    for key, value in (("url", url), ("token", token), ("secret", secret)):
        if value:
            parser.set("onoffice", key, value)
        elif key == "url":
            parser.remove_option("onoffice", key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        parser.write(f)
    os.replace(temporary, path)
