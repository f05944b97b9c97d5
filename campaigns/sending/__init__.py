"""Sending campaigns: the outbox of Send rows, its workers and its messages."""
