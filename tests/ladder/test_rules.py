"""The rules of a good ladder, each on both sides (pure, no database)."""

from decimal import Decimal

from ladder.rules import ERROR, WARNING, StepFacts, check_ladder, has_errors


def step(
    position, price, *, offers=0, cross_sell_only=False, active=True, kind="product"
):
    return StepFacts(
        step_id=position,
        position=position,
        name=f"Step {position}",
        price=None if price is None else Decimal(price),
        product_active=active,
        product_kind=kind,
        cross_sell_only=cross_sell_only,
        offer_count=offers,
    )


def codes(violations):
    return sorted((v.code, v.step_id) for v in violations)


def test_a_good_ladder_has_no_violations():
    assert check_ladder([step(1, "100"), step(2, "200", offers=1)]) == []


def test_an_inactive_offer_is_not_sellable():
    violations = check_ladder([step(1, "100", active=False), step(2, "200", offers=1)])
    assert codes(violations) == [("not_sellable", 1)]
    assert has_errors(violations)


def test_a_charge_line_is_not_sellable():
    assert codes(check_ladder([step(1, "100", kind="charge", offers=1)])) == [
        ("not_sellable", 1)
    ]


def test_a_step_without_a_price_is_not_sellable():
    assert codes(check_ladder([step(1, "0"), step(2, "200", offers=1)])) == [
        ("no_price", 1)
    ]


def test_a_gap_below_the_minimum_is_an_error():
    violations = check_ladder([step(1, "100"), step(2, "109", offers=1)], min_gap=0.10)
    assert codes(violations) == [("gap_too_small", 2)]
    assert violations[0].level == ERROR


def test_a_gap_at_the_minimum_passes():
    assert check_ladder([step(1, "100"), step(2, "110", offers=1)], min_gap=0.10) == []


def test_the_minimum_gap_is_configurable():
    assert check_ladder([step(1, "100"), step(2, "109", offers=1)], min_gap=0.05) == []


def test_a_climb_steeper_than_the_maximum_is_only_a_warning():
    violations = check_ladder([step(1, "100"), step(2, "501", offers=1)], max_ratio=5)
    assert codes(violations) == [("climb_too_steep", 2)]
    assert violations[0].level == WARNING
    assert not has_errors(violations)


def test_a_climb_at_the_maximum_passes():
    assert check_ladder([step(1, "100"), step(2, "500", offers=1)], max_ratio=5) == []


def test_a_cheaper_step_must_be_marked_cross_sell_only():
    unmarked = check_ladder([step(1, "100"), step(2, "80", offers=1)])
    assert codes(unmarked) == [("gap_too_small", 2)]
    marked = check_ladder(
        [step(1, "100", offers=1), step(2, "80", offers=1, cross_sell_only=True)]
    )
    assert marked == []


def test_the_gap_after_a_cross_sell_only_step_is_measured_from_the_last_upsell():
    steps = [
        step(1, "100", offers=1),
        step(2, "50", cross_sell_only=True, offers=1),
        step(3, "105", offers=1),
    ]
    assert codes(check_ladder(steps)) == [("gap_too_small", 3)]


def test_a_step_without_upsell_or_cross_sell_is_an_error():
    # Step 1's only higher step is cross-sell only: no upsell, and no offers.
    steps = [step(1, "100"), step(2, "90", cross_sell_only=True, offers=1)]
    assert codes(check_ladder(steps)) == [("dead_end", 1)]


def test_a_step_with_an_upsell_needs_no_cross_sell():
    assert check_ladder([step(1, "100"), step(2, "200", offers=1)]) == []


def test_the_top_step_must_carry_cross_sells():
    violations = check_ladder([step(1, "100"), step(2, "200")])
    assert codes(violations) == [("top_without_cross_sells", 2)]
    assert has_errors(violations)


def test_an_empty_ladder_cannot_be_published():
    assert codes(check_ladder([])) == [("empty", None)]


def test_errors_come_before_warnings():
    # 100 → 900 is steep (warning); the top step has no cross-sells (error).
    violations = check_ladder([step(1, "100"), step(2, "900"), step(3, "1000")])
    assert [v.code for v in violations] == [
        "top_without_cross_sells",
        "climb_too_steep",
    ]
