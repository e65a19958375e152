"""The user's language: German or English for every text a person reads.

Standard gettext: the texts are written in English in the code, marked with :func:`_`,
:func:`ngettext` (plurals) or :func:`N_` (marked now, translated where shown), extracted and
compiled with Babel (``python -m importer.locale.catalogue update|compile``), and the
compiled catalogue ships in the package, read by the standard library at run time. Stable codes
(``end-before-start``) and the statuses' machine values are never translated.

The language is chosen by ``--lang``, then the config file's ``[onoffice] lang``, then the
locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``de_*`` gives German, read once
per process; where none is set, as on Windows, the Windows display language); the default is
English. :func:`use` sets it for a block and restores it
afterwards. The choice is a context variable, so each web request (and each browser's jobs)
speaks its own language while another thread speaks another; threads a run starts are given
their starter's context (``contextvars.copy_context``), so a run's worker threads speak it too.
"""

from __future__ import annotations

import functools
import gettext
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final

LANGUAGES: Final = ("de", "en")
DOMAIN: Final = "onoffice_import"
LOCALE_DIR: Final = Path(__file__).parent.parent / "locale"

_chosen: ContextVar[str | None] = ContextVar("onoffice_import_language", default=None)
_default: str | None = None  # set_language(): for every context that chose none


def from_environment(
    env: Mapping[str, str] | None = None, system: Callable[[], int | None] | None = None
) -> str:
    """``de`` when the locale is German, else ``en`` (POSIX order of the variables); without
    any of them, the system's display language (``system``: Windows' LANGID, or None)."""
    env = os.environ if env is None else env
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            first = value.split(":")[0].lower()
            return "de" if first.startswith("de") else "en"
    langid = (system or windows_ui_language)()
    # the primary language is the LANGID's low 10 bits: LANG_GERMAN (0x07) for de-DE (0x0407),
    # de-AT (0x0C07), de-CH (0x0807) …
    return "de" if langid is not None and langid & 0x3FF == 0x07 else "en"


def windows_ui_language() -> int | None:
    """The Windows user's display language (a LANGID), None elsewhere. Windows sets none of
    the locale variables: a German Windows is known by this alone."""
    if sys.platform != "win32":
        return None
    import ctypes

    return int(ctypes.windll.kernel32.GetUserDefaultUILanguage())


def language() -> str:
    return _chosen.get() or _default or _locale()


@functools.cache
def _locale() -> str:
    """The process's locale, read once (as a program reads its locale at start; texts are
    looked up for every row, and the environment is slow to read)."""
    return from_environment()


def choose(requested: str | None) -> str:
    """A language from ``--lang`` or a config value; ``ValueError`` names the accepted ones."""
    if requested is None or not requested.strip():
        return language()
    code = requested.strip().lower().replace("-", "_").split("_")[0]
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {requested!r}; use one of: {', '.join(LANGUAGES)}")
    return code


@contextmanager
def use(lang: str) -> Iterator[None]:
    """Speak ``lang`` inside the block, in this context only (restored afterwards)."""
    token = _chosen.set(choose(lang))
    try:
        yield
    finally:
        _chosen.reset(token)


def set_language(lang: str | None) -> None:
    """The language of every context that chose none with :func:`use` (None: the locale's)."""
    global _default
    _default = None if lang is None else choose(lang)


@functools.cache
def catalogue(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()  # the texts are written in English
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def _(message: str) -> str:
    return catalogue(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a text for translation where it is defined; :func:`_` translates it where shown."""
    return message


def when(moment: datetime | date) -> str:
    """A date or time as people in German offices write it: 05.03.2027 09:15."""
    if isinstance(moment, datetime):
        return moment.strftime("%d.%m.%Y %H:%M")
    return moment.strftime("%d.%m.%Y")


def decimal(value: float, digits: int = 1) -> str:
    """6,7 in German, 6.7 in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language() == "de" else text


def number(value: int) -> str:
    """1.234 in German, 1,234 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if language() == "de" else text


def pgettext(context: str, message: str) -> str:
    return catalogue(language()).pgettext(context, message)


def every(message: str, context: str | None = None) -> frozenset[str]:
    """``message`` in every language: what a reader of our own workbooks must recognise."""
    return frozenset(
        catalogue(lang).pgettext(context, message) if context else catalogue(lang).gettext(message)
        for lang in LANGUAGES
    )


def NP_(context: str, message: str) -> str:
    """:func:`N_` with a context: the same English word may need two German ones."""
    return message


def duration(length: timedelta) -> str:
    """A length of time in words, with the right plural: "1 Stunde", "3 Tage 2 Stunden"."""
    minutes = int(length.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("{n} day", "{n} days", days).format(n=days))
    if hours:
        parts.append(ngettext("{n} hour", "{n} hours", hours).format(n=hours))
    if minutes or not parts:
        parts.append(ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes))
    return " ".join(parts)


def reminder(value: str) -> str:
    """An onOffice reminder lead ("1 hours", the API's value) in words: "1 hour", "1 Stunde"."""
    amount, _sep, unit = value.partition(" ")
    if not amount.isdecimal():
        return value
    n = int(amount)
    words = {
        "minutes": ngettext("{n} minute", "{n} minutes", n),
        "hours": ngettext("{n} hour", "{n} hours", n),
        "days": ngettext("{n} day", "{n} days", n),
        "weeks": ngettext("{n} week", "{n} weeks", n),
    }
    return words[unit].format(n=n) if unit in words else value


def took(seconds: float) -> str:
    """How long something took, as a person says it: "under a second", "42 seconds",
    "3 minutes 5 seconds"."""
    if seconds < 1:
        return _("under a second")
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return ngettext("{n} second", "{n} seconds", rest).format(n=rest)
    text = ngettext("{n} minute", "{n} minutes", minutes).format(n=number(minutes))
    if rest:
        text += " " + ngettext("{n} second", "{n} seconds", rest).format(n=rest)
    return text


def as_typed(value: object) -> str:
    """A cell as the user typed it: dates as 05.03.2027, times as 09:15, 1001 not 1001.0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return when(value) if value.time() != time() else when(value.date())
    if isinstance(value, date):
        return when(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
