"""Links to pages of other apps, kept in one place so they change once."""

from django.urls import reverse


def customer_page_url(customer_id: int) -> str:
    """The page of one customer (crm's customer page)."""
    return reverse("crm:customer_detail", args=[customer_id])
