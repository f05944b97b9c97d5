"""The ids-first paginator pages exactly as OFFSET paging does."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db.models import F

from crm.models import Customer
from crm.pagination import IdsFirstPaginator
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("orphans", [0, 1])
@pytest.mark.parametrize(
    "ordering",
    [
        ("last_name", "id"),
        ("-last_name", "-id"),
        (F("birth_date").asc(nulls_last=True), "id"),
    ],
)
def test_every_page_holds_what_offset_paging_gives(orphans, ordering):
    for number, name in enumerate(["b", "a", "c", "a", "d", "b", "e"]):
        CustomerFactory(
            last_name=name, birth_date=None if number % 3 else f"198{number}-01-01"
        )
    customers = Customer.objects.order_by(*ordering)
    plain = Paginator(customers, 3, orphans=orphans)
    first = IdsFirstPaginator(customers, 3, orphans=orphans)
    assert first.num_pages == plain.num_pages
    for number in plain.page_range:
        expected = [row.pk for row in plain.page(number).object_list]
        assert [row.pk for row in first.page(number).object_list] == expected
