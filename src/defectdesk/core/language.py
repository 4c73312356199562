"""The interface language: which one a request, a user or a marketplace gets, and formatting."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import get_language

# Where the language of a request came from; "default" lets the page in view replace it with
# the default language of the marketplace it shows.
SOURCE_USER = "user"
SOURCE_COOKIE = "cookie"
SOURCE_BROWSER = "browser"
SOURCE_DEFAULT = "default"


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
        parsed = translation.trans_real.parse_accept_lang_header(header[:500])
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


def _user_language(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    from defectdesk.accounts.selectors import language_of

    return language_supported(language_of(user))


def request_language(request: HttpRequest) -> tuple[str, str]:
    """(language, source): the user's setting, else the switch's cookie, else the browser's
    Accept-Language, else English (a page may then use its marketplace's default)."""
    chosen = _user_language(request)
    if chosen:
        return chosen, SOURCE_USER
    cookie = language_supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))
    if cookie:
        return cookie, SOURCE_COOKIE
    browser = language_from_header(request.headers.get("Accept-Language", ""))
    if browser:
        return browser, SOURCE_BROWSER
    return settings.LANGUAGE_CODE, SOURCE_DEFAULT


class LanguageMiddleware:
    """Activate the request's language (see request_language); after authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language, source = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        request.language_source = source  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or language)
        vary = response.headers.get("Vary", "")
        if "accept-language" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
        return response


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


def number_text(value: int | float | Decimal, language: str | None = None) -> str:
    """A number with the language's grouping: 1,234,567."""
    return format_decimal(value, locale=babel_locale(language))


def percent_text(rate: float | Decimal, digits: int = 2, language: str | None = None) -> str:
    """A rate as a percentage with `digits` decimals: 1.23%."""
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return format_percent(rate, format=pattern, locale=babel_locale(language))
