"""Translations of the reports: gettext catalogues compiled in memory at render time.

The catalogues are ``reports/locale/<lang>/LC_MESSAGES/messages.po`` (the only translation files
in the repository). They are compiled to MO in memory when first used, so no ``.mo`` file is ever
built, committed or out of date. English is the source language and needs no catalogue.

Update after changing page or component texts::

    .venv/bin/pybabel extract -F reports/babel.cfg -k N_ -o reports/locale/messages.pot .
    .venv/bin/pybabel update -i reports/locale/messages.pot -d reports/locale
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = ["LANGUAGES", "LOCALE_DIR", "language_name", "translations"]

LANGUAGES: tuple[str, ...] = ("en", "es", "et", "it", "nl")
LOCALE_DIR = Path(__file__).parent / "locale"
_NAMES = {"en": "English", "es": "Español", "et": "Eesti", "it": "Italiano", "nl": "Nederlands"}


def language_name(lang: str) -> str:
    """The language's own name, for links between translations."""
    return _NAMES.get(lang, lang)


@lru_cache(maxsize=16)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English and unknown languages: the source texts)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)
