"""Runs of the recommendation engine and what they produce.

A nightly ``RecommendationRun`` mines ``AssociationRule`` rows, scores
customers (``CustomerScore``) and writes ``Suggestion`` rows in customer
shards (``RecommendationShard``). The rows a run writes stay invisible until
the run completes and becomes the current one (``is_current``), so a failed
or killed run never leaves half a night's suggestions on the pages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RecommendationRun(models.Model):
    """One full recompute: parameters, counts, timings, status and progress.

    At most one run is pending or running at a time (a partial unique
    constraint on ``scope``), so two runs never interleave. Exactly one
    completed run is current; its suggestions are the ones pages show.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")
        DEMO = "demo", _("Demo")

    scope = models.CharField(_("scope"), max_length=20, default="all")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    trigger = models.CharField(
        _("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL
    )
    is_current = models.BooleanField(_("current"), default=False)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    shards_total = models.PositiveIntegerField(_("shards"), default=0)
    shards_done = models.PositiveIntegerField(_("shards done"), default=0)
    customers_count = models.PositiveIntegerField(_("customers"), default=0)
    order_lines_count = models.PositiveIntegerField(_("order lines"), default=0)
    rules_count = models.PositiveIntegerField(_("rules"), default=0)
    suggestions_count = models.PositiveIntegerField(_("suggestions"), default=0)
    timings = models.JSONField(_("timings (s)"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Last time the prepare task was published or started (see the shard's).
    touched_at = models.DateTimeField(_("touched"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("recommendation run")
        verbose_name_plural = _("recommendation runs")
        constraints = [
            models.UniqueConstraint(
                fields=["scope"],
                condition=Q(status__in=["pending", "running"]),
                name="recommendation_run_one_active",
            ),
            models.UniqueConstraint(
                fields=["scope"],
                condition=Q(is_current=True),
                name="recommendation_run_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} {self.status}"

    @property
    def duration(self) -> float | None:
        """Wall seconds from start to finish, None while unfinished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def progress(self) -> int:
        """Shards done as a whole percentage (0 before the shards start)."""
        if not self.shards_total:
            return 100 if self.status == self.Status.COMPLETED else 0
        return round(100 * self.shards_done / self.shards_total)


class RecommendationShard(models.Model):
    """One slice of a run's customers, ``customer_id`` in [first, last].

    A shard task writes the slice's suggestions and marks the shard done in
    one transaction; ``attempts`` counts deliveries (poison guard).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(
        RecommendationRun, on_delete=models.CASCADE, related_name="shards"
    )
    index = models.PositiveIntegerField(_("index"))
    first_customer_id = models.BigIntegerField()
    last_customer_id = models.BigIntegerField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Last time the shard task was published or started a delivery: a pending
    # shard untouched past RECOMMENDATIONS_SHARD_TIMEOUT_SECONDS is re-published
    # by the sweeper (its worker died; Redis would wait for the visibility
    # timeout).
    touched_at = models.DateTimeField(_("touched"), default=timezone.now)
    customers_count = models.PositiveIntegerField(default=0)
    suggestions_count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "index"]
        verbose_name = _("recommendation shard")
        verbose_name_plural = _("recommendation shards")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "index"], name="recommendation_shard_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.index} {self.status}"


class AssociationRule(models.Model):
    """A mined rule ``antecedents -> consequent`` of one run (product ids)."""

    run = models.ForeignKey(
        RecommendationRun, on_delete=models.CASCADE, related_name="rules"
    )
    antecedents = models.JSONField(_("antecedents"))
    consequent = models.ForeignKey(
        "crm.Product", on_delete=models.CASCADE, related_name="+"
    )
    support = models.FloatField(_("support"))
    confidence = models.FloatField(_("confidence"))
    lift = models.FloatField(_("lift"))
    count = models.PositiveIntegerField(_("baskets"), default=0)

    class Meta:
        ordering = ["run", "-confidence", "-lift"]
        verbose_name = _("association rule")
        verbose_name_plural = _("association rules")

    def __str__(self) -> str:
        return f"{self.antecedents} -> {self.consequent_id}"


class CustomerScore(models.Model):
    """A customer's eligibility for offers as scored by one run."""

    class Eligibility(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible")
        DOWNGRADED = "downgraded", _("Downgraded")
        EXCLUDED = "excluded", _("Excluded")

    # No index of its own: the (run, customer) unique constraint serves it, and
    # every index slows the run's bulk writes.
    run = models.ForeignKey(
        RecommendationRun,
        on_delete=models.CASCADE,
        related_name="scores",
        db_index=False,
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="recommendation_scores"
    )
    orders = models.PositiveIntegerField(default=0)
    return_rate = models.FloatField(default=0.0)
    cancellation_rate = models.FloatField(default=0.0)
    value = models.FloatField(default=0.0)
    net_margin = models.FloatField(default=0.0)
    eligibility = models.CharField(
        _("eligibility"), max_length=10, choices=Eligibility.choices
    )
    reason_code = models.CharField(max_length=40, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer"], name="customer_score_unique_per_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.eligibility}"


class Suggestion(models.Model):
    """One offer to one customer: a product (or a ladder step) and why.

    Lifecycle: new -> shown -> accepted / declined -> converted / expired.
    Rows of a run that has not completed are invisible (the selectors read
    the current run's rows only); rows written by a per-customer recompute
    belong to the current run too.
    """

    class Kind(models.TextChoices):
        UPSELL = "upsell", _("Upsell")
        CROSS_SELL = "cross_sell", _("Cross-sell")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        SHOWN = "shown", _("Shown")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        CONVERTED = "converted", _("Converted")
        EXPIRED = "expired", _("Expired")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        PHONE = "phone", _("Phone")
        IN_STORE = "in_store", _("In store")
        CHECKOUT = "checkout", _("Checkout")

    # run and customer: no single-column index, the (run, status) and
    # (customer, status) indexes serve them; every index slows a run's writes.
    run = models.ForeignKey(
        RecommendationRun,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="suggestions",
        db_index=False,
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="suggestions",
        db_index=False,
    )
    product = models.ForeignKey(
        "crm.Product", on_delete=models.CASCADE, related_name="suggestions"
    )
    # step and decided_by are mostly NULL: partial indexes (Meta) serve the
    # SET NULL on delete without an entry per suggestion.
    step = models.ForeignKey(
        "ladder.Step",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggestions",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=20, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)
    score = models.FloatField(_("score"), default=0.0)
    probability = models.FloatField(_("probability"), default=0.0)
    margin = models.FloatField(_("margin"), default=0.0)
    expected_value = models.FloatField(_("expected value"), default=0.0)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    reason_code = models.CharField(_("reason code"), max_length=40)
    reason_params = models.JSONField(_("reason parameters"), default=dict)
    reason = models.CharField(_("reason"), max_length=500)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    converted_order_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["customer", "rank", "id"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        indexes = [
            models.Index(fields=["customer", "status"], name="suggestion_customer_idx"),
            models.Index(fields=["run", "status"], name="suggestion_run_idx"),
            models.Index(
                fields=["status", "kind", "channel"], name="suggestion_report_idx"
            ),
            models.Index(
                fields=["step"],
                condition=Q(step__isnull=False),
                name="suggestion_step_idx",
            ),
            models.Index(
                fields=["decided_by"],
                condition=Q(decided_by__isnull=False),
                name="suggestion_decided_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.product_id} {self.status}"


# Named for the OpenAPI schema (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]):
# suggestion channels are a subset of crm's, so they get their own enum.
SUGGESTION_CHANNEL_CHOICES = Suggestion.Channel.choices
