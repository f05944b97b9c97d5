"""Campaigns app."""
