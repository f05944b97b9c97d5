"""The sending pipeline: Send rows as an outbox, claimed in batches, sent once.

Order of events for one e-mail or SMS (MKT-01, CEL-04, CEL-05):

1. ``create_sends`` writes one ``pending`` row per treated audience member in
   one INSERT … SELECT; the unique constraint makes a repeat a no-op.
2. After commit, ``publish_pending`` queues one ``campaigns.send_batch`` task
   per batch of ids. If the broker is down the rows simply stay pending and
   the sweeper publishes them later: the launch itself never fails on it.
3. ``claim_batch`` locks the batch's rows (``skip_locked``: a duplicate task
   running beside this one takes none of them), checks consent, opt-out,
   suppression, quiet hours and the frequency cap at send time, and commits
   ``claimed`` (or skipped / deferred with the reason).
4. ``deliver_claimed`` hands the claimed rows off in groups of
   ``CAMPAIGNS_SEND_HANDOFF_GROUP`` (k). One UPDATE moves a group
   ``claimed → sending``, re-checking consent, and commits durably; only the
   rows it returned are then given to the provider (one SMTP session for the
   batch), and the group's outcomes are recorded in bulk afterwards. Exactly
   one process wins each row in that UPDATE, so a message is handed off at
   most once. A row found ``sending`` after a crash becomes ``unknown`` and
   is never resent: SMTP cannot be exactly-once, and a second message is
   worse than a missing one. A worker killed mid-group leaves that group's
   rows ``sending``, handed off or not, so a kill costs at most k unknown
   rows per killed worker (k = 1 would be one durable commit per message).
   The consent re-check is one UPDATE per group: an opt-out landing while
   the group's k messages are being handed off (milliseconds) is not seen.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import partial

from celery.exceptions import Retry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from campaigns.backends import (
    PermanentSendError,
    SmsMessage,
    TransientSendError,
    get_sms_backend,
)
from campaigns.models import Campaign, Send
from campaigns.sending.email import EmailBuilder, build_sms_text
from campaigns.sending.quiet import is_quiet_at, parse_clock, quiet_hours_end
from campaigns.sms import check_sms_length
from crm.bulk import relax_commit_durability
from crm.models import Channel, ChannelConsent, Suppression
from crm.models.suppression import contact_digest, contact_for_channel

logger = logging.getLogger(__name__)

#: Rows a batch task may (re)claim. A claimed row can be claimed again by a
#: redelivered or duplicated task: the claimed → sending UPDATE decides.
CLAIMABLE = (Send.Status.PENDING, Send.Status.CLAIMED, Send.Status.DEFERRED)
#: Rows that are, or may have become, a message: they count towards the cap.
COUNTS_FOR_CAP = (
    Send.Status.CLAIMED,
    Send.Status.SENDING,
    Send.Status.SENT,
    Send.Status.UNKNOWN,
)
#: Still to settle: a campaign is done when none of its rows is in these.
OPEN = (
    Send.Status.PENDING,
    Send.Status.CLAIMED,
    Send.Status.SENDING,
    Send.Status.DEFERRED,
)
PROVIDER_CHANNELS = (Channel.EMAIL, Channel.SMS)
CONSENT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)
QUIET_CHANNELS = (Channel.EMAIL, Channel.SMS)
# First key of pg_advisory_xact_lock(int, int): "frequency cap, per customer".
CAP_LOCK_KEY = 7_001


# --- 1–2: rows and publishing -------------------------------------------------


def create_sends(*, campaign_id: int, now: dt.datetime | None = None) -> int:
    """Write a pending Send for every treated (non-control) audience member.

    One INSERT … SELECT, so 100,000 rows take a second, not a minute; ON
    CONFLICT DO NOTHING makes it idempotent. Returns the rows inserted.
    """
    from campaigns.models import AudienceMember

    campaign = Campaign.objects.only("channel").get(pk=campaign_id)
    now = now or timezone.now()
    send_table = Send._meta.db_table
    member_table = AudienceMember._meta.db_table
    sql = f"""
        INSERT INTO {send_table} (
            campaign_id, customer_id, variant_id, channel, status, skip_reason,
            attempts, last_error, provider_message_id, queued_at,
            call_outcome, call_notes
        )
        SELECT m.campaign_id, m.customer_id, m.variant_id, %s, %s, '',
               0, '', '', %s, '', ''
        FROM {member_table} m
        WHERE m.campaign_id = %s AND m.variant_id IS NOT NULL
        ON CONFLICT DO NOTHING
    """  # noqa: S608 - table names come from model metadata, values are params
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                campaign.channel,
                Send.Status.PENDING,
                connection.ops.adapt_datetimefield_value(now),
                campaign_id,
            ],
        )
        return cursor.rowcount


def _chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def publish_batches(*, campaign_id: int, send_ids: Sequence[int]) -> int:
    """Queue ``campaigns.send_batch`` tasks for ``send_ids``; returns tasks queued.

    A broker that cannot be reached is logged, not raised: the rows are the
    outbox and the sweeper publishes them again (CEL-04).
    """
    from campaigns.tasks import send_batch_task

    published = 0
    for chunk in _chunks(send_ids, settings.CAMPAIGNS_SEND_BATCH_SIZE):
        try:
            send_batch_task.apply_async(
                (campaign_id, chunk),
                retry=True,
                retry_policy={
                    "max_retries": 1,
                    "interval_start": 0,
                    "interval_step": 0.5,
                    "interval_max": 0.5,
                },
            )
        except (BrokerError, OSError) as exc:
            logger.warning(
                "broker unreachable; %s sends of campaign %s stay pending for "
                "the sweeper: %s",
                len(send_ids) - published * settings.CAMPAIGNS_SEND_BATCH_SIZE,
                campaign_id,
                exc,
            )
            break
        except Retry:
            # Eager mode (no broker): the task ran inline and already retried.
            pass
        published += 1
    return published


def publish_pending(*, campaign_id: int) -> int:
    """Queue every pending row of a sending campaign; returns tasks queued."""
    ids = list(
        Send.objects.filter(
            campaign_id=campaign_id,
            status=Send.Status.PENDING,
            campaign__status=Campaign.Status.SENDING,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return publish_batches(campaign_id=campaign_id, send_ids=ids)


def queue_sends(campaign: Campaign) -> int:
    """Write the campaign's Send rows and, once committed, queue them.

    Called by ``launch_campaign`` inside its transaction. A scheduled
    campaign gets its rows now and is published by the sweeper when due
    (CEL-02: no long ETA on the broker).
    """
    created = create_sends(campaign_id=campaign.pk)
    if campaign.status == Campaign.Status.SENDING:
        transaction.on_commit(partial(publish_pending, campaign_id=campaign.pk))
    return created


# --- 3: claiming a batch --------------------------------------------------------


def _quiet_hours(campaign: Campaign) -> tuple[dt.time, dt.time]:
    if campaign.quiet_hours_start is not None and campaign.quiet_hours_end:
        return campaign.quiet_hours_start, campaign.quiet_hours_end
    start, end = settings.CAMPAIGNS_QUIET_HOURS
    return parse_clock(start), parse_clock(end)


def _lock_customers_for_cap(customer_ids: Iterable[int]) -> None:
    """Serialise cap decisions per customer across concurrent campaigns (MKT-03).

    Transaction-scoped advisory locks, taken in id order so two batches over
    the same customers cannot deadlock. SQLite serialises writers anyway.
    """
    ids = sorted({pk % 2**31 for pk in customer_ids})
    if connection.vendor != "postgresql" or not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, c)) "
            "FROM (SELECT unnest(%s::int[]) AS c ORDER BY 1) AS ids",
            [CAP_LOCK_KEY, ids],
        )


def _recent_counts(
    *, customer_ids: list[int], channel: str, campaign_id: int, now: dt.datetime
) -> dict[int, int]:
    since = now - dt.timedelta(days=settings.CAMPAIGNS_FREQUENCY_WINDOW_DAYS)
    rows = (
        Send.objects.filter(
            customer_id__in=customer_ids,
            channel=channel,
            status__in=COUNTS_FOR_CAP,
            claimed_at__gte=since,
        )
        .exclude(campaign_id=campaign_id)
        .values("customer_id")
        .annotate(n=Count("pk"))
    )
    return {row["customer_id"]: row["n"] for row in rows}


def _decide(
    sends: list[Send],
    *,
    campaign: Campaign,
    now: dt.datetime,
    resume: dict[int, dt.datetime],
) -> dict[tuple[str, str], list[int]]:
    """Group the batch's rows by outcome: ``(status, skip_reason) -> [ids]``.

    Fills ``resume`` with the end of quiet hours of each deferred row.
    """
    channel = campaign.channel
    outcome: dict[tuple[str, str], list[int]] = defaultdict(list)
    if channel not in CONSENT_CHANNELS:
        # In-store prompts and checkout offers reach a customer who is there.
        outcome[(Send.Status.SENT, "")] = [send.pk for send in sends]
        return outcome
    customer_ids = [send.customer_id for send in sends]
    consents = {
        customer_id: (granted, changed_at)
        for customer_id, granted, changed_at in ChannelConsent.objects.filter(
            customer_id__in=customer_ids, channel=channel
        ).values_list("customer_id", "granted", "changed_at")
    }
    contacts = {
        send.pk: contact_for_channel(
            email=send.customer.email, phone=send.customer.phone, channel=channel
        )
        for send in sends
    }
    digests = {pk: contact_digest(value) for pk, value in contacts.items() if value}
    suppressed = {
        digest: (reason, created_at)
        for digest, reason, created_at in Suppression.objects.filter(
            channel=channel, digest__in=set(digests.values())
        ).values_list("digest", "reason", "created_at")
    }
    start, end = _quiet_hours(campaign)
    fallback_zone = (
        campaign.store.time_zone if campaign.store_id else settings.TIME_ZONE
    )

    def zone_of(send: Send) -> str:
        home = send.customer.home_store
        return home.time_zone if home is not None else fallback_zone

    candidates: list[Send] = []
    for send in sends:
        consent = consents.get(send.customer_id)
        suppression = suppressed.get(digests.get(send.pk, ""))
        if consent is None:
            outcome[(Send.Status.SKIPPED, Send.SkipReason.NO_CONSENT)].append(send.pk)
        elif not consent[0]:
            outcome[(Send.Status.SKIPPED, Send.SkipReason.OPTED_OUT)].append(send.pk)
        elif not contacts[send.pk]:
            outcome[(Send.Status.SKIPPED, Send.SkipReason.NO_ADDRESS)].append(send.pk)
        elif suppression and suppression[0] == Suppression.Reason.BOUNCED:
            outcome[(Send.Status.SKIPPED, Send.SkipReason.BOUNCED)].append(send.pk)
        elif suppression and suppression[1] >= consent[1]:
            outcome[(Send.Status.SKIPPED, Send.SkipReason.SUPPRESSED)].append(send.pk)
        elif channel in QUIET_CHANNELS and is_quiet_at(
            now, time_zone=zone_of(send), start=start, end=end
        ):
            outcome[(Send.Status.DEFERRED, Send.SkipReason.QUIET_HOURS)].append(send.pk)
            resume[send.pk] = quiet_hours_end(now, time_zone=zone_of(send), end=end)
        else:
            candidates.append(send)
    if candidates:
        _lock_customers_for_cap(send.customer_id for send in candidates)
        counts = _recent_counts(
            customer_ids=[send.customer_id for send in candidates],
            channel=channel,
            campaign_id=campaign.pk,
            now=now,
        )
        cap = settings.CAMPAIGNS_FREQUENCY_CAP
        # Calls go straight onto the call list: that is their hand-off.
        passed = Send.Status.SENT if channel == Channel.PHONE else Send.Status.CLAIMED
        for send in candidates:
            if counts.get(send.customer_id, 0) >= cap:
                outcome[(Send.Status.SKIPPED, Send.SkipReason.FREQUENCY_CAP)].append(
                    send.pk
                )
            else:
                outcome[(passed, "")].append(send.pk)
    return outcome


#: What claiming and handing off read of a send, its customer and home store.
_SEND_FIELDS = (
    "id",
    "campaign_id",
    "customer_id",
    "variant_id",
    "channel",
    "status",
    "attempts",
    "customer__id",
    "customer__email",
    "customer__phone",
    "customer__first_name",
    "customer__last_name",
    "customer__home_store_id",
    "customer__home_store__id",
    "customer__home_store__name",
    "customer__home_store__time_zone",
)


def claim_batch(
    *, campaign_id: int, send_ids: Sequence[int], now: dt.datetime | None = None
) -> list[int]:
    """Check and claim a batch; returns the ids now ``claimed`` for a provider.

    Rows another transaction holds are skipped (``skip_locked``), rows already
    settled are ignored, so running the same batch twice, or two copies at
    once, claims each row for one of them at a time.
    """
    claimed = _claim_sends(campaign_id=campaign_id, send_ids=send_ids, now=now)
    return [send.pk for send in claimed]


@transaction.atomic
def _claim_sends(
    *, campaign_id: int, send_ids: Sequence[int], now: dt.datetime | None = None
) -> list[Send]:
    """``claim_batch``, returning the claimed rows, their customers loaded."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_related("store").get(pk=campaign_id)
    if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        return []
    ids = list(send_ids)
    if campaign.status == Campaign.Status.CANCELLED:
        Send.objects.filter(pk__in=ids, status__in=CLAIMABLE).update(
            status=Send.Status.SKIPPED, skip_reason=Send.SkipReason.CANCELLED
        )
        return []
    # Found by id alone, their status checked here: with the status in the
    # WHERE clause PostgreSQL may AND in the status index, whose entries for
    # a large send (live and dead) cost far more to scan than the batch's own
    # rows. Settled rows stay locked for this short transaction, untouched.
    locked = (
        Send.objects.filter(pk__in=ids)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("customer__home_store")
        .only(*_SEND_FIELDS)
        .order_by("pk")
    )
    sends = [send for send in locked if send.status in CLAIMABLE]
    if not sends:
        return []
    claimed: list[int] = []
    resume: dict[int, dt.datetime] = {}
    decided = _decide(sends, campaign=campaign, now=now, resume=resume)
    for (status, reason), ids in decided.items():
        fields: dict = {"status": status, "skip_reason": reason}
        if status == Send.Status.CLAIMED:
            fields.update(claimed_at=now, last_error="")
            claimed.extend(ids)
        elif status == Send.Status.SENT:
            fields.update(claimed_at=now, sent_at=now)
        elif status == Send.Status.DEFERRED:
            # A deferred row's queued_at is when its quiet hours end: the
            # sweeper publishes it again from then on (CEL-02: no broker ETA).
            by_time: dict[dt.datetime, list[int]] = defaultdict(list)
            for pk in ids:
                by_time[resume[pk]].append(pk)
            for when, pks in by_time.items():
                Send.objects.filter(pk__in=pks).update(**fields, queued_at=when)
            continue
        Send.objects.filter(pk__in=ids).update(**fields)
    claimed_ids = set(claimed)
    return [send for send in sends if send.pk in claimed_ids]


# --- 4: handing off, a group at a time ------------------------------------------

SENT, SKIPPED, FAILED, RETRY = "sent", "skipped", "failed", "retry"


def _is_permanent(exc: BaseException) -> bool:
    """SMTP 5xx and provider refusals are permanent; the rest may pass later."""
    if isinstance(exc, PermanentSendError | ValidationError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


class _Delivery:
    """Provider connections and per-campaign values shared by one batch."""

    def __init__(self, campaign: Campaign) -> None:
        from campaigns.services import campaign_message_values

        self.campaign = campaign
        self.values = campaign_message_values(campaign)
        self._smtp = None
        self._sms = None
        self._emails: EmailBuilder | None = None

    def smtp(self):
        # Opened here, so the batch's messages share one SMTP session: an
        # unopened backend connects and quits around every message.
        if self._smtp is None:
            smtp = get_connection(fail_silently=False)
            smtp.open()
            self._smtp = smtp
        return self._smtp

    def sms(self):
        if self._sms is None:
            self._sms = get_sms_backend()
        return self._sms

    def emails(self) -> EmailBuilder:
        if self._emails is None:
            self._emails = EmailBuilder()
        return self._emails

    def reset_smtp(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except Exception:  # a broken session: drop it and reconnect
                logger.debug("closing a failed SMTP session", exc_info=True)
            self._smtp = None

    def close(self) -> None:
        self.reset_smtp()


def _hand_off(send: Send, delivery: _Delivery) -> str:
    """Render and give one message to its provider; returns the provider id."""
    from campaigns.messages import render_message
    from campaigns.services import customer_message_values

    values = customer_message_values(delivery.values, send.customer)
    message = render_message(
        subject=send.variant.subject, body=send.variant.body, values=values
    )
    if send.channel == Channel.EMAIL:
        email = delivery.emails().build(
            send_id=send.pk,
            customer_id=send.customer_id,
            to=send.customer.email,
            subject=message.subject,
            body=message.body,
            connection=delivery.smtp(),
        )
        email.send(fail_silently=False)
        return email.extra_headers["Message-ID"]
    text = build_sms_text(message.body)
    check_sms_length(text)
    return delivery.sms().send(
        SmsMessage(
            send_id=send.pk,
            to=send.customer.phone,
            body=text,
            sender=settings.CAMPAIGNS_SMS_SENDER,
        )
    )


def mark_sending(send_ids: Sequence[int]) -> dict[int, int]:
    """Move ``send_ids`` from claimed to sending where consent is still granted.

    One UPDATE … RETURNING, committed (durably) before any of them is handed
    off: the ids it returns belong to this process, and no other process can
    move them again. Returns those ids with their attempt count (this one
    included). Run it outside ``transaction.atomic``.
    """
    if not send_ids:
        return {}
    quote = connection.ops.quote_name
    sends = quote(Send._meta.db_table)
    consents = quote(ChannelConsent._meta.db_table)
    if connection.vendor == "postgresql":
        # Joined to the ids rather than "id = ANY(…) AND status = …": that
        # form lets the planner AND in the status index, whose "claimed"
        # entries pile up (dead) during a large send and cost more to scan
        # than the pk lookups themselves.
        wanted, match, ids_params = (
            "FROM unnest(%s::bigint[]) AS wanted(id)",
            f"{sends}.id = wanted.id",
            [list(send_ids)],
        )
    else:
        wanted, match, ids_params = (
            "",
            f"{sends}.id IN ({', '.join(['%s'] * len(send_ids))})",
            list(send_ids),
        )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = f"""
        UPDATE {sends} SET status = %s, claimed_at = %s, attempts = attempts + 1
        {wanted}
        WHERE {match} AND {sends}.status = %s AND EXISTS (
            SELECT 1 FROM {consents} AS consent
            WHERE consent.customer_id = {sends}.customer_id
              AND consent.channel = {sends}.channel
              AND consent.granted = %s
        )
        RETURNING {sends}.id, {sends}.attempts
    """  # noqa: S608 - table names come from model metadata, values are params
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [Send.Status.SENDING, now, *ids_params, Send.Status.CLAIMED, True],
        )
        return dict(cursor.fetchall())


def _skip_withdrawn(send_ids: Sequence[int]) -> None:
    """Skip the rows still claimed whose consent is gone (PRIV-02).

    A row ``mark_sending`` did not take is either another worker's or lost
    its consent since the claim; only the second kind is still claimed and
    without consent here.
    """
    granted = ChannelConsent.objects.filter(
        customer_id=OuterRef("customer_id"), channel=OuterRef("channel"), granted=True
    )
    Send.objects.filter(pk__in=list(send_ids), status=Send.Status.CLAIMED).exclude(
        Exists(granted)
    ).update(status=Send.Status.SKIPPED, skip_reason=Send.SkipReason.OPTED_OUT)


def _release(send_ids: Sequence[int]) -> None:
    """Give rows marked sending but never tried back to the claimed state."""
    if send_ids:
        Send.objects.filter(pk__in=list(send_ids), status=Send.Status.SENDING).update(
            status=Send.Status.CLAIMED, attempts=F("attempts") - 1
        )


def _record_sent(sent: Sequence[tuple[int, str, dt.datetime]]) -> None:
    """Mark ``(send id, provider message id, sent at)`` rows sent, in one statement.

    The transaction may be acknowledged before its WAL is flushed: if the
    database itself crashed in the following fraction of a second, the rows
    would fall back to "sending" and be reported unknown, never resent. The
    "sending" mark, which is what prevents a second message, stays durable.
    """
    if not sent:
        return
    table = connection.ops.quote_name(Send._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        relax_commit_durability()
        if connection.vendor == "postgresql":
            ids, provider_ids, times = (
                list(column) for column in zip(*sent, strict=True)
            )
            cursor.execute(
                f"""
                UPDATE {table} AS s
                SET status = %s, sent_at = v.sent_at,
                    provider_message_id = v.provider_message_id, last_error = ''
                FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[])
                    AS v(id, provider_message_id, sent_at)
                WHERE s.id = v.id
                """,  # noqa: S608 - the table name comes from model metadata
                [Send.Status.SENT, ids, provider_ids, times],
            )
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"UPDATE {table} SET status = %s, sent_at = %s, "  # noqa: S608
                "provider_message_id = %s, last_error = '' WHERE id = %s",
                [
                    (Send.Status.SENT, adapt(when), provider_id, pk)
                    for pk, provider_id, when in sent
                ],
            )


def _deliver_one(
    send: Send, delivery: _Delivery, sent: list[tuple[int, str, dt.datetime]]
) -> str:
    """Hand off one row this process moved to sending; returns the outcome.

    Success is appended to ``sent`` (recorded with the group); a failure is
    recorded at once: a transient one puts the row back to pending for a
    later batch, a permanent one (or the last retry) fails it.
    """
    try:
        provider_id = _hand_off(send, delivery)
    except Exception as exc:
        if send.channel == Channel.EMAIL:
            delivery.reset_smtp()
        error = f"{type(exc).__name__}: {exc}"[:500]
        if _is_permanent(exc):
            _fail(send, error, bounced=isinstance(exc, smtplib.SMTPException))
            return FAILED
        if not isinstance(exc, TransientSendError | smtplib.SMTPException | OSError):
            # An unexpected error after the hand-off may have started: the
            # row stays "sending" and the sweeper reports it as unknown.
            logger.exception("send %s: unexpected error during hand-off", send.pk)
            raise
        if send.attempts >= settings.CAMPAIGNS_SEND_MAX_RETRIES:
            _fail(send, error, bounced=False)
            return FAILED
        Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(
            status=Send.Status.PENDING, last_error=error
        )
        return RETRY
    sent.append((send.pk, str(provider_id)[:200], timezone.now()))
    return SENT


def deliver_group(*, sends: Sequence[Send], delivery: _Delivery) -> dict[int, str]:
    """Hand a group of claimed sends to their provider, each at most once.

    ``mark_sending`` takes the rows that are still claimed and still have
    consent (PRIV-02) in one committed UPDATE; the rest that are still
    claimed lost their consent and are skipped. The rows taken are handed
    off in id order and the sent ones recorded together at the end. If an
    unexpected exception stops the group, the rows already sent are still
    recorded, the one in flight stays "sending" (unknown: it may have left)
    and the ones never tried go back to claimed for a later batch. Returns
    each row's outcome (SKIPPED for rows not taken).
    """
    attempts = mark_sending([send.pk for send in sends])
    outcomes: dict[int, str] = {}
    lost = [send.pk for send in sends if send.pk not in attempts]
    if lost:
        _skip_withdrawn(lost)
        outcomes.update(dict.fromkeys(lost, SKIPPED))
    won = [send for send in sends if send.pk in attempts]
    sent: list[tuple[int, str, dt.datetime]] = []
    tried = 0
    try:
        for send in won:
            tried += 1
            send.attempts = attempts[send.pk]
            outcomes[send.pk] = _deliver_one(send, delivery, sent)
    except BaseException:
        try:
            _record_sent(sent)
            _release([send.pk for send in won[tried:]])
        except Exception:  # keep the original error; these rows end unknown
            logger.exception("could not settle a send group after an error")
        raise
    _record_sent(sent)
    return outcomes


def _fail(send: Send, error: str, *, bounced: bool) -> None:
    Send.objects.filter(pk=send.pk).update(status=Send.Status.FAILED, last_error=error)
    if send.channel == Channel.EMAIL and bounced:
        # A hard bounce: the address is flagged and skipped from now on.
        Suppression.objects.record(
            channel=Channel.EMAIL,
            contact=send.customer.email,
            reason=Suppression.Reason.BOUNCED,
        )


def deliver_claimed(*, campaign_id: int, send_ids: Sequence[int]) -> int:
    """Hand claimed sends off in groups of ``CAMPAIGNS_SEND_HANDOFF_GROUP``.

    Returns how many wait for a retry (back to pending after a transient
    error). Rows no longer claimed are left alone.
    """
    sends = list(
        Send.objects.filter(pk__in=list(send_ids))
        .select_related("customer__home_store")
        .only(*_SEND_FIELDS)
        .order_by("pk")
    )
    return _deliver(campaign_id=campaign_id, sends=sends)


def _deliver(*, campaign_id: int, sends: list[Send]) -> int:
    if not sends:
        return 0
    from campaigns.models import Variant

    campaign = Campaign.objects.select_related(
        "store", "offer_product", "offer_step"
    ).get(pk=campaign_id)
    # One Variant object per variant, not one per row.
    variants = Variant.objects.in_bulk({send.variant_id for send in sends})
    for send in sends:
        send.variant = variants.get(send.variant_id)
    size = max(1, settings.CAMPAIGNS_SEND_HANDOFF_GROUP)
    delivery = _Delivery(campaign)
    retry = 0
    try:
        for start in range(0, len(sends), size):
            group = sends[start : start + size]
            outcomes = deliver_group(sends=group, delivery=delivery)
            retry += sum(1 for outcome in outcomes.values() if outcome == RETRY)
    finally:
        delivery.close()
    return retry


def process_batch(*, campaign_id: int, send_ids: Sequence[int]) -> int:
    """Claim and deliver one batch; returns how many sends wait for a retry."""
    claimed = _claim_sends(campaign_id=campaign_id, send_ids=send_ids)
    # The rows loaded to claim them are the ones handed off: their customer
    # and home store are already there.
    retry = _deliver(campaign_id=campaign_id, sends=claimed)
    finish_if_settled(campaign_id=campaign_id)
    return retry


def finish_if_settled(*, campaign_id: int) -> bool:
    """Mark a sending campaign done once none of its rows is open."""
    from campaigns.services import finish_campaign

    if Send.objects.filter(campaign_id=campaign_id, status__in=OPEN).exists():
        return False
    campaign = Campaign.objects.filter(
        pk=campaign_id, status=Campaign.Status.SENDING
    ).first()
    if campaign is None:
        return False
    finish_campaign(campaign=campaign)
    return True


# --- The sweeper (beat) ------------------------------------------------------------


def sweep_sends(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Keep the outbox moving (CEL-04); safe to run any number of times.

    * scheduled campaigns whose time has come start sending;
    * rows left ``sending`` past ``CAMPAIGNS_SEND_STUCK_AFTER`` become
      ``unknown`` — handed off or not, nobody can tell, so never resent;
    * ``pending``/``claimed``/``deferred`` rows untouched for
      ``CAMPAIGNS_SEND_REQUEUE_AFTER`` are published again (a lost task, a
      broker that was down, quiet hours that may be over);
    * cancelled campaigns' open rows are skipped; settled campaigns finish.
    """
    now = now or timezone.now()
    stats = {"started": 0, "unknown": 0, "requeued": 0, "finished": 0}
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, schedule_at__lte=now
    ).values_list("pk", flat=True)
    for campaign_id in list(due):
        if Campaign.objects.filter(
            pk=campaign_id, status=Campaign.Status.SCHEDULED
        ).update(status=Campaign.Status.SENDING, updated_at=now):
            stats["started"] += 1
            publish_pending(campaign_id=campaign_id)
    stats["unknown"] = Send.objects.filter(
        status=Send.Status.SENDING,
        claimed_at__lt=now - settings.CAMPAIGNS_SEND_STUCK_AFTER,
    ).update(
        status=Send.Status.UNKNOWN,
        last_error="the worker stopped after handing the message off",
    )
    Send.objects.filter(
        campaign__status=Campaign.Status.CANCELLED, status__in=CLAIMABLE
    ).update(status=Send.Status.SKIPPED, skip_reason=Send.SkipReason.CANCELLED)
    stale = now - settings.CAMPAIGNS_SEND_REQUEUE_AFTER
    waiting = (
        Send.objects.filter(campaign__status=Campaign.Status.SENDING)
        .filter(
            Q(status=Send.Status.PENDING, queued_at__lte=stale)
            | Q(status=Send.Status.DEFERRED, queued_at__lte=now)
            | Q(status=Send.Status.CLAIMED, claimed_at__lte=stale)
        )
        .order_by()
        .values_list("campaign_id", "pk")
    )
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for campaign_id, pk in waiting:
        by_campaign[campaign_id].append(pk)
    for campaign_id, ids in by_campaign.items():
        ids.sort()
        for chunk in _chunks(ids, 5000):
            Send.objects.filter(pk__in=chunk).exclude(
                status=Send.Status.DEFERRED
            ).update(queued_at=now)
        publish_batches(campaign_id=campaign_id, send_ids=ids)
        stats["requeued"] += len(ids)
    for campaign_id in Campaign.objects.filter(
        status=Campaign.Status.SENDING
    ).values_list("pk", flat=True):
        stats["finished"] += finish_if_settled(campaign_id=campaign_id)
    return stats
