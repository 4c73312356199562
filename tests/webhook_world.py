"""Run in a separate process against DATABASE_URL: set up webhook deliveries, kick, report.

python -m tests.webhook_world setup URL COUNT   # an endpoint and COUNT events; prints secret
python -m tests.webhook_world kick              # enqueue the delivery job
python -m tests.webhook_world report            # deliveries and attempts as JSON
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    import django

    django.setup()
    import orjson
    from django.db import transaction

    from defectdesk.core.actors import SYSTEM
    from defectdesk.webhooks.actions import webhook_endpoint_register
    from defectdesk.webhooks.models import WebhookAttempt, WebhookDelivery
    from defectdesk.webhooks.outbox import webhook_emit, webhooks_kick

    command = argv[0]
    if command == "setup":
        url, count = argv[1], int(argv[2])
        _, secret = webhook_endpoint_register(actor=SYSTEM, url=url, event_types=["message.sent"])
        with transaction.atomic():
            for n in range(count):
                webhook_emit("message.sent", {"message_id": f"m{n}", "body": f"reply {n}"})
        print(secret)
    elif command == "kick":
        webhooks_kick()
    elif command == "report":
        deliveries = list(WebhookDelivery.objects.values("event_id", "status", "attempts"))
        attempts = list(
            WebhookAttempt.objects.order_by("id").values("delivery__event_id", "number", "outcome")
        )
        sys.stdout.write(orjson.dumps({"deliveries": deliveries, "attempts": attempts}).decode())


if __name__ == "__main__":
    main(sys.argv[1:])
