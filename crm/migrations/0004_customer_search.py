"""Accent-insensitive customer name search on PostgreSQL (see crm/search.py),
and the customer list's default order served by an index.

``crm_search_text`` is the SQL twin of ``crm.search.search_text``; the GIN
trigram index on it serves ``LIKE '%word%'`` name lookups. SQLite needs no
function here: it is registered on each connection in Python.

``customer_name_order_idx`` (last name, first name, id) is the customer
list's default ordering: without it a page of 50 sorts every customer
(100,000 rows spilled to disk, about 0.5 s); with it the page is an index
scan. Created in SQL on both databases and not in the model state, so the
expression index and this one stay out of the autodetector's way.
"""

from django.db import migrations

FORWARD = r"""
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- IMMUTABLE (with schema-qualified names) so it can back an index; unaccent
-- itself is only STABLE because its dictionary could in theory change.
CREATE OR REPLACE FUNCTION crm_search_text(first_name text, last_name text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT trim(regexp_replace(w, '[^[:alnum:]]+', ' ', 'g'))
           || ' ' || regexp_replace(w, '[^[:alnum:]]+', '', 'g')
    FROM (
        SELECT lower(public.unaccent(
            'public.unaccent'::regdictionary, first_name || ' ' || last_name
        )) AS w
    ) AS folded
$$;
CREATE INDEX IF NOT EXISTS customer_search_text_trgm
    ON crm_customer USING gin (crm_search_text(first_name, last_name) gin_trgm_ops);
"""

BACKWARD = r"""
DROP INDEX IF EXISTS customer_search_text_trgm;
DROP FUNCTION IF EXISTS crm_search_text(text, text);
"""


NAME_ORDER = (
    "CREATE INDEX IF NOT EXISTS customer_name_order_idx"
    " ON crm_customer (last_name, first_name, id)"
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)
    schema_editor.execute(NAME_ORDER)


def backward(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS customer_name_order_idx")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_suppression")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
