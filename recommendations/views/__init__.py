"""Recommendations pages, one module per area, re-exported for the URLconf."""

from recommendations.views.suggestions import (
    CustomerSuggestionsPanelView,
    RunListView,
    SuggestionOutcomeView,
)

__all__ = ["CustomerSuggestionsPanelView", "RunListView", "SuggestionOutcomeView"]
