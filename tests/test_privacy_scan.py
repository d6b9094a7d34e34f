"""The personal-value scan behind the blocking privacy check, on hand-made tables.

The scan skips values by length before it compares them; these cases pin down that nothing that
equals a personal value once trimmed and lower-cased escapes it, in tables and in views.
"""

import duckdb
import pytest

from ingestion.privacy import personal_value_leaks


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema restricted; create schema marts; create schema staging")
    con.execute(
        """create table restricted.register_identifiers as select * from (values
           ('X1234567A', 'ana.garcia@example.org', '+34600111222', 'Ana', 'García', 'ana', 'garcia'),
           ('Y7654321B', null, null, 'Li', 'Wu', 'li', 'wu'))
           as t(national_id, email_norm, phone_norm, first_name, last_name, first_name_norm,
                last_name_norm)"""
    )
    return con


def test_clean_tables_and_pseudonyms_pass(con):
    con.execute(
        """create table marts.facts as select repeat('ab', 32) as graduate_key, 'work' as status,
           'ES-LABORAL' as school_code"""
    )
    assert personal_value_leaks(con) == []


def test_padded_upper_case_and_long_values_are_found(con):
    con.execute(
        f"""create table marts.facts as select * from (values
            ('{" " * 70}ANA GARCÍA  ', 'x1234567a', 'ok'),
            ('garcía, ana', ' +34600111222', 'ok'),
            ('nobody', 'ANA.GARCIA@EXAMPLE.ORG', 'ok')) as t(name, ident, other)"""
    )
    con.execute("create view staging.names as select 'ana garcia' as full_name")
    assert personal_value_leaks(con) == [
        ("marts", "facts", "ident", 3),
        ("marts", "facts", "name", 2),
        ("staging", "names", "full_name", 1),
    ]


def test_short_full_names_count_from_five_characters(con):
    con.execute("create table marts.facts as select 'Li Wu' as name, 'wu' as surname")
    assert personal_value_leaks(con) == [("marts", "facts", "name", 1)]


def test_allowed_schemas_are_not_scanned(con):
    con.execute("create table marts.facts as select 'X1234567A' as ident")
    assert personal_value_leaks(con, allowed_schemas=("restricted", "marts")) == []


def test_each_column_of_a_view_is_named(con):
    """Views are scanned in one unpivoting pass; the leak is still reported per column."""
    con.execute(
        f"""create view staging.mixed as select * from (values
            ('ok', null, '{" " * 80}Y7654321B', 1),
            ('Ana García', 'fine', null, 2)) as t(label, note, ident, n)"""
    )
    assert personal_value_leaks(con) == [
        ("staging", "mixed", "ident", 1),
        ("staging", "mixed", "label", 1),
    ]
