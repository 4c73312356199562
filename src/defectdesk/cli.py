"""The `defectdesk` command: Django's management commands under one name."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def cli_language(environ: Mapping[str, str]) -> str:
    """The language of the CLI's messages: DEFECTDESK_LANGUAGE, else the POSIX locale
    (LC_ALL, LC_MESSAGES, LANG: "zh_CN.UTF-8" is Chinese); "" for the default."""
    from defectdesk.core.language import language_from_header, language_supported

    chosen = environ.get("DEFECTDESK_LANGUAGE", "").strip()
    if chosen:
        return language_supported(chosen) or language_from_header(chosen)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").strip()
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return language_from_header(value.split(".")[0].split("@")[0].replace("_", "-"))
    return ""


def main(argv: list[str] | None = None) -> None:
    """Run a defectdesk command (`defectdesk --help` lists them)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    import django
    from django.core.management import execute_from_command_line
    from django.utils import translation

    django.setup()
    language = cli_language(os.environ)
    if language:
        translation.activate(language)
    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["defectdesk", *args])


if __name__ == "__main__":
    main()
