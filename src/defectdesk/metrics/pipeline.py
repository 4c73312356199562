"""The projections ingestion keeps, in the order they run, and the facts they share.

A batch's defect facts (with appeal cuts) are worked out once, before the orders' rows are
written; the defects, the metric counters (which read the same facts) and the buyer messages
then run in this order inside the batch's transaction.
"""

from __future__ import annotations

from defectdesk.defects.projection import batch_facts, defect_projector
from defectdesk.ledger.projection import Pipeline
from defectdesk.messaging.projection import message_projector
from defectdesk.metrics.counters import counter_projector

PIPELINE = Pipeline(
    facts=batch_facts, projectors=(defect_projector, counter_projector, message_projector)
)
