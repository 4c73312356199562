"""Webhooks out: endpoints registered by operators, an event outbox, signed delivery."""
