"""Ladder app."""
