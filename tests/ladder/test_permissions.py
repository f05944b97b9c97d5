"""The data migration's grants: managers everything, sales and clerks view only."""

import pytest

pytestmark = pytest.mark.django_db

MODELS = ["ladder", "step", "stepoffer", "customerladderposition", "customerstepreach"]


def test_managers_may_do_everything_with_ladders(manager):
    for model in MODELS:
        for action in ("view", "add", "change", "delete"):
            assert manager.has_perm(f"ladder.{action}_{model}")


@pytest.mark.parametrize("role", ["sales", "clerk_a"])
def test_sales_and_clerks_may_only_view_ladders(request, role):
    user = request.getfixturevalue(role)
    for model in MODELS:
        assert user.has_perm(f"ladder.view_{model}")
        for action in ("add", "change", "delete"):
            assert not user.has_perm(f"ladder.{action}_{model}")


def test_forms_and_serializers_list_their_fields_explicitly():
    from ladder.api import serializers
    from ladder.forms import LadderForm

    assert isinstance(LadderForm.Meta.fields, list)
    for name in dir(serializers):
        cls = getattr(serializers, name)
        meta = getattr(cls, "Meta", None)
        if meta is not None and hasattr(meta, "model"):
            assert isinstance(meta.fields, list | tuple), name
            assert not hasattr(meta, "exclude"), name
