"""The German catalogue is complete and in step with the code; the language is chosen as
documented (--lang, the config file, the locale); codes and statuses stay machine-readable."""

from __future__ import annotations

import gettext
import os
import string
import subprocess
import sys
from pathlib import Path

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
