"""Simplified Chinese is the first language: every string a user reads has a translation."""

import gettext
import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries():
    text = CATALOGUE.read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:
        msgid = "".join(re.findall(r'^(?:msgid )?"(.*)"$', block.split("msgstr")[0], re.M))
        msgstr = "".join(re.findall(r'"(.*)"', block.split("msgstr", 1)[1])) if "msgstr" in block else ""
        yield block, msgid, msgstr


def test_every_string_has_a_chinese_translation():
    missing = [msgid for block, msgid, msgstr in entries() if msgid and not msgstr]
    assert missing == []


def test_no_translation_is_left_fuzzy():
    fuzzy = [msgid for block, msgid, msgstr in entries() if "#, fuzzy" in block]
    assert fuzzy == []


def test_the_compiled_catalogue_matches_its_source():
    # `make messages` compiles the .mo that Django reads; a .po edited without compiling shows here.
    with CATALOGUE.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [
        msgid
        for block, msgid, msgstr in entries()
        if msgid and "msgid_plural" not in block and compiled_text(catalogue, block, msgid) != unescape(msgstr)
    ]
    assert stale == []


def compiled_text(catalogue, block, msgid):
    context = re.search(r'^msgctxt "(.*)"$', block, re.M)
    if context:
        return catalogue.pgettext(context.group(1), unescape(msgid))
    return catalogue.gettext(unescape(msgid))


def unescape(text):
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
