"""Keep the German catalogue in step with the code (Babel: the standard gettext tooling).

    python -m importer.locale.catalogue update    # texts changed: extract, merge into the .po
    python -m importer.locale.catalogue compile   # translated: compile the .po into the .mo

The .po file is where translators work; the .mo file is what the program reads (committed, so
an install needs no Babel). ``tests/test_translations.py`` fails when a text has no
translation, when placeholders differ, or when the .mo is older than the .po.
Babel is a test dependency only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from ..core.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = LOCALE_DIR.parent
KEYWORDS: dict[str, Any] = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "NP_": ((1, "c"), 2),
    "_more": (2, 3),  # cli._more(count, singular, plural): a plural of its own
}
# The sandbox answers as onOffice does (its texts are the server's), and this tool has none.
METHODS = [
    ("sandbox/**.py", "ignore"),
    ("locale/**.py", "ignore"),
    ("**.py", "python"),
    ("web/templates/**.html", "jinja2.ext:babel_extract"),  # the web app's pages
]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extracted() -> Catalog:
    """Every text the code marks for translation."""
    template = Catalog(project="onoffice-import", domain=DOMAIN)
    for filename, line, message, comments, context in extract_from_dir(
        str(PACKAGE), METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        template.add(
            message,
            None,
            [(f"importer/{filename}", line)],
            auto_comments=comments,
            context=context,
        )
    return template


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def update() -> None:
    template = extracted()
    for lang in LANGUAGES:
        if lang == "en":
            continue
        path = po_path(lang)
        if path.exists():
            catalog = read(lang)
            catalog.update(template, no_fuzzy_matching=True)
        else:
            catalog = Catalog(locale=lang, domain=DOMAIN, project="onoffice-import")
            catalog.update(template)
        catalog.fuzzy = False  # the header is ours, not a guess
        catalog.version = "1"
        catalog.copyright_holder = "the onoffice-import authors"
        catalog.msgid_bugs_address = ""
        catalog.last_translator = "onoffice-import team"
        catalog.language_team = "German"
        with path.open("wb") as f:
            write_po(f, catalog, width=100, ignore_obsolete=True, include_lineno=False)


def compile_all() -> None:
    for lang in LANGUAGES:
        if lang == "en":
            continue
        with po_path(lang).with_suffix(".mo").open("wb") as f:
            write_mo(f, read(lang))


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    else:
        sys.exit(__doc__)
