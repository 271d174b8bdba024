"""Alerts: subscriptions, events and the outbox of deliveries, one module per channel.

Ingest calls `outbox.record_change` inside its transaction; a worker calls `deliver.deliver` for
each delivery id it returns, and the scheduler re-enqueues `deliver.due_deliveries` and the ids
`digest.digest_due` creates.
"""
