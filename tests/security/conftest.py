"""Fixtures for the security tests: one object of each kind, and each role."""

import pytest

from tests.crm.factories import UserFactory
from tests.security.routes import build_scenario


@pytest.fixture
def scenario(db, store_a, store_b):
    return build_scenario(store_a=store_a, store_b=store_b)


@pytest.fixture
def inactive(db):
    user = UserFactory(username="inactive", role="manager")
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user
