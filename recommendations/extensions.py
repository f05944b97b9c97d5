"""Hooks through which higher apps add to the counter view and the basket API.

``recommendations`` sits below ``campaigns`` in the app graph and must not
import it. Campaigns register their providers here from
``CampaignsConfig.ready()``; the counter view and the basket API ask this
registry, so they work (with nothing extra) when campaigns is not installed.

A provider that raises is logged and skipped: a broken campaign must never
take the counter or the checkout down with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

CounterPromptProvider = Callable[[Any, Any], Iterable[dict[str, Any]]]
CheckoutOfferProvider = Callable[[int, list[str]], Iterable[dict[str, Any]]]

_counter_prompt_providers: list[CounterPromptProvider] = []
_checkout_offer_providers: list[CheckoutOfferProvider] = []


def register_counter_prompt_provider(fn: CounterPromptProvider) -> None:
    """Add ``fn(customer, store) -> [dict]``; registering twice is a no-op."""
    if fn not in _counter_prompt_providers:
        _counter_prompt_providers.append(fn)


def register_checkout_offer_provider(fn: CheckoutOfferProvider) -> None:
    """Add ``fn(customer_id, skus) -> [dict]``; registering twice is a no-op."""
    if fn not in _checkout_offer_providers:
        _checkout_offer_providers.append(fn)


def counter_prompts(customer: Any, store: Any) -> list[dict[str, Any]]:
    """In-store prompts for this customer at this store, from every provider.

    Each prompt is a dict with at least ``title`` and ``body`` (strings ready
    to show) plus provider-specific keys such as ``campaign_id``.
    """
    prompts: list[dict[str, Any]] = []
    for provider in list(_counter_prompt_providers):
        try:
            prompts.extend(provider(customer, store))
        except Exception:
            logger.exception("counter prompt provider %r failed", provider)
    return prompts


def checkout_offers(customer_id: int | None, skus: list[str]) -> list[dict[str, Any]]:
    """Checkout offers for a basket of ``skus``; [] for an anonymous basket.

    Each offer is a dict with ``campaign_id``, ``title``, ``code`` (may be
    empty), ``discount_percent`` (string or None) and ``sku`` (may be empty).
    """
    if customer_id is None:
        return []
    offers: list[dict[str, Any]] = []
    for provider in list(_checkout_offer_providers):
        try:
            offers.extend(provider(customer_id, list(skus)))
        except Exception:
            logger.exception("checkout offer provider %r failed", provider)
    return offers
