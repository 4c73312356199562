"""Sign-in answers an unknown user name as it answers a known one with a wrong password: the same
words, and about the same time, because the password hasher runs for both."""

from __future__ import annotations

import re
import statistics
import time
from itertools import count
from typing import Any, ClassVar

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client, override_settings

ROUNDS = 15
ADDRESSES = count(1)


class CountingHasher(PBKDF2PasswordHasher):
    """PBKDF2 at a cost that dominates a sign-in request without making the test slow."""

    algorithm = "pbkdf2_counting"
    iterations = 120_000
    calls: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        self.calls.append(password)
        return super().encode(password, salt, iterations)


HASHER = f"{__name__}.CountingHasher"


@pytest.fixture
def hashed(cast: Any) -> Any:
    with override_settings(PASSWORD_HASHERS=[HASHER]):
        alice = cast["alice"]
        alice.set_password("correct-horse-1")
        alice.save(update_fields=["password"])
        CountingHasher.calls.clear()
        yield alice


def _attempt(username: str) -> tuple[float, bytes]:
    """One wrong sign-in from an address of its own (throttling counts per name and address)."""
    n = next(ADDRESSES)
    client = Client(REMOTE_ADDR=f"10.9.{n // 250}.{n % 250 + 1}")
    started = time.process_time()
    reply = client.post("/signin/", {"username": username, "password": "not-the-password"})
    took = time.process_time() - started
    assert reply.status_code == 200
    return took, re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", reply.content)


def _hash_time() -> float:
    started = time.process_time()
    CountingHasher().encode("x", "salt")
    return time.process_time() - started


def test_the_hasher_runs_for_an_unknown_user_name(hashed: Any) -> None:
    with override_settings(PASSWORD_HASHERS=[HASHER]):
        _attempt("nobody-by-this-name")
        assert CountingHasher.calls == ["not-the-password"]
        _attempt("alice")
        assert CountingHasher.calls == ["not-the-password"] * 2


def test_unknown_and_known_user_names_get_the_same_words(hashed: Any) -> None:
    with override_settings(PASSWORD_HASHERS=[HASHER]):
        _, unknown = _attempt("nobody-by-this-name")
        _, known = _attempt("alice")
    assert unknown.replace(b"nobody-by-this-name", b"NAME") == known.replace(b"alice", b"NAME")
    assert b"Your user name and password didn" in known


def test_unknown_and_known_user_names_take_about_the_same_time(hashed: Any) -> None:
    """Medians of interleaved attempts, in this process's CPU time: what the server spends on
    each answer, which other processes on a busy machine (or other test workers) do not move."""
    known: list[float] = []
    unknown: list[float] = []
    with override_settings(PASSWORD_HASHERS=[HASHER]):
        _attempt("alice")  # warm up: templates, the throttle's tables
        for n in range(ROUNDS):
            known.append(_attempt("alice")[0])
            unknown.append(_attempt(f"nobody-{n}")[0])
    k, u = statistics.median(known), statistics.median(unknown)
    hashing = statistics.median(_hash_time() for _ in range(5))
    print(
        f"\nsign-in timing: known {k * 1000:.1f} ms, unknown {u * 1000:.1f} ms "
        f"(medians of {ROUNDS}), hashing {hashing * 1000:.1f} ms"
    )
    # Skipping the hasher for unknown names would save `hashing` on their side; the medians
    # must differ by well under that.
    assert abs(k - u) < 0.5 * hashing, (known, unknown)
