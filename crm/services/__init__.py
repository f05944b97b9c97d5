"""Writes with meaning for the core domain; the only place that changes state."""
