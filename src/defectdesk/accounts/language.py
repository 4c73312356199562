"""The request's interface language: the user's setting, the switch, the browser, the default."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from defectdesk.accounts.selectors import language_of
from defectdesk.core.language import (
    SOURCE_BROWSER,
    SOURCE_COOKIE,
    SOURCE_DEFAULT,
    SOURCE_USER,
    language_from_header,
    language_supported,
)


def _user_language(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
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
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language() or language)
        finally:
            # The thread goes back to the default: work done after this request (a job, a
            # test, the next request before its own choice) must not inherit the language.
            translation.deactivate()
        vary = response.headers.get("Vary", "")
        if "accept-language" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
        return response
