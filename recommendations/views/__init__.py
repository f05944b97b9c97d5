"""Recommendations pages, one module per area, re-exported for the URLconf."""

from recommendations.views.counter import (
    CounterBasketOutcomeView,
    CounterBasketView,
    CounterCustomerView,
    CounterOfferOutcomeView,
    CounterView,
)
from recommendations.views.suggestions import (
    CustomerSuggestionsPanelView,
    RunListView,
    SuggestionOutcomeView,
)

__all__ = [
    "CounterBasketOutcomeView",
    "CounterBasketView",
    "CounterCustomerView",
    "CounterOfferOutcomeView",
    "CounterView",
    "CustomerSuggestionsPanelView",
    "RunListView",
    "SuggestionOutcomeView",
]
