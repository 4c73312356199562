"""`defectdesk scheduler`: enqueue the periodic jobs, each once per slot."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils.crypto import get_random_string

from defectdesk.core.jobs import periodic_jobs
from defectdesk.core.jobs.scheduler import scheduled_slots_prune, scheduler_tick
from defectdesk.core.jobs.worker import jobs_recover
from defectdesk.core.management.args import seconds
from defectdesk.core.management.startup import ensure_database_ready

logger = logging.getLogger("defectdesk.jobs")

PRUNE_EVERY_SECONDS = 3600.0


class Command(BaseCommand):
    help = (
        "Enqueue the periodic jobs (e.g. deliver outbox, expire information requests) once per "
        "slot, and put back jobs lost with a dead worker. Several schedulers may run for "
        "availability: the database lets exactly one of them enqueue each slot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=seconds,
            default=5.0,
            help="seconds between checks for due slots (default: 5)",
        )
        parser.add_argument(
            "--once", action="store_true", help="check once, enqueue what is due, and exit"
        )
        parser.add_argument("--list", action="store_true", help="list the periodic jobs and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = periodic_jobs()
        if options["list"]:
            for job in jobs:
                offset = f" (offset {job.offset})" if job.offset else ""
                self.stdout.write(f"{job.name}\tevery {job.every}{offset}\t{job.task.module_path}")
            return
        ensure_database_ready()
        scheduler_id = get_random_string(16)
        verbose = int(options["verbosity"]) > 0
        if options["once"]:
            self._tick(scheduler_id, verbose)
            return
        stop = threading.Event()

        def shutdown(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        if verbose:
            self.stdout.write(
                f"scheduler {scheduler_id}: {len(jobs)} periodic jobs, checking every "
                f"{options['interval']:g}s"
            )
        last_prune = 0.0
        while not stop.is_set():
            close_old_connections()
            try:
                self._tick(scheduler_id, verbose)
                if time.monotonic() - last_prune >= PRUNE_EVERY_SECONDS:
                    last_prune = time.monotonic()
                    scheduled_slots_prune()
            except Exception:
                logger.exception("scheduler check failed; trying again")
            stop.wait(options["interval"])
        close_old_connections()
        if verbose:
            self.stdout.write("scheduler stopped")

    def _tick(self, scheduler_id: str, verbose: bool) -> None:
        for job in scheduler_tick(scheduler_id=scheduler_id):
            if verbose:
                self.stdout.write(f"enqueued {job.name}")
        recovered = jobs_recover()
        if recovered and verbose:
            self.stdout.write(f"recovered {len(recovered)} lost jobs")
