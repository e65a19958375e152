"""The language rules (importer/core/i18n.py): which language, and texts, plurals, dates,
numbers and lengths of time as each language writes them.

The catalogue itself (every text translated, compiled, read by the standard library) and the
CLI's choice of language are tests/test_translations.py's.
"""

from __future__ import annotations

import contextvars
import gettext
import threading
from datetime import date, datetime, time, timedelta

import pytest

from importer.core import i18n


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANG": "de_AT.UTF-8"}, "de"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "de_CH.UTF-8"}, "de"),
        ({"LANG": "de_DE.UTF-8", "LANGUAGE": "en:de"}, "en"),
    ],
)
def test_the_locale_chooses_the_language(env: dict[str, str], expected: str) -> None:
    assert i18n.from_environment(env) == expected


@pytest.mark.parametrize(
    ("asked", "chosen"), [("de_DE", "de"), ("de-AT", "de"), ("EN_gb", "en"), (" de ", "de")]
)
def test_a_language_with_its_region_is_the_language(asked: str, chosen: str) -> None:
    """`--lang de_DE` (as a locale is written) is German, not refused."""
    assert i18n.choose(asked) == chosen
    with pytest.raises(ValueError, match="use one of: de, en"):
        i18n.choose("fr_FR")


def test_each_context_speaks_its_own_language_at_the_same_time() -> None:
    """The language is a context's, not the process's: two threads, two languages."""
    said: dict[str, str] = {}
    ready = threading.Barrier(2)

    def speak(lang: str) -> None:
        with i18n.use(lang):
            ready.wait(5)  # both inside their `use` at once
            said[lang] = i18n._("Result")

    threads = [threading.Thread(target=speak, args=(lang,)) for lang in ("de", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert said == {"de": "Ergebnis", "en": "Result"}


def test_the_locale_variables_are_read_in_posix_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """LANGUAGE, LC_ALL, LC_MESSAGES, LANG: the first that is set and not empty decides (its
    first entry, any case); without any, English; no argument: this process's environment."""
    assert i18n.from_environment({"LC_MESSAGES": "de_DE.UTF-8", "LANG": "en_US"}) == "de"
    assert i18n.from_environment({"LANGUAGE": "", "LANG": "de_DE.UTF-8"}) == "de"
    assert i18n.from_environment({"LC_ALL": "DE_de", "LANG": "en"}) == "de"
    assert i18n.from_environment({"LANGUAGE": "de:en", "LANG": "en"}) == "de"
    assert i18n.from_environment({"LC_MESSAGES": "en_GB", "LANG": "de_DE"}) == "en"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n.from_environment() == "de"


def test_a_context_without_a_choice_speaks_the_programs_language() -> None:
    """set_language sets the language of every context that chose none (None: the locale's);
    a context's own choice (use) wins over it, and is undone when its block ends."""
    bare = contextvars.Context()
    try:
        i18n.set_language("de_DE")
        assert bare.run(i18n.language) == "de"
        assert i18n.language() == "en"  # this test's own context chose English
        other = "en" if i18n._locale() == "de" else "de"
        with i18n.use(other):  # None is the locale's, not the language of the moment
            i18n.set_language(None)
        assert bare.run(i18n.language) == i18n._locale()
    finally:
        i18n.set_language(None)
    with i18n.use("de"):
        assert i18n.language() == "de" and i18n.choose(None) == "de" and i18n.choose(" ") == "de"
        with i18n.use("en"):
            assert i18n.language() == "en"
        assert i18n.language() == "de"
        with pytest.raises(KeyError), i18n.use("EN"):
            raise KeyError
        assert i18n.language() == "de"
    assert i18n.language() == "en"
    with pytest.raises(ValueError) as refused:
        i18n.choose("fr_FR")
    assert str(refused.value) == "unknown language 'fr_FR'; use one of: de, en"


def test_texts_plurals_and_contexts_in_both_languages() -> None:
    """gettext, ngettext and pgettext read the German catalogue; English is the code's own
    text; every() is a text in both languages; N_ and NP_ only mark."""
    assert isinstance(i18n.catalogue("en"), gettext.NullTranslations)
    assert i18n._("Result") == "Result"
    assert i18n.ngettext("{n} day", "{n} days", 2) == "{n} days"
    with i18n.use("de"):
        assert i18n._("Result") == "Ergebnis"
        assert i18n.ngettext("{n} day", "{n} days", 1) == "{n} Tag"
        assert i18n.ngettext("{n} day", "{n} days", 2) == "{n} Tage"
        assert i18n.pgettext("status", "created") == "angelegt"
    assert i18n.pgettext("status", "created") == "created"
    assert i18n.every("created", "status") == {"created", "angelegt"}
    assert i18n.every("Result") == {"Result", "Ergebnis"}
    assert i18n.N_("Result") == "Result" and i18n.NP_("status", "created") == "created"


def test_dates_and_numbers_as_each_language_writes_them() -> None:
    """Dates as German offices write them in both languages; decimal and thousands separators
    by language."""
    assert i18n.when(datetime(2027, 3, 5, 9, 15, 30)) == "05.03.2027 09:15"
    assert i18n.when(date(2027, 3, 5)) == "05.03.2027"
    assert i18n.decimal(6.66) == "6.7" and i18n.decimal(6.666, 2) == "6.67"
    assert i18n.number(1234567) == "1,234,567"
    with i18n.use("de"):
        assert i18n.decimal(6.66) == "6,7" and i18n.decimal(1234.5, 0) == "1234"
        assert i18n.number(1234567) == "1.234.567"


def test_lengths_of_time_in_words_with_their_plurals() -> None:
    """A duration in days, hours and minutes (only the parts that are not zero, minutes when
    nothing else); a reminder lead in words; how long something took."""
    assert i18n.duration(timedelta(0)) == "0 minutes"
    assert i18n.duration(timedelta(seconds=119)) == "1 minute"
    assert i18n.duration(timedelta(minutes=61)) == "1 hour 1 minute"
    assert i18n.duration(timedelta(days=1)) == "1 day"
    assert i18n.duration(timedelta(days=3, hours=2)) == "3 days 2 hours"
    assert i18n.duration(timedelta(days=2, minutes=5)) == "2 days 5 minutes"
    assert i18n.duration(timedelta(hours=25)) == "1 day 1 hour"
    for lead, words in [
        ("1 hours", "1 hour"),
        ("12 hours", "12 hours"),
        ("15 minutes", "15 minutes"),
        ("1 minutes", "1 minute"),
        ("2 days", "2 days"),
        ("1 days", "1 day"),
        ("1 weeks", "1 week"),
        ("3 weeks", "3 weeks"),
        ("5 years", "5 years"),
        ("soon", "soon"),
        ("x hours", "x hours"),
    ]:
        assert i18n.reminder(lead) == words, lead
    assert i18n.took(0.99) == "under a second"
    assert i18n.took(1) == "1 second" and i18n.took(42.4) == "42 seconds"
    assert i18n.took(120) == "2 minutes" and i18n.took(185) == "3 minutes 5 seconds"
    assert i18n.took(61) == "1 minute 1 second"
    assert i18n.took(1234 * 60) == "1,234 minutes"
    with i18n.use("de"):
        assert i18n.duration(timedelta(days=3, hours=1)) == "3 Tage 1 Stunde"
        assert i18n.reminder("1 weeks") == "1 Woche"
        assert i18n.took(0.5) == "unter einer Sekunde"
        assert i18n.took(185) == "3 Minuten 5 Sekunden"


def test_a_cell_as_the_user_typed_it() -> None:
    """Empty for nothing; dates as 05.03.2027 (with the time only when there is one), times as
    09:15, whole numbers without .0; anything else as its text."""
    assert i18n.as_typed(None) == "" and i18n.as_typed(float("nan")) == ""
    assert i18n.as_typed(datetime(2027, 3, 5, 9, 15)) == "05.03.2027 09:15"
    assert i18n.as_typed(datetime(2027, 3, 5)) == "05.03.2027"
    assert i18n.as_typed(date(2027, 3, 5)) == "05.03.2027"
    assert i18n.as_typed(time(9, 15)) == "09:15"
    assert i18n.as_typed(1001.0) == "1001" and i18n.as_typed(1.5) == "1.5"
    assert i18n.as_typed(7) == "7" and i18n.as_typed("AC-1042") == "AC-1042"
