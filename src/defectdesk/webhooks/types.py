"""The event types DefectDesk posts to webhook endpoints, declared once."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "defect.opened": "A defect opened on an order",
    "defect.removed": "A defect was removed (by an event, an appeal or a rule)",
    "appeal.submitted": "A merchant submitted an appeal",
    "appeal.info_requested": "A reviewer asked the merchant for more information",
    "appeal.decided": "An appeal was approved or denied",
    "health.status_changed": "A seller's account status changed (healthy or at risk)",
    "message.sent": "A merchant replied to a buyer (deliver it to the buyer)",
}
