"""The Simplified Chinese catalogue: complete, not fuzzy, compiled, and covering every string.

`make messages` extracts the strings and compiles the catalogue (docs/translations.md); these
tests fail when a string is new and untranslated, a translation is fuzzy or drops a
placeholder, or the committed .mo is older than the .po.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.core.management import call_command

import defectdesk

SRC = Path(defectdesk.__file__).resolve().parent
PO = SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w+\}")


def _entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every message of a .po file (the first form of plurals)."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    out = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
        text = message.string[0] if isinstance(message.string, tuple | list) else message.string
        out.append((str(msgid), str(text or ""), message.fuzzy))
    return out


def _problems(entries: list[tuple[str, str, bool]]) -> list[str]:
    problems = []
    for msgid, text, fuzzy in entries:
        if not text.strip():
            problems.append(f"untranslated: {msgid!r}")
        elif fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text)):
            problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
    return problems


def test_every_message_of_the_catalogue_is_translated_and_not_fuzzy() -> None:
    entries = _entries(PO)
    assert len(entries) > 800
    assert _problems(entries) == []


def test_a_fuzzy_or_empty_entry_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.po"
    bad.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Orders"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Appeals"\nmsgstr "申诉"\n\n'
        'msgid "Page %(n)s"\nmsgstr "第页"\n',
        encoding="utf-8",
    )
    assert _problems(_entries(bad)) == [
        "untranslated: 'Orders'",
        "fuzzy: 'Appeals'",
        "placeholders differ: 'Page %(n)s' -> '第页'",
    ]


def test_the_committed_mo_is_compiled_from_the_po() -> None:
    with MO.open("rb") as handle:
        compiled = {
            (m.id[0] if isinstance(m.id, tuple | list) else m.id): (
                m.string[0] if isinstance(m.string, tuple | list) else m.string
            )
            for m in read_mo(handle)
            if m.id
        }
    written = {msgid: text for msgid, text, _fuzzy in _entries(PO)}
    stale = sorted(k for k in written if compiled.get(k) != written[k])
    assert stale == [], "run `make messages` to compile the catalogue"


def test_every_string_in_the_source_is_in_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    """Extract the strings afresh (as `make messages` does) and find none untranslated."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext is needed to extract messages: apt-get install -y gettext")
    copy = tmp_path / "defectdesk"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "var", "*.mo"))
    monkeypatch.chdir(copy)
    settings.LOCALE_PATHS = [copy / "locale"]  # type: ignore[attr-defined]
    call_command(
        "makemessages",
        locale=["zh_Hans"],
        no_obsolete=True,
        add_location="file",
        verbosity=0,
    )
    fresh = _entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert len(fresh) == len(_entries(PO)), "run `make messages`: the catalogue is not current"
    assert _problems(fresh) == [], "new strings: run `make messages` and translate them"
