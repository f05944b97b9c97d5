"""REST API of the campaigns app."""
