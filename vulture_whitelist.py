"""Names vulture (in `make lint`) cannot see used: each is called or read by a framework."""

# ruff: noqa

# Model fields, choices and pydantic fields: stored columns and event fields that the admin,
# the migrations, raw SQL or the event validation read, and attributes saved by update_fields.
_.is_staff
SUSPENDED
INGEST
REVIEW
ADMIN
updated_at
_.confirmed
_.updated_at
_.withdrawn_at
_.decided_by_id
verbose_name_plural
withdrawn_at
author
seen_at
claimed_at
task_id
_.removed_by_appeal_id
requested_by_label
requested_at
EVENT
RULE
removed_by_appeal_id
seq
UNSHIPPED
SHIPPED
DELIVERED
CANCELLED
shipping_service
requested_by
recorded_at
available_at
claimed_until
failed_at
last_error
outbox

# API response schema fields: django-ninja serialises them.
denied_because_reply_deadline_passed
decision_expected_by
uploaded_by
suggested_explanation
open_appeal
active_defects
items_ordered

# Fields of view dataclasses read by templates; the import cache's counters, read by its test.
window_text
leaves_window_on
_.preview
breaches
_.breaches
_.hits
_.misses
chart
numerator_url
denominator_url
why
open_appeal
past_appeals
# The order list's rows (web/_order_rows.html) and the review queue's (console/_queue_rows.html).
_.active_kinds
assign_url
status_label
deadline_iso
deadline_text
merchant_deadline
odr_text
recommended_rules
assigned_id

# Called by their dotted path: settings (AXES_CLIENT_IP_CALLABLE, CSRF_FAILURE_VIEW, CACHES),
# the job registry and the scheduler, and a migration (the audit triggers).
client_address
info_requests_expire_job
reviews_flag_overdue_job
data_changes_fold_job
install
uninstall
SharedRedisCache
account_status_record_job
csrf_failure

# Methods and attributes Django, gunicorn, django-tasks and django-ninja look up by name.
urlpatterns
_.get_client
_.run_task
_.load_config
_.clean_time_zone
openapi_description
param_name
_._class
_.running_task
_._run_tasks
_.parse_file_upload

# Parameters a framework signature requires (ModelAdmin permissions, signal handlers).
obj
frame

# Read by Django itself: the database router's methods, the 400 handler, a logging filter class
# named in settings, form clean_ methods, ReportLab style attributes.
ReplicaRouter
db_for_read
db_for_write
allow_relation
allow_migrate
hints
obj1
obj2
handler400
bad_request
RequestIdFilter
clean_language

# Form fields that only Django reads, by name, from what was posted.
widget
confirm
password1
password2
deny_reason
seller_role
download
_.fontName
_.wordWrap
# Jobs registered with the scheduler by name, and functions the tests, the benchmarks and the
# webhook receiver recipe (docs/webhooks.md) call: part of the product's interface.
syncs_due_job
webhooks_prune_job
signature_valid
at_risk_scan
replica_configured
# The seam for a suggested English rendering of a Chinese explanation (docs/translations.md).
english_rendering
# Model fields, choices and attributes saved with update_fields: stored columns that the admin,
# the templates or the audit read.
_.accepted_at
_.accepted_by_id
key_hash
invited_by
accepted_at
accepted_by
names_refused
event_type
REJECTED
first_seen_at
payment_refs
OPEN
_.exported_at
_.amazon_reference
_.amazon_deadline
_.next_try_at
received_by_label
account_status
amazon_deadline
amazon_reference
exported_at
created_by_label
connected_at
last_sync_at
next_try_at
amazon_rate
history_from
first_import
last_status_code
# django-ninja calls its parser's parse_body.
parse_body

# Django forms call clean_<field>() for each field they clean.
clean_action
