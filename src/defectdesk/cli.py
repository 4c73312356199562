"""The `defectdesk` command: DefectDesk's management commands under one name."""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections.abc import Mapping

# The order of DESIGN's command table; other DefectDesk commands follow by name.
ORDER = (
    "demo",
    "serve",
    "worker",
    "scheduler",
    "import",
    "generate",
    "health",
    "marketplace",
    "users",
    "tokens",
    "rebuild",
    "policy",
)
HELP_FLAGS = {"-h", "--help", "help"}


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    found = re.search(r"(?<!e\.g)(?<!i\.e)\. ", text)
    return text if found is None else text[: found.start() + 1]


def commands_help() -> str:
    """The top-level help: DefectDesk's own commands, each with the first sentence of its help."""
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    ours = {name: app for name, app in get_commands().items() if app.startswith("defectdesk")}
    names = [n for n in ORDER if n in ours] + sorted(set(ours) - set(ORDER))
    width = max(len(n) for n in names) + 2
    lines = ["Usage: defectdesk COMMAND [options]", "", "Commands:"]
    for name in names:
        summary = _first_sentence(load_command_class(ours[name], name).help or "")
        lines.append(
            textwrap.fill(
                summary,
                width=100,
                initial_indent=f"  {name.ljust(width)}",
                subsequent_indent=" " * (width + 2),
            )
        )
    lines += [
        "",
        "`defectdesk COMMAND --help` explains a command and its options.",
        "Django's own commands (migrate, createsuperuser, shell, ...): `defectdesk help --all`.",
    ]
    return "\n".join(lines)


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
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "restore-check":
        args[0] = "restore_check"  # the documented name; Django's module name has an underscore
    if not args or (len(args) == 1 and args[0] in HELP_FLAGS):
        sys.stdout.write(commands_help() + "\n")
        return
    if args == ["help", "--all"]:
        args = ["help"]
    import django
    from django.core.management import execute_from_command_line
    from django.utils import translation

    django.setup()
    language = cli_language(os.environ)
    if language:
        translation.activate(language)
    execute_from_command_line(["defectdesk", *args])


if __name__ == "__main__":
    main()
