"""The German catalogue is complete and in step with the code; the language is chosen as
documented (--lang, the config file, the locale); codes and statuses stay machine-readable."""

from __future__ import annotations

import contextvars
import gettext
import os
import string
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from importer.core import i18n
from importer.core.excel import OUTCOME_FILLS, status_value, status_word
from importer.core.problems import CODES
from importer.locale.catalogue import extracted, po_path, read
from importer.run.runner import STATUSES

from . import forkserver


def fields(text: str) -> set[str]:
    """The placeholders of a brace-format text ({row}, {rate:.1f} -> row, rate)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def entries() -> list[tuple[str | None, object, object]]:
    return [(m.context, m.id, m.string) for m in read("de") if m.id]


def test_every_text_of_the_code_is_in_the_catalogue_and_nothing_else() -> None:
    """`python -m importer.locale.catalogue update` was run after the last change of a text."""
    in_code = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in extracted() if m.id}
    in_po = {(c, i if isinstance(i, str) else i[0]) for c, i, _ in entries()}  # type: ignore[index]
    assert in_code - in_po == set(), "texts without a German entry"
    assert in_po - in_code == set(), "German entries for texts the code no longer has"
    assert len(in_code) > 300


def test_every_text_is_translated_with_the_same_placeholders() -> None:
    untranslated, mismatched = [], []
    for message in read("de"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy or not all(strings) or len(strings) != len(ids):
            untranslated.append(ids[0])
            continue
        plural = ids[-1]
        for text in strings:
            if fields(text) != fields(plural) and fields(text) != fields(ids[0]):
                mismatched.append((ids[0], text))
    assert untranslated == []
    assert mismatched == []


def test_the_compiled_catalogue_is_the_one_the_translators_edited() -> None:
    """The .mo the program reads says what the .po says (compile after translating)."""
    with po_path("de").with_suffix(".mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for message in read("de"):
        if not message.id:
            continue
        if isinstance(message.id, str):
            got = (
                compiled.pgettext(message.context, message.id)
                if message.context
                else compiled.gettext(message.id)
            )
            if got != message.string:
                stale.append(message.id)
        else:
            forms = [compiled.ngettext(message.id[0], message.id[1], n) for n in (1, 2)]
            if forms != list(message.string):
                stale.append(message.id[0])
    assert stale == []


def test_a_break_in_the_catalogue_is_caught() -> None:
    """The placeholder check fails for a translation that drops or renames a placeholder."""
    assert fields("Zeile {row}: {problem}") == fields("row {row}: {problem}")
    assert fields("Zeile {zeile}") != fields("row {row}")
    assert fields("{rate:.1f}/s") == {"rate"}


def test_every_code_and_status_has_words_in_both_languages() -> None:
    assert set(STATUSES) <= set(OUTCOME_FILLS)
    with i18n.use("de"):
        german = {status: status_word(status) for status in OUTCOME_FILLS}
        explained = {code: i18n._(text) for code, text in CODES.items()}
    assert german["created"] == "angelegt" and german["invalid"] == "ungültig"
    assert all(german[s] != s for s in OUTCOME_FILLS)  # every one translated
    assert sum(explained[c] != CODES[c] for c in CODES) == len(CODES)
    # our own workbooks come back in either language: the status is read back as the code
    assert all(status_value(word) == status for status, word in german.items())
    assert all(status_value(status) == status for status in OUTCOME_FILLS)


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


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LANGUAGE")}
    clean.update(env)
    return forkserver.run(args, env=clean, cwd=cwd, timeout=60)


def test_lang_option_config_file_and_locale_pick_the_language(tmp_path: Path) -> None:
    """German from the locale, English from --lang, German from the config file; a broken
    CSV is refused in the chosen language, with its code unchanged."""
    bad = tmp_path / "leer.csv"
    bad.write_text("", encoding="utf-8")
    mapping = Path(__file__).parent.parent / "mappings" / "termine.yaml"
    home = {"HOME": str(tmp_path), "ONOFFICE_CONFIG": str(tmp_path / "none.ini")}
    german = run_cli(
        ["check", str(bad), "-m", str(mapping)], {**home, "LANG": "de_DE.UTF-8"}, tmp_path
    )
    english = run_cli(
        ["--lang", "en", "check", str(bad), "-m", str(mapping)],
        {**home, "LANG": "de_DE.UTF-8"},
        tmp_path,
    )
    config = tmp_path / "config.ini"
    config.write_text("[onoffice]\nlang = de\n", encoding="utf-8")
    configured = run_cli(
        ["check", str(bad), "-m", str(mapping)],
        {**home, "LANG": "C.UTF-8", "ONOFFICE_CONFIG": str(config)},
        tmp_path,
    )
    assert german.returncode == english.returncode == configured.returncode == 2
    assert german.stderr.startswith("Fehler: ") and english.stderr.startswith("Error: ")
    assert configured.stderr.startswith("Fehler: ")
    refused = run_cli(["--lang", "fr", "check", str(bad), "-m", str(mapping)], home, tmp_path)
    assert refused.returncode == 2 and "'fr' is not one of 'de', 'en'" in refused.stderr


def test_python_gettext_is_what_reads_the_catalogue() -> None:
    """No Babel at run time: the installed program reads the .mo with the standard library."""
    probe = "import sys, importer.core.i18n as i; i.catalogue('de'); print('babel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("asked", "chosen"), [("de_DE", "de"), ("de-AT", "de"), ("EN_gb", "en"), (" de ", "de")]
)
def test_a_language_with_its_region_is_the_language(asked: str, chosen: str) -> None:
    """`--lang de_DE` (as a locale is written) is German, not refused."""
    from importer.core import i18n

    assert i18n.choose(asked) == chosen
    with pytest.raises(ValueError, match="use one of: de, en"):
        i18n.choose("fr_FR")


def test_each_context_speaks_its_own_language_at_the_same_time() -> None:
    """The language is a context's, not the process's: two threads, two languages."""
    import threading

    from importer.core import i18n

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
