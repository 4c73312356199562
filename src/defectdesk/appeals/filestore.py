"""Evidence files in the store: staged before an action's transaction, promoted when it commits.

An action writes a merchant's files under `appeals/staging/<random>.<ext>` before it opens its
transaction (no network I/O inside it), stores rows naming the final place
`appeals/<seller>/<appeal>/<random>.<ext>`, and moves the files there once the transaction has
committed. If the transaction rolls back, the action deletes the staged files. Between the commit
and the move (or if the move failed) a row's file is still under its staging name, so readers
look there too: nothing a row names is ever lost, and nothing without a row is left behind.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.utils.translation import gettext_lazy

from defectdesk.appeals.uploads import CheckedFile
from defectdesk.core.errors import FieldError, Unavailable

logger = logging.getLogger("defectdesk.appeals")

STAGING = "appeals/staging"
STORE_UNAVAILABLE = (
    "The file store cannot be reached right now, so the files were not saved and nothing was "
    "changed. Please try again in a few minutes."
)
STORE_UNREADABLE = gettext_lazy(
    "The file store cannot be reached right now, so this appeal's files cannot be shown. "
    "Nothing is lost; please try again in a few minutes."
)


def evidence_stage(checked: Sequence[CheckedFile]) -> list[str]:
    """Write the files under staging names; all or none (503 naming the store if it fails)."""
    names: list[str] = []
    for item in checked:
        path = f"{STAGING}/{uuid.uuid4().hex}.{item.extension}"
        try:
            names.append(default_storage.save(path, ContentFile(item.content)))
        except Exception as exc:
            logger.warning("evidence store failed while saving %s: %s", path, exc)
            evidence_unstage(names)
            raise Unavailable(STORE_UNAVAILABLE, [FieldError("file", STORE_UNAVAILABLE)]) from exc
    return names


def evidence_unstage(names: Sequence[str]) -> None:
    """Delete staged files of a transaction that did not commit."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception as exc:
            # No row names it; it stays under appeals/staging/ (docs/operations.md).
            logger.warning("could not remove staged evidence %s: %s", name, exc)


def evidence_final_name(staged: str, *, seller_id: int, appeal_id: int) -> str:
    """Where a staged file lives once its appeal's transaction has committed."""
    return f"appeals/{seller_id}/{appeal_id}/{PurePosixPath(staged).name}"


def evidence_staged_name(final: str) -> str:
    """The staging name a row's file had before it was promoted."""
    return f"{STAGING}/{PurePosixPath(final).name}"


def evidence_promote_on_commit(moves: Sequence[tuple[str, str]]) -> None:
    """Move (staged, final) files to their final names once the transaction commits."""
    if moves:
        transaction.on_commit(lambda: evidence_promote(moves))


def evidence_promote(moves: Sequence[tuple[str, str]]) -> None:
    """Move committed files from staging to their final names (a file left behind is still read)."""
    for staged, final in moves:
        try:
            _move(staged, final)
        except Exception as exc:
            logger.warning("could not promote evidence %s to %s: %s", staged, final, exc)


def _move(staged: str, final: str) -> None:
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        target = storage.path(final)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(storage.path(staged), target)
        return
    # Object stores have no rename: copy, then delete the staged copy.
    with storage.open(staged, "rb") as handle:
        saved = storage.save(final, handle)
    if saved != final:
        storage.delete(saved)
        raise FileExistsError(f"{final} exists already")
    storage.delete(staged)


def _located(name: str) -> str:
    """The name under which a row's file is stored now: final, else still staged."""
    try:
        if default_storage.exists(name):
            return name
        staged = evidence_staged_name(name)
        if default_storage.exists(staged):
            return staged
    except Exception as exc:
        logger.warning("evidence store failed while looking for %s: %s", name, exc)
        raise Unavailable(str(STORE_UNREADABLE)) from exc
    return name  # missing: opening it says so


def evidence_open(name: str) -> IO[bytes]:
    """An open file of a row's evidence; 503 (saying so) if the store cannot be reached."""
    where = _located(name)
    try:
        handle = default_storage.open(where, "rb")
        handle.read(0)  # an object store fetches on first read: fail here, not mid-response
    except FileNotFoundError:
        raise
    except Exception as exc:
        logger.warning("evidence store failed while reading %s: %s", where, exc)
        raise Unavailable(str(STORE_UNREADABLE)) from exc
    return handle  # type: ignore[return-value]


def evidence_read(name: str) -> bytes:
    """The bytes of a row's evidence; 503 (saying so) if the store cannot be reached."""
    handle = evidence_open(name)
    try:
        return handle.read()
    except Exception as exc:
        logger.warning("evidence store failed while reading %s: %s", name, exc)
        raise Unavailable(str(STORE_UNREADABLE)) from exc
    finally:
        handle.close()
