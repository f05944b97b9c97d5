"""Every API serializer lists its fields explicitly (SEC-09, pitfall 4)."""

from __future__ import annotations

import inspect

import pytest
from rest_framework import serializers

from crm.api import serializers as api_serializers
from crm.api import views as api_views


def model_serializers():
    found = set()
    for module in (api_serializers, api_views):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(
                obj, serializers.ModelSerializer
            ) and obj.__module__.startswith("crm.api"):
                found.add(obj)
    return sorted(found, key=lambda cls: cls.__name__)


def test_the_api_has_model_serializers():
    assert len(model_serializers()) >= 10


@pytest.mark.parametrize(
    "serializer_class", model_serializers(), ids=lambda c: c.__name__
)
def test_meta_fields_is_an_explicit_list(serializer_class):
    meta = serializer_class.Meta

    assert isinstance(meta.fields, list | tuple)
    assert not hasattr(meta, "exclude")
    for name in getattr(meta, "read_only_fields", ()):
        assert name in meta.fields, name


@pytest.mark.parametrize(
    "serializer_class", model_serializers(), ids=lambda c: c.__name__
)
def test_server_owned_fields_are_never_writable(serializer_class):
    writable = {
        name for name, field in serializer_class().fields.items() if not field.read_only
    }

    assert not writable & {
        "id",
        "created_at",
        "updated_at",
        "status",
        "became_customer_at",
        "returned_quantity",
        "staff",
        "actor",
        "changed_at",
        "number",
        "placed_at",
        "returned_at",
    }
