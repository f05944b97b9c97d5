"""Pure position maths over tiny hand-built frames (no database)."""

import pandas as pd

from ladder.positions import (
    SECONDS_PER_DAY,
    SECONDS_PER_MONTH,
    compute_positions,
    compute_reaches,
    median_from_histogram,
)

DAY = SECONDS_PER_DAY
NOW = 1000 * DAY


def lines(*rows):
    return pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "product_id",
            "placed_at",
            "kept_quantity",
            "amount",
            "subscription_months",
        ],
    ).astype({"amount": "float64"})


STEPS = pd.DataFrame(
    {
        "ladder_id": [1, 1, 1],
        "step_id": [11, 12, 13],
        "position": [1, 2, 3],
        "product_id": [101, 102, 103],
        "has_upsell": [True, True, False],
    }
)


def run(frame, *, stall_days=90):
    reaches = compute_reaches(frame, STEPS, now=NOW)
    positions = compute_positions(
        reaches, STEPS, now=NOW, stall_after_seconds=stall_days * DAY
    )
    return reaches, positions


def test_the_highest_step_bought_is_the_position():
    reaches, positions = run(
        lines(
            (1, 101, NOW - 50 * DAY, 1, 10.0, 0), (1, 102, NOW - 20 * DAY, 1, 20.0, 0)
        )
    )
    assert positions.to_dict("records") == [
        {
            "customer_id": 1,
            "ladder_id": 1,
            "step_id": 12,
            "reached_at": NOW - 20 * DAY,
            "stalled": False,
        }
    ]
    first = reaches[reaches["step_id"] == 11].iloc[0]
    assert first["climbed_at"] == NOW - 20 * DAY
    assert first["days_to_climb"] == 30
    assert pd.isna(reaches[reaches["step_id"] == 12].iloc[0]["climbed_at"])


def test_reached_at_is_the_first_purchase_and_revenue_adds_up():
    reaches, positions = run(
        lines(
            (1, 101, NOW - 50 * DAY, 1, 10.0, 0), (1, 101, NOW - 10 * DAY, 2, 20.0, 0)
        )
    )
    assert positions["reached_at"].tolist() == [NOW - 50 * DAY]
    assert reaches["revenue"].tolist() == [30.0]


def test_a_customer_is_stalled_after_the_configured_time_without_a_climb():
    _, positions = run(lines((1, 101, NOW - 91 * DAY, 1, 10.0, 0)), stall_days=90)
    assert positions["stalled"].tolist() == [True]
    _, positions = run(lines((1, 101, NOW - 89 * DAY, 1, 10.0, 0)), stall_days=90)
    assert positions["stalled"].tolist() == [False]


def test_the_top_step_is_never_stalled():
    _, positions = run(lines((1, 103, NOW - 400 * DAY, 1, 10.0, 0)))
    assert positions["stalled"].tolist() == [False]


def test_a_running_subscription_counts_and_an_expired_one_does_not():
    running = lines(
        (1, 101, NOW - 90 * DAY, 1, 10.0, 0), (1, 102, NOW - 10 * DAY, 1, 35.0, 1)
    )
    _, positions = run(running)
    assert positions["step_id"].tolist() == [12]
    expired = lines(
        (1, 101, NOW - 90 * DAY, 1, 10.0, 0), (1, 102, NOW - 40 * DAY, 1, 35.0, 1)
    )
    reaches, positions = run(expired)
    assert positions["step_id"].tolist() == [11]
    # The climb happened, even if the subscription has lapsed since.
    assert 12 in reaches["step_id"].tolist()


def test_a_subscription_bought_for_several_months_runs_for_all_of_them():
    frame = lines((1, 102, NOW - 2 * SECONDS_PER_MONTH - DAY, 3, 105.0, 1))
    _, positions = run(frame)
    assert positions["step_id"].tolist() == [12]


def test_buying_the_higher_step_first_counts_as_a_climb_at_once():
    reaches, _ = run(
        lines(
            (1, 102, NOW - 50 * DAY, 1, 20.0, 0), (1, 101, NOW - 10 * DAY, 1, 10.0, 0)
        )
    )
    lower = reaches[reaches["step_id"] == 11].iloc[0]
    assert lower["days_to_climb"] == 0


def test_customers_with_no_step_product_have_no_position():
    reaches, positions = run(lines((1, 999, NOW, 1, 10.0, 0)))
    assert reaches.empty and positions.empty


def test_median_from_a_histogram():
    assert median_from_histogram([10, 20, 30], [1, 1, 1]) == 20
    assert median_from_histogram([10, 20], [1, 1]) == 15
    assert median_from_histogram([5, 40], [3, 1]) == 5
    assert median_from_histogram([], []) is None
