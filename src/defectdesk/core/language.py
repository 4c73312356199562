"""The interface language: which one a request, a user or a marketplace gets, and formatting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import get_language, gettext_lazy, trans_real

# Where the language of a request came from; "default" lets the page in view replace it with
# the default language of the marketplace it shows.
SOURCE_USER = "user"
SOURCE_COOKIE = "cookie"
SOURCE_BROWSER = "browser"
SOURCE_DEFAULT = "default"


def deferred(render: Callable[..., str], *args: Any) -> Promise:
    """A text written when it is read, in the language active then (one per recipient)."""
    return lazy(render, str)(*args)  # type: ignore[return-value]


def in_sentence(label: object) -> str:
    """A label as written inside a sentence: lower case in English ("Negative feedback" ->
    "negative feedback"), unchanged where case means nothing or would spoil a name
    ("A-to-z 索赔")."""
    text = str(label)
    return text.lower() if (get_language() or "en").startswith("en") else text


def language_codes() -> list[str]:
    """The codes of the interface languages (settings.LANGUAGES), English first."""
    return [code for code, _name in settings.LANGUAGES]


def language_supported(code: object) -> str:
    """The code of settings.LANGUAGES that `code` names exactly (any case), or ""."""
    if not isinstance(code, str):
        return ""
    wanted = code.strip().lower()
    return next((c for c in language_codes() if c == wanted), "")


def language_from_header(header: str) -> str:
    """The first language of an Accept-Language header that we have, or "" (none, malformed)."""
    try:
        parsed = trans_real.parse_accept_lang_header(header[:500])
    except (ValueError, TypeError):  # pragma: no cover - Django returns () for malformed input
        return ""
    for lang, _quality in parsed:
        if lang == "*":
            continue
        try:
            return translation.get_supported_language_variant(lang)
        except LookupError:
            continue
    return ""


def marketplace_language_use(request: HttpRequest, default_language: str) -> None:
    """Show the page in its marketplace's default language when nothing else chose one."""
    if getattr(request, "language_source", "") != SOURCE_DEFAULT:
        return
    language = language_supported(default_language)
    if language and language != get_language():
        translation.activate(language)
        request.LANGUAGE_CODE = language


def babel_locale(language: str | None = None) -> str:
    """The Babel locale of an interface language ("zh-hans" -> "zh_Hans_CN", else "en_US")."""
    code = (language or get_language() or "en").lower()
    return "zh_Hans_CN" if code.startswith("zh") else "en_US"


def money_text(amount: Decimal, currency: str, language: str | None = None) -> str:
    """An amount with its currency as readers of the language write it: US$19.99, ¥120.00."""
    return format_currency(amount, currency, locale=babel_locale(language))


# Scripts a merchant's text may be written in, by Unicode block, with the language they mark.
_SCRIPTS = (
    ("zh", ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))),
    ("ja", ((0x3040, 0x30FF),)),
    ("ko", ((0xAC00, 0xD7AF),)),
    ("ar", ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ("he", ((0x0590, 0x05FF),)),
)
WRITTEN_NAMES = {
    "zh": gettext_lazy("Chinese"),
    "ja": gettext_lazy("Japanese"),
    "ko": gettext_lazy("Korean"),
    "ar": gettext_lazy("Arabic"),
    "he": gettext_lazy("Hebrew"),
    "en": gettext_lazy("English"),
}


def has_cjk(text: str) -> bool:
    """Whether the text holds Chinese, Japanese or Korean characters."""
    return any(_script_of(ch) in ("zh", "ja", "ko") for ch in set(text))


@lru_cache(maxsize=4096)
def _script_of(ch: str) -> str:
    point = ord(ch)
    for code, ranges in _SCRIPTS:
        if any(lo <= point <= hi for lo, hi in ranges):
            return code
    if ch.isascii() and ch.isalpha():
        return "en"
    return ""


def written_language(text: str) -> str:
    """The language a merchant's text is mostly written in, told by its script: "zh", "ar",
    "he", "ja", "ko", "en" (Latin letters), or "" (no letters). Japanese kana wins over the
    Chinese characters it is written with."""
    # Each distinct character is classified once (an explanation of thousands of characters
    # has a few hundred distinct ones): the appeal page reads every text it shows this way.
    counts: dict[str, int] = {}
    for ch, n in Counter(text).items():
        script = _script_of(ch)
        if script:
            counts[script] = counts.get(script, 0) + n
    if not counts:
        return ""
    if counts.get("ja"):
        counts["ja"] += counts.pop("zh", 0)
    # A Chinese character carries about as much as a short English word.
    weights = {code: n * (4 if code in ("zh", "ja", "ko") else 1) for code, n in counts.items()}
    return max(weights, key=lambda code: weights[code])


def written_language_name(code: str) -> str:
    """The name of a written language in the active language ("Chinese", "中文")."""
    return str(WRITTEN_NAMES.get(code, code))


def english_rendering(text: str) -> str | None:
    """A suggested English rendering of a merchant's text, for them to check and edit.

    None: no offline translation library that runs on the supported machines (2 cores, no GPU,
    packages from PyPI and Debian only, no model download at run time) is worth its size
    (docs/translations.md). A later implementation returns its draft here; the appeal form
    shows it for the merchant to edit and never sends it unseen.
    """
    return None
