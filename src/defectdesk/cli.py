"""The `defectdesk` command: Django's management commands under one name."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a defectdesk command (`defectdesk --help` lists them)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "restore-check":
        args[0] = "restore_check"  # the documented name; Django's module name has an underscore
    execute_from_command_line(["defectdesk", *args])


if __name__ == "__main__":
    main()
