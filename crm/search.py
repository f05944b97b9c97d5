"""Customer search: how names are normalised and how a query is read.

Design choice: the accent-, case- and space-insensitive name match is a SQL
function of the name columns, ``crm_search_text(first_name, last_name)``,
not a stored ``search_name`` column.

* On PostgreSQL it is an IMMUTABLE SQL function over ``unaccent`` (migration
  ``crm.0004_customer_search``), with a pg_trgm GIN index on the expression,
  so ``LIKE '%rossi%'`` is an index scan at 100,000 customers.
* On SQLite (the embedded default) the same function is registered in Python
  on every new connection (``register_sqlite_functions``); embedded shops are
  small, so a scan is fine there.

A stored column would need every writer of customers (services, CSV import
COPY paths, demo writer, API, admin, any future ``queryset.update``) to keep
it in step, and one forgotten path would make customers silently
unsearchable. An expression index cannot go stale and costs the writers
nothing. The Python ``search_text`` below is the twin of the SQL function:
it normalises the query the same way (tested on both databases).

Phone numbers, e-mails, loyalty cards and external ids are matched exactly
on their own indexes, after normalising the query (any phone formatting:
spaces, dashes, ``+39``/``0039`` or none).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.db.models import Func, TextField

from crm.validators import DEFAULT_PHONE_REGION

_WORD = re.compile(r"[^\W_]+")
MIN_NAME_TOKEN = 3  # pg_trgm needs three characters to use the index


def fold(value: str) -> str:
    """Lower-case ``value`` and drop accents ("Nicolò" → "nicolo")."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def search_tokens(value: str) -> list[str]:
    """The folded words of ``value``: punctuation and spaces separate words."""
    return _WORD.findall(fold(value))


def search_text(first_name: str | None, last_name: str | None) -> str:
    """The searchable text of a name: its words, then the same words joined.

    "Anna Maria De Luca" → "anna maria de luca annamariadeluca", so both
    "de luca" and "deluca" find her. Must match the SQL function of the
    same name created by migration crm.0004.
    """
    words = search_tokens(f"{first_name or ''} {last_name or ''}")
    return f"{' '.join(words)} {''.join(words)}"


class CustomerSearchText(Func):
    """``crm_search_text(first_name, last_name)`` as an ORM expression."""

    function = "crm_search_text"
    output_field = TextField()

    def __init__(self, **extra):
        super().__init__("first_name", "last_name", **extra)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """Give SQLite connections the Python twin of the PostgreSQL function."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        "crm_search_text", 2, search_text, deterministic=True
    )


@dataclass(frozen=True)
class ParsedQuery:
    """What a search box query may be: exact keys and name words."""

    raw: str
    phones: tuple[str, ...]
    email: str
    codes: tuple[str, ...]
    name_tokens: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.phones or self.email or self.codes or self.name_tokens)


def _phone_candidates(value: str) -> tuple[str, ...]:
    """E.164 forms the query could be, or () when it is not phone-like."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 6 or re.search(r"[^\d\s+\-./()]", value):
        return ()
    candidates: set[str] = set()
    for text in (value, f"+{digits}", digits):
        try:
            number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            candidates.add(
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            )
    if digits.startswith("00"):
        candidates.add(f"+{digits[2:]}")
    return tuple(sorted(candidates))


def parse_query(value: str) -> ParsedQuery:
    """Read a search box query into the lookups worth trying."""
    raw = (value or "").replace("\x00", "").strip()[:100]
    compact = re.sub(r"[\s\-]", "", raw)
    email = raw.lower() if "@" in raw else ""
    codes: tuple[str, ...] = ()
    if compact and len(compact) <= 64:
        codes = tuple(dict.fromkeys([raw, raw.upper(), compact, compact.upper()]))
    tokens = tuple(t for t in search_tokens(raw) if t)
    # Digits-only queries are phones or codes, never name fragments; a name
    # needs a word long enough for the trigram index to narrow it.
    if not any(len(t) >= MIN_NAME_TOKEN and not t.isdigit() for t in tokens):
        tokens = ()
    return ParsedQuery(
        raw=raw,
        phones=_phone_candidates(raw),
        email=email,
        codes=codes,
        name_tokens=tokens if not email else (),
    )
