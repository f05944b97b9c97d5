"""Recommendations app."""
