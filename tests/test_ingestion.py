"""Readers on small hand-made files: every quirk of real exports and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.db import quote_literal, rows, scalar
from ingestion.loaders import LoadError, load_landing, load_source
from ingestion.validate import DATE_FORMATS, TIMESTAMP_FORMATS, parse_first
from tests.conftest import register_rows

ANA = (
    "S1;ES-LAB;CIPF La Laboral;ES;ES12;12345678Z;José;Muñiz García;03/04/2000;F;Jose.Muniz@Mail.ES;"
    "+34 600 11 22 33;IFC301;Técnico Superior;5;Informática y Comunicaciones;services;2019;21/06/2019;es"
)
LUIS = (
    "S2;ES-LAB;CIPF La Laboral;ES;ES12;87654321X;Luis;Álvarez;15/09/2000;M;luis@mail.es;;FME202;"
    "Soldadura;3;Fabricación Mecánica;industry;2019;21/06/2019;es"
)


def _report(reports, file):
    return next(r for r in reports if r.file == file)


def _quarantine(con, file):
    return rows(
        con,
        "select line, column_name, reason, value from audit.quarantine where file = ? order by line",
        [file],
    )


def test_latin1_semicolon_ddmmyyyy_register(landing, load, warehouse):
    root = landing({"register/es.csv": register_rows(ANA, LUIS)}, encoding="latin-1")
    (r,) = load(root)
    assert (r.status, r.encoding, r.delimiter) == ("loaded", "windows-1252", ";")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 2, 0)
    got = rows(
        warehouse,
        "select school_code, professional_family, graduation_date::varchar, eqf_level, birth_year "
        "from raw.register order by birth_year",
    )
    assert got == [
        ("ES-LAB", "Informática y Comunicaciones", "2019-06-21", 5, 2000),
        ("ES-LAB", "Fabricación Mecánica", "2019-06-21", 3, 2000),
    ]
    ids = rows(
        warehouse,
        "select first_name_norm, last_name_norm, email_norm, phone_norm, birth_date::varchar "
        "from restricted.register_identifiers where student_id = 'S1'",
    )
    assert ids == [("jose", "muniz garcia", "jose.muniz@mail.es", "34600112233", "2000-04-03")]


def test_utf8_bom_comma_iso_dates_and_header_case(landing, load, warehouse):
    header = "Student_ID , SCHOOL_CODE,country,sex,qualification_code,eqf_level,professional_family,"
    header += "sector_group,cohort,graduation_date"
    text = header + "\nS9,ee-pkhk,ee,f,K1,4,Toitlustus,services,2020,2020-06-30\n"
    root = landing({"register/ee.csv": b"\xef\xbb\xbf" + text.encode()})
    (r,) = load(root)
    assert (r.status, r.encoding, r.delimiter, r.rows_loaded) == ("loaded", "utf-8-sig", ",", 1)
    assert rows(warehouse, "select school_code, country, sex, sector_group from raw.register") == [
        ("EE-PKHK", "EE", "F", "services")
    ]


def test_embedded_newlines_and_ragged_rows_keep_physical_line_numbers(landing, load, warehouse):
    text = (
        "response_id,started_at,submitted_at,student_id,school_code,current_status,expectations_met\n"
        'r1,2020-01-10 10:00:00,2020-01-10 10:06:00,S1,ES-LAB,work,"yes"\n'
        'r2,"2020-01-10\n10:00:00",,S2,ES-LAB\n'  # ragged: 5 of 7 columns, spans lines 3-4
        "\n"  # a blank line (line 5)
        'r3,2020-01-11 09:00:00,2020-01-11 09:05:00,S3,"ES-\nLAB",unemployed,no,extra\n'  # 6-7
        "r4,2020-01-12 09:00:00,2020-01-12 09:04:00,S4,ES-LAB,further_studies,partly\n"  # line 8
    )
    root = landing({"surveys/m6/s.csv": text})
    (r,) = load(root)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 2, 2)
    lines = rows(warehouse, "select response_id, _source_line from raw.survey_m6 order by 1")
    assert lines == [("r1", 2), ("r4", 8)]
    q = _quarantine(warehouse, "surveys/m6/s.csv")
    assert [(line, reason.split(":")[0]) for line, _, reason, _ in q] == [
        (3, "missing columns"),
        (6, "too many columns"),
    ]
    # The offending records are kept whole in the restricted zone for whoever fixes the file.
    kept = rows(warehouse, "select line, record from restricted.quarantine_records order by line")
    assert [k[0] for k in kept] == [3, 6] and "r2" in kept[0][1]


def test_unknown_code_bad_date_and_missing_required_value_are_quarantined(landing, load, warehouse):
    bad_sex = ANA.replace(";F;", ";Q;")
    bad_date = LUIS.replace("21/06/2019", "31/02/2019")
    no_family = LUIS.replace("S2;", "S3;").replace("Fabricación Mecánica", "")
    root = landing(
        {"register/es.csv": register_rows(bad_sex, bad_date, no_family, LUIS.replace("S2;", "S4;"))}
    )
    (r,) = load(root)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 1, 3)
    q = _quarantine(warehouse, "register/es.csv")
    assert (2, "sex", "unknown code (expected one of: F, M, X)", "Q") in q
    assert any(line == 3 and col == "graduation_date" and val == "31/02/2019" for line, col, _, val in q)
    assert (4, "professional_family", "required value missing", None) in q


def test_quarantine_never_copies_personal_values(landing, load, warehouse):
    bad = ANA.replace("03/04/2000", "not-a-date").replace(";F;", ";Q;")
    (r,) = load(landing({"register/es.csv": register_rows(bad)}))
    assert r.rows_quarantined == 1
    q = _quarantine(warehouse, "register/es.csv")
    birth = [x for x in q if x[1] == "birth_date"]
    assert birth and birth[0][3] is None  # personal column: value withheld outside restricted
    assert [x[3] for x in q if x[1] == "sex"] == ["Q"]


def test_duplicate_student_in_file_and_across_files(landing, load, warehouse):
    root = landing(
        {
            "register/a.csv": register_rows(ANA, ANA.replace("José", "Pepe")),
            "register/b.csv": register_rows(LUIS, ANA),
        }
    )
    reports = load(root)
    a, b = _report(reports, "register/a.csv"), _report(reports, "register/b.csv")
    assert (a.rows_loaded, a.rows_quarantined, b.rows_loaded, b.rows_quarantined) == (1, 1, 1, 1)
    reasons = [x[2] for x in _quarantine(warehouse, "register/b.csv")]
    assert reasons == ["student_id already in the register from register/a.csv line 2"]
    assert scalar(warehouse, "select count(*) from raw.register") == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty (no header line)"),
        (b"\xef\xbb\xbf\r\n", "the file is empty (no header line)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV text file"),
        (b"student_id;school_code\nS1;X\n", "missing required column(s) country, sex"),
    ],
)
def test_unreadable_files_fail_whole_with_file_and_reason(landing, warehouse, key, content, problem):
    root = landing({"register/broken.csv": content, "register/good.csv": register_rows(LUIS)})
    with pytest.raises(LoadError) as err:
        load_source(warehouse, root, "register", key)
    assert "register/broken.csv" in str(err.value) and problem in str(err.value)
    # The good file still loaded; nothing of the broken one did.
    assert rows(warehouse, "select _source_file from raw.register") == [("register/good.csv",)]
    status = rows(warehouse, "select file, status from audit.load_log order by file")
    assert status == [("register/broken.csv", "rejected"), ("register/good.csv", "loaded")]


def test_header_only_file_loads_zero_rows(landing, load, warehouse):
    (r,) = load(landing({"register/empty.csv": register_rows().rstrip("\n") + "\n"}))
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 0, 0, 0)


def test_same_file_twice_is_skipped_and_reload_is_idempotent(landing, load, warehouse):
    root = landing({"register/es.csv": register_rows(ANA, LUIS)})
    load(root)
    before = rows(warehouse, "select * exclude (_loaded_at, _load_id) from raw.register order by 1")
    # The same content again, under its own name and as a copy with another name.
    (root / "register/copy_of_es.csv").write_bytes((root / "register/es.csv").read_bytes())
    reports = load(root)
    assert {r.status for r in reports} == {"skipped_duplicate"}
    after = rows(warehouse, "select * exclude (_loaded_at, _load_id) from raw.register order by 1")
    assert after == before


def test_resent_file_with_new_content_replaces_its_earlier_version(landing, load, warehouse, key):
    root = landing({"register/es.csv": register_rows(ANA, LUIS.replace(";Q;", ";M;"))})
    load(root)
    landing({"register/es.csv": register_rows(ANA)})
    (r,) = load_landing(warehouse, root, key, max_shrink=None)  # half the rows go: accepted here
    assert r.status == "loaded" and r.rows_loaded == 1
    assert scalar(warehouse, "select count(*) from raw.register") == 1
    assert scalar(warehouse, "select count(*) from restricted.register_identifiers") == 1
    assert scalar(warehouse, "select count(*) from audit.load_log where status = 'superseded'") == 1


def test_row_accounting_holds_for_every_file(landing, load, warehouse):
    root = landing(
        {
            "register/es.csv": register_rows(ANA, LUIS, ANA, LUIS.replace(";M;", ";?;")),
            "admin/x.csv": (
                "national_id,spell_start,spell_end,contract_type,part_time_pct,source,extracted_on\n"
                '12345678Z,2019-07-01,,permanent,"50,5",ee_emta,2021-03-01\n'
                "12345678Z,2019-07-01,2019-06-01,temporary,,ee_emta,2021-03-01\n"
                "12345678Z,2019-07-01,,freelance,,ee_emta,2021-03-01\n"
            ),
        }
    )
    load(root)
    for file, read, loaded, quarantined in rows(
        warehouse, "select file, rows_read, rows_loaded, rows_quarantined from audit.load_log"
    ):
        distinct_q = scalar(
            warehouse, "select count(distinct line) from audit.quarantine where file = ?", [file]
        )
        assert read == loaded + quarantined and quarantined == distinct_q
    assert rows(warehouse, "select part_time_pct, is_part_time from raw.employment_spells") == [(50.5, True)]


def test_es_tgss_adapter_maps_sepe_keys_and_reta(landing, load, warehouse):
    text = (
        "national_id;employer_id;spell_start;spell_end;contract_key;regime;part_time_pct;"
        "nace_section;monthly_earnings;source;extracted_on\n"
        "12345678Z;28/1234567;01/07/2019;;100;RG;;C;1500,50;es_tgss;01/03/2021\n"
        "12345678Z;28/1234567;01/07/2019;31/12/2019;502;RG;50,0;I;;es_tgss;01/03/2021\n"
        "12345678Z;;01/01/2020;;;RETA;;M;;es_tgss;01/03/2021\n"
        "12345678Z;28/1;01/01/2020;;300;RG;;C;;es_tgss;01/03/2021\n"
        "12345678Z;28/1;01/01/2020;;999;RG;;C;;es_tgss;01/03/2021\n"
    )
    (r,) = load(landing({"admin/es_tgss_2021.csv": text}, encoding="latin-1"))
    assert (r.adapter, r.rows_loaded, r.rows_quarantined) == ("es_tgss", 4, 1)
    got = rows(
        warehouse,
        "select source_contract_code, contract_type, is_part_time, monthly_earnings "
        "from raw.employment_spells order by _source_line",
    )
    assert got == [
        ("100", "permanent", False, 1500.5),
        ("502", "temporary", True, None),
        ("RETA", "self_employed", False, None),
        ("300", "permanent", False, None),
    ]
    assert _quarantine(warehouse, "admin/es_tgss_2021.csv")[0][:2] == (6, "contract_key")


LIMESURVEY_CSV = (
    'id,submitdate,lastpage,startlanguage,seed,token,startdate,datestamp,Q00ID,Q01,"Q07[SQ001]","Q07[SQ002]"\n'
    "11,2020-01-15 10:07:00,5,it,123,tok11,2020-01-15 10:00:00,2020-01-15 10:07:00,S1,A1,Y,\n"
    "12,,2,it,456,tok12,2020-01-16 11:00:00,2020-01-16 11:01:00,S2,A3,,Y\n"
    "13,2020-01-17 09:05:00,5,it,789,tok13,2020-01-17 09:00:00,2020-01-17 09:05:00,S3,A9,Y,Y\n"
)
LIMESURVEY_MAP = """
format: limesurvey
wave: m6
constants:
  school_code: IT-COMETA
columns:
  id: response_id
  startdate: started_at
  submitdate: submitted_at
  startlanguage: language
  token: token
  Q00ID: student_id
  Q01: current_status
multi:
  relevant_skills:
    "Q07[SQ001]": teamwork
    "Q07[SQ002]": problem_solving
values:
  current_status:
    A1: work
    A2: work_and_study
    A3: further_studies
"""


def test_limesurvey_export_with_mapping(landing, load, warehouse):
    root = landing(
        {
            "surveys/m6/it_cometa.csv": b"\xef\xbb\xbf" + LIMESURVEY_CSV.encode(),
            "surveys/m6/it_cometa.yaml": LIMESURVEY_MAP,
        }
    )
    (r,) = load(root)
    # Line 4's unknown answer A9 is an optional item: that cell is NULL and quarantined, the row loads.
    assert (r.adapter, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("limesurvey", 3, 3, 0)
    assert r.cells_quarantined == 1
    assert "lastpage" in r.message  # unmapped LimeSurvey columns are named in the log
    got = rows(
        warehouse,
        "select response_id, school_code, current_status, relevant_skills, is_complete, "
        "minutes_to_complete, language from raw.survey_m6 order by response_id",
    )
    assert got == [
        ("11", "IT-COMETA", "work", "teamwork", True, 7.0, "it"),
        ("12", "IT-COMETA", "further_studies", "problem_solving", False, None, "it"),
        ("13", "IT-COMETA", None, "problem_solving;teamwork", True, 5.0, "it"),
    ]
    assert rows(warehouse, "select token from restricted.survey_identifiers order by 1") == [
        ("tok11",),
        ("tok12",),
        ("tok13",),
    ]
    assert rows(
        warehouse,
        "select line, column_name, source_header, value, row_kept from audit.quarantine where file = ?",
        ["surveys/m6/it_cometa.csv"],
    ) == [(4, "current_status", "Q01", "A9", True)]


def test_mapping_for_another_wave_is_refused(landing, warehouse, key):
    root = landing(
        {
            "surveys/m18/it.csv": LIMESURVEY_CSV,
            "surveys/m18/it.yaml": LIMESURVEY_MAP,
        }
    )
    with pytest.raises(LoadError, match=r"surveys/m18/it.csv: its mapping says wave 'm6'"):
        load_source(warehouse, root, "survey", key, wave="m18")


def test_survey_multichoice_and_timestamps(landing, load, warehouse):
    text = (
        "response_id;started_at;submitted_at;student_id;school_code;relevant_skills;current_status\n"
        'a;10/01/2020 10:00;10/01/2020 10:05;S1;ES-LAB;"Teamwork ; technical";work\n'
        "b;10/01/2020 10:00;10/01/2020 09:05;S2;ES-LAB;teamwork;work\n"
        "c;10/01/2020 10:00;;S3;ES-LAB;teamwork;flying\n"
    )
    (r,) = load(landing({"surveys/m6/es.csv": text}))
    # b breaks a row rule (submitted before started): rejected; c's unknown code only nulls its cell.
    assert (r.rows_loaded, r.rows_quarantined, r.cells_quarantined) == (2, 1, 1)
    assert rows(
        warehouse,
        "select response_id, relevant_skills, current_status, minutes_to_complete "
        "from raw.survey_m6 order by 1",
    ) == [("a", "teamwork;technical", "work", 5.0), ("c", "teamwork", None, None)]
    reasons = {(x[0], x[1]) for x in _quarantine(warehouse, "surveys/m6/es.csv")}
    assert reasons == {(3, "submitted_at"), (4, "current_status")}


def test_cohort_filter_loads_only_files_of_requested_cohorts(landing, warehouse, key):
    root = landing(
        {
            "register/es_2019.csv": register_rows(ANA),
            "register/es_2020.csv": register_rows(LUIS.replace(";2019;21/06/2019", ";2020;19/06/2020")),
            # m6 fieldwork in January 2020 is cohort 2019; in January 2021 cohort 2020.
            "surveys/m6/a.csv": "response_id,started_at,submitted_at,student_id\n1,2020-01-10 10:00,,S1\n",
            "surveys/m6/b.csv": "response_id,started_at,submitted_at,student_id\n1,2021-01-10 10:00,,S2\n",
        }
    )
    regs = load_source(warehouse, root, "register", key, cohorts=[2020])
    assert [(r.file, r.status, r.cohorts) for r in regs] == [
        ("register/es_2019.csv", "other_cohort", (2019,)),
        ("register/es_2020.csv", "loaded", (2020,)),
    ]
    surveys = load_source(warehouse, root, "survey", key, wave="m6", cohorts=[2019])
    assert [(r.file, r.status) for r in surveys] == [
        ("surveys/m6/a.csv", "loaded"),
        ("surveys/m6/b.csv", "other_cohort"),
    ]
    # The other cohort's files load in their own run; nothing is logged for a file left alone.
    assert rows(warehouse, "select file from audit.load_log order by file") == [
        ("register/es_2020.csv",),
        ("surveys/m6/a.csv",),
    ]
    assert [r.status for r in load_source(warehouse, root, "register", key, cohorts=[2019])] == [
        "loaded",
        "skipped_duplicate",
    ]


def test_value_errors_keep_the_raw_record_with_its_physical_line(landing, load, warehouse):
    text = register_rows(
        ANA.replace("CIPF La Laboral", '"CIPF La\nLaboral"'),  # lines 2-3
        LUIS.replace(";M;", "; Q ;"),  # line 4: unknown code, kept as sent (untrimmed)
    )
    (r,) = load(landing({"register/es.csv": text}))
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    assert _quarantine(warehouse, "register/es.csv") == [
        (4, "sex", "unknown code (expected one of: F, M, X)", "Q")
    ]
    ((line, record),) = rows(warehouse, "select line, record from restricted.quarantine_records")
    assert line == 4 and '"sex":" Q "' in record and '"_line":4' in record


def test_duplicate_response_ids_and_missing_ids_are_quarantined(landing, load, warehouse):
    text = (
        "response_id,started_at,submitted_at,student_id\n"
        "r1,2020-01-10 10:00,,S1\n"
        ",2020-01-10 10:00,,S2\n"
        "r1,2020-01-10 10:00,,S3\n"
        ",2020-01-10 10:00,,S4\n"
        "r2,2020-01-10 10:00,,S5\n"
    )
    (r,) = load(landing({"surveys/m6/a.csv": text}))
    assert (r.rows_loaded, r.rows_quarantined) == (2, 3)
    # Rows without an id count as one group: the second one is also a duplicate of the first.
    assert sorted(_quarantine(warehouse, "surveys/m6/a.csv"), key=lambda x: (x[0], x[2])) == [
        (3, "response_id", "required value missing", None),
        (4, "response_id", "duplicate response_id in the file (first at line 2)", "r1"),
        (5, "response_id", "duplicate response_id in the file (first at line 3)", None),
        (5, "response_id", "required value missing", None),
    ]


def test_keys_stay_unique_without_an_index(landing, warehouse, key):
    # 'ES-A|X' + '1' and 'ES-A' + 'X|1' are different graduates with the same key input.
    a = ANA.replace("S1;ES-LAB", "1;ES-A|X")
    b = LUIS.replace("S2;ES-LAB", "X|1;ES-A")
    root = landing({"register/es.csv": register_rows(a, b)})
    # The file is refused whole (named, with DuckDB's reason); nothing of it is loaded.
    with pytest.raises(LoadError, match=r"register/es\.csv.*duplicate key"):
        load_source(warehouse, root, "register", key)
    assert scalar(warehouse, "select count(*) from raw.register") == 0
    assert scalar(warehouse, "select count(*) from restricted.register_identifiers") == 0
    assert scalar(warehouse, "select count(*) from audit.load_log where status <> 'rejected'") == 0


@pytest.mark.parametrize("kind", ["date", "timestamp"])
def test_date_parsing_skips_formats_without_changing_results(kind):
    values = [
        "2020-01-10",
        "10/01/2020",
        "2020/01/10",
        "10-01-2020",
        "10.01.2020",
        "2020-01-10 10:00:00",
        "10/01/2020 10:00",
        "2020-01-10T10:00:00Z",
        "2020-01-10T10:00",
        "2020-01-10 10:00",
        "10/01/2020 10:00:00",
        " 2020-01-10",
        "2020-01-10 ",
        "1/2/2020",
        "2020-1-2",
        "31/02/2019",
        "2020-01-10T10:00:00+01:00",
        "10/01/20",
        "x",
        "",
        "2020--01-10",
        "10//01/2020",
        "2020-01-10t10:00",
    ]
    formats = DATE_FORMATS if kind == "date" else TIMESTAMP_FORMATS
    con = duckdb.connect()
    old = f"try_strptime(v, [{', '.join(quote_literal(f) for f in formats)}])"
    got = con.execute(
        f"select list({old} is not distinct from {parse_first('v', formats)}), count({old}) "
        "from unnest($1::varchar[]) t(v)",
        [values],
    ).fetchall()
    assert all(got[0][0]) and got[0][1] >= 8


def test_line_numbers_hold_when_the_connection_does_not_preserve_order(landing, warehouse, key):
    warehouse.execute("set preserve_insertion_order = false")
    text = register_rows(ANA, "", LUIS.replace(";M;", ";Q;"), LUIS.replace("S2;", "S3;"))
    load_source(warehouse, landing({"register/es.csv": text}), "register", key)
    assert rows(
        warehouse, "select student_id, _source_line from restricted.register_identifiers order by 2"
    ) == [
        ("S1", 2),
        ("S3", 5),
    ]
    assert [q[0] for q in _quarantine(warehouse, "register/es.csv")] == [4]


# --- issue 10: declared sources, national headers, cell-level quarantine, isolation ------------------


def test_sepe_keys_under_source_es_tgss_load_in_full(landing, load, warehouse):
    """A canonical admin file whose rows say `source = es_tgss` may carry SEPE keys in contract_type."""
    text = (
        "national_id,employer_id,spell_start,spell_end,contract_type,part_time_pct,nace_section,"
        "monthly_earnings,source,extracted_on\n"
        "12345678Z,E1,2019-07-01,,100,,C,1500.5,es_tgss,2021-03-01\n"
        "12345678Z,E1,2019-07-01,2019-12-31,502,50,I,,es_tgss,2021-03-01\n"
        "12345678Z,E2,2020-01-01,,421,,C,,es_tgss,2021-03-01\n"
        "87654321X,E3,2020-01-01,,temporary,,C,,ee_emta,2021-03-01\n"
    )
    (r,) = load(landing({"admin/mixed_2021.csv": text}))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.cells_quarantined) == (4, 4, 0, 0)
    got = rows(
        warehouse,
        "select source, source_contract_code, contract_type, is_part_time "
        "from raw.employment_spells order by _source_line",
    )
    assert got == [
        ("es_tgss", "100", "permanent", False),
        ("es_tgss", "502", "temporary", True),
        ("es_tgss", "421", "apprenticeship", False),
        ("ee_emta", None, "temporary", False),
    ]


TGSS_SPANISH = (
    "IPF;NAF;Régimen;Fecha de alta;Fecha de baja;Clave de contrato;Coeficiente de parcialidad;CNAE;"
    "CCC\n"
    "12345678Z;281234567890;0111;01/07/2019;;100;;2562;28/1234567\n"
    "12345678Z;281234567890;0111;01/01/2020;30/06/2020;502;500;5610;28/7654321\n"
    "12345678Z;281234567890;0521;01/07/2020;;;;6201;\n"
)
TGSS_MAP = """
# TGSS extract with its own Spanish headers (docs/mapping-format.md)
constants:
  source: es_tgss
  extracted_on: 2021-03-01
columns:
  IPF: national_id
  Régimen: regime
  Fecha de alta: spell_start
  Fecha de baja: spell_end
  Clave de contrato: contract_key
  Coeficiente de parcialidad: part_time_pct
  CNAE: nace_section
  CCC: employer_id
values:
  regime:
    "0111": RG
    "0521": RETA
transforms:
  part_time_pct: per_mille_to_percent
  nace_section: nace_division_to_section
"""


def test_tgss_extract_with_spanish_headers_loads_through_a_mapping(landing, load, warehouse):
    root = landing(
        {"admin/tgss_2021.csv": TGSS_SPANISH, "admin/tgss_2021.yaml": TGSS_MAP.encode()}, encoding="latin-1"
    )
    (r,) = load(root)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 3, 0), r.message
    assert "NAF" in r.message  # an unmapped column is named
    got = rows(
        warehouse,
        "select contract_type, source_contract_code, part_time_pct, is_part_time, nace_section, "
        "spell_start::varchar, source, extracted_on::varchar "
        "from raw.employment_spells order by _source_line",
    )
    assert got == [
        ("permanent", "100", None, False, "C", "2019-07-01", "es_tgss", "2021-03-01"),
        ("temporary", "502", 50.0, True, "I", "2020-01-01", "es_tgss", "2021-03-01"),
        ("self_employed", "RETA", None, False, "J", "2020-07-01", "es_tgss", "2021-03-01"),
    ]


def test_mapping_values_are_text_and_unknown_keys_are_named(landing, warehouse, key):
    csv = "Matricola,Stato,Esperienza\nS1,1,no\nS2,2,yes\n"
    mapping = """
constants: {response_id: x}
columns:
  Matricola: student_id
  Stato: current_status
  Esperienza: unpaid_extra_hours
values:
  current_status: {1: work, 2: unemployed}
  unpaid_extra_hours: {yes: yes, no: no}
"""
    root = landing({"surveys/m6/a.csv": csv, "surveys/m6/a.yaml": mapping.replace("response_id: x", "")})
    # `constants: {}` without response_id: required column missing after mapping, said so.
    (r,) = load_source(warehouse, root, "survey", key, wave="m6", raise_on_failure=False)
    assert r.status == "rejected" and "response_id" in r.message
    root = landing(
        {"surveys/m6/a.csv": "Id," + csv.replace("\nS1", "\n1,S1").replace("\nS2", "\n2,S2")}
        | {
            "surveys/m6/a.yaml": mapping.replace("constants: {response_id: x}", "").replace(
                "columns:", "columns:\n  Id: response_id"
            )
        }
    )
    (r,) = load_source(warehouse, root, "survey", key, wave="m6", raise_on_failure=False)
    assert (r.status, r.rows_loaded, r.cells_quarantined) == ("loaded", 2, 0), r.message
    assert rows(warehouse, "select current_status, unpaid_extra_hours from raw.survey_m6 order by 1") == [
        ("unemployed", "yes"),
        ("work", "no"),
    ]
    misspelt = mapping.replace("Stato:", "Statto:")
    root = landing({"surveys/m18/b.csv": csv, "surveys/m18/b.yaml": misspelt})
    (r,) = load_source(warehouse, root, "survey", key, wave="m18", raise_on_failure=False)
    assert r.status == "rejected" and "does not have: Statto " in r.message


@pytest.mark.parametrize("bad", ["29/02/1994", "93/04/1995"])
def test_invalid_optional_birth_date_loads_the_row_with_a_cell_quarantine_record(
    landing, load, warehouse, bad
):
    (r,) = load(landing({"register/es.csv": register_rows(ANA.replace("03/04/2000", bad), LUIS)}))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.cells_quarantined) == (2, 2, 0, 1)
    assert rows(
        warehouse, "select student_id, birth_date from restricted.register_identifiers order by 1"
    ) == [("S1", None), ("S2", __import__("datetime").date(2000, 9, 15))]
    assert rows(warehouse, "select birth_year from raw.register order by graduate_key") != []
    q = rows(
        warehouse,
        "select file, line, column_name, source_header, value, row_kept, reason from audit.quarantine",
    )
    assert q == [
        ("register/es.csv", 2, "birth_date", "birth_date", None, True,
         "not a valid date (expected YYYY-MM-DD or DD/MM/YYYY)"),
    ]  # fmt: skip
    # The personal value itself is only in the restricted zone.
    assert bad in rows(warehouse, "select record from restricted.quarantine_records")[0][0]


def test_one_unreadable_school_file_is_rejected_and_every_other_loads(landing, warehouse, key):
    from ingestion.loaders import load_landing

    other = LUIS.replace("S2;ES-LAB", "S7;ES-AVI")
    root = landing(
        {
            "register/a_lab.csv": register_rows(ANA),
            "register/b_broken.csv": b"\x00\x01binary",
            "register/c_avi.csv": register_rows(other),
            "surveys/m6/lab.csv": (
                "response_id,started_at,student_id,school_code\n1,2020-01-10 10:00,S1,ES-LAB\n"
            ),
        }
    )
    reports = load_landing(warehouse, root, key, raise_on_failure=False)
    assert {r.file: r.status for r in reports} == {
        "register/a_lab.csv": "loaded",
        "register/b_broken.csv": "rejected",
        "register/c_avi.csv": "loaded",
        "surveys/m6/lab.csv": "loaded",
    }
    assert rows(warehouse, "select school_code from raw.register order by 1") == [("ES-AVI",), ("ES-LAB",)]
    assert rows(warehouse, "select file, status, message from audit.load_log where status = 'rejected'") == [
        (
            "register/b_broken.csv",
            "rejected",
            "not a CSV text file (it contains NUL bytes; binary or UTF-16?)",
        )
    ]


def _people(n: int) -> list[str]:
    return [ANA.replace("S1;", f"P{i};", 1).replace("12345678Z", f"{i:08d}A") for i in range(n)]


@pytest.mark.parametrize("trailing_newline", [True, False])
def test_unclosed_quote_never_replaces_a_good_file(landing, load, warehouse, trailing_newline):
    people = _people(30)
    root = landing({"register/es.csv": register_rows(*people)})
    load(root)
    before = rows(warehouse, "select * exclude (_loaded_at) from raw.register order by all")
    broken = list(people)
    broken[9] = broken[9].replace(";José;", ';"José;')  # line 11, column 7 (first_name)
    text = register_rows(*broken)
    landing({"register/es.csv": text if trailing_newline else text.rstrip("\n")})
    (r,) = load(root)
    assert r.status == "rejected"
    assert r.message.startswith("line 11, column 7 (first_name): a quoted value opens here")
    assert "nothing of this file was loaded" in r.message
    # The earlier version stays whole: DuckDB alone would have kept the 9 rows before the quote.
    assert rows(warehouse, "select * exclude (_loaded_at) from raw.register order by all") == before
    log = rows(warehouse, "select status from audit.load_log order by started_at")
    assert log == [("loaded",), ("rejected",)]


def test_quote_closed_then_followed_by_text_across_lines_is_refused(landing, load, warehouse):
    bad = ANA.replace(";José;", ';"Jo\nsé"x;')
    (r,) = load(landing({"register/es.csv": register_rows(LUIS, bad, LUIS.replace("S2;", "S3;"))}))
    assert r.status == "rejected"
    assert r.message.startswith("line 3, column 7 (first_name): a quoted value opens there")
    assert scalar(warehouse, "select count(*) from raw.register") == 0


def test_stray_quotes_inside_values_load_with_their_physical_lines(landing, load, warehouse):
    # DuckDB reads a quote inside an unquoted value literally; line numbers must still be physical.
    odd = LUIS.replace("S2;", "S3;").replace(";Soldadura;", ';Soldadura 5";')
    bad_date = ANA.replace("03/04/2000", "31/02/2000")
    (r,) = load(landing({"register/es.csv": register_rows(odd, "", bad_date)}))
    assert (r.status, r.rows_read, r.rows_loaded) == ("loaded", 2, 2)
    assert rows(warehouse, "select _source_line, qualification_name from raw.register order by 1") == [
        (2, 'Soldadura 5"'),
        (4, "Técnico Superior"),
    ]
    assert [q[:2] for q in _quarantine(warehouse, "register/es.csv")] == [(4, "birth_date")]


@pytest.mark.parametrize(
    ("resent", "why"),
    [
        (register_rows(), "header only"),
        (
            register_rows(*(p.replace(";", ",") for p in _people(10))),
            "rows in another delimiter: all quarantined",
        ),
        (register_rows(*_people(7)), "7 of 10 rows"),
    ],
)
def test_resent_file_that_loses_too_many_rows_is_refused(landing, load, warehouse, key, resent, why):
    root = landing({"register/es.csv": register_rows(*_people(10))})
    load(root)
    before = rows(warehouse, "select * exclude (_loaded_at) from raw.register order by all")
    landing({"register/es.csv": resent})
    (r,) = load(root)
    assert r.status == "rejected", why
    assert r.message.startswith("this version would replace the earlier one's 10 rows with ")
    assert "--accept-shrink" in r.message
    assert rows(warehouse, "select * exclude (_loaded_at) from raw.register order by all") == before
    assert scalar(warehouse, "select count(*) from audit.quarantine") == 0  # rolled back with the rows


def test_resent_file_losing_a_few_rows_or_accepted_shrink_replaces_the_earlier_one(
    landing, load, warehouse, key
):
    root = landing({"register/es.csv": register_rows(*_people(10))})
    load(root)
    landing({"register/es.csv": register_rows(*_people(8))})  # 20 % fewer: within the default
    (r,) = load(root)
    assert (r.status, r.rows_loaded) == ("loaded", 8)
    landing({"register/es.csv": register_rows(*_people(2))})
    (r,) = load_landing(warehouse, root, key, max_shrink=0.8)
    assert (r.status, r.rows_loaded) == ("loaded", 2)
    assert scalar(warehouse, "select count(*) from raw.register") == 2


def test_accept_shrink_is_a_run_setting_of_the_landing_resource(tmp_path, landing):
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from orchestration.defs.ingestion.assets import register
    from orchestration.defs.ingestion.resources import LandingFolder, PseudonymKeyResource
    from tests.conftest import TEST_KEY

    root = landing({"register/es.csv": register_rows(*_people(10))})
    database = str(tmp_path / "w.duckdb")
    resources = {
        "duckdb": DuckDBResource(database=database),
        "landing": LandingFolder(path=str(root)),
        "pseudonym_key": PseudonymKeyResource(key=TEST_KEY),
    }

    shown: list[str] = []

    def loaded(**run_config) -> tuple[int, str]:
        result = dg.materialize([register], resources=resources, partition_key="2019", **run_config)
        (event,) = result.get_asset_materialization_events()
        meta = event.materialization.metadata
        shown.append(meta["ignored_files"].value)
        return meta["rows_loaded"].value, meta["rejected"].value

    landing({"register/old/es.csv": register_rows(ANA)})  # in a subfolder: named in the UI, not read
    assert loaded() == (10, "none")
    assert (
        "| register/old/es.csv | in a subfolder of register/: only files directly in it are read |"
        in shown[0]
    )
    landing({"register/es.csv": register_rows(*_people(3))})
    rows_loaded, rejected = loaded()
    assert rows_loaded == 0 and rejected.startswith("register/es.csv: this version would replace")
    accept = {"resources": {"landing": {"config": {"path": str(root), "accept_shrink": True}}}}
    assert loaded(run_config=accept) == (3, "none")


def test_every_file_under_the_landing_folder_is_read_or_named_with_the_reason(tmp_path, landing):
    from ingestion.loaders import ignored_files, landing_files

    outside = tmp_path / "elsewhere.csv"
    outside.write_text(register_rows(ANA), encoding="utf-8")
    root = landing(
        {
            "register/a.csv": register_rows(ANA),
            "register/a.yaml": "columns: {}\n",  # a mapping beside its data file: read with it
            "register/b.tsv": register_rows(LUIS).replace(";", "\t"),
            "surveys/m18/x.lss": "<document/>",
            "register/d.xlsx": b"PK\x03\x04",
            "register/.~lock.a.csv#": "lock",
            "register/2019/c.csv": register_rows(ANA),
            "Register/e.csv": register_rows(ANA),
            "surveys/M6/f.csv": "response_id\n",
            "surveys/m12/g.csv": "response_id\n",
            "surveys/h.csv": "response_id\n",
            "top.csv": "x\n",
            "notes/readme.txt": "x\n",
        }
    )
    (root / "register" / "link.csv").symlink_to(outside)
    assert [rel for _, rel in landing_files(root, "register")] == ["register/a.csv", "register/b.tsv"]
    assert ignored_files(root) == [
        ("Register/e.csv", "folder Register/ is not register/ (folder names are lower case)"),
        (
            "notes/readme.txt",
            "folder notes/ is not a source folder (register/, surveys/pre_graduation/, "
            "surveys/m6/, surveys/m18/, admin/, context/)",
        ),
        ("register/.~lock.a.csv#", "hidden file"),
        ("register/2019/c.csv", "in a subfolder of register/: only files directly in it are read"),
        ("register/d.xlsx", "not a data file gradtrack reads (.csv, .tsv or .txt, each optionally .gz)"),
        ("register/link.csv", "a link to a file outside the landing folder: not followed"),
        ("surveys/M6/f.csv", "surveys/M6/ is not a wave folder (pre_graduation, m6, m18; lower case)"),
        (
            "surveys/h.csv",
            "directly in surveys/: put it in the folder of its wave (pre_graduation, m6 or m18)",
        ),
        ("surveys/m12/g.csv", "surveys/m12/ is not a wave folder (pre_graduation, m6, m18; lower case)"),
        (
            "top.csv",
            "not inside a source folder (register/, surveys/pre_graduation/, surveys/m6/, "
            "surveys/m18/, admin/, context/)",
        ),
    ]


def test_tab_separated_and_gzip_compressed_files_load(landing, load, warehouse):
    import gzip

    root = landing(
        {
            "register/a.tsv": register_rows(ANA).replace(";", "\t"),
            "register/b.csv.gz": gzip.compress(register_rows(LUIS).encode("cp1252")),
            "register/c.txt.gz": b"not gzip",
        }
    )
    reports = {r.file: r for r in load(root)}
    assert (reports["register/a.tsv"].status, reports["register/a.tsv"].delimiter) == ("loaded", "\t")
    assert (reports["register/b.csv.gz"].rows_loaded, reports["register/b.csv.gz"].encoding) == (
        1,
        "windows-1252",
    )
    assert reports["register/c.txt.gz"].status == "rejected"
    assert reports["register/c.txt.gz"].message.startswith("not a readable gzip file")
    found = rows(
        warehouse, "select _source_file, _source_line, professional_family from raw.register order by 1"
    )
    assert found == [
        ("register/a.tsv", 2, "Informática y Comunicaciones"),
        ("register/b.csv.gz", 2, "Fabricación Mecánica"),
    ]
    # The same rows sent again uncompressed are the same file: skipped.
    landing({"register/b_again.csv": register_rows(LUIS).encode("cp1252")})
    assert {r.file: r.status for r in load(root)}["register/b_again.csv"] == "skipped_duplicate"


def test_old_mac_line_ends_load_with_their_line_numbers(landing, load, warehouse):
    text = register_rows(ANA, LUIS.replace("15/09/2000", "31/09/2000"))
    (r,) = load(landing({"register/mac.csv": text.replace("\n", "\r")}))
    assert (r.status, r.rows_loaded) == ("loaded", 2)
    assert "CR alone" in r.message
    assert [q[:2] for q in _quarantine(warehouse, "register/mac.csv")] == [(3, "birth_date")]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_file_mixing_two_encodings_is_refused_at_the_first_foreign_byte(landing, load, warehouse, bom):
    utf8 = register_rows(ANA, LUIS).encode("utf-8")
    mixed = bom + utf8.replace("Álvarez".encode(), "Álvarez".encode("cp1252"))
    (r,) = load(landing({"register/mixed.csv": mixed}))
    assert r.status == "rejected"
    assert r.message.startswith("line 3, column 8 (last_name): byte 0xC1 is not UTF-8")
    assert "mixes two encodings" in r.message
    assert scalar(warehouse, "select count(*) from raw.register") == 0


def test_a_file_failing_in_an_unforeseen_way_is_rejected_by_name_and_the_others_load(
    landing, load, warehouse, monkeypatch
):
    import ingestion.loaders as loaders

    real = loaders.load_file

    def failing(con, path, display, *args, **kwargs):
        if display == "register/a.csv":
            raise RuntimeError("disk on fire\nsecond line")
        return real(con, path, display, *args, **kwargs)

    monkeypatch.setattr(loaders, "load_file", failing)
    root = landing({"register/a.csv": register_rows(ANA), "register/b.csv": register_rows(LUIS)})
    assert {r.file: r.status for r in load(root)} == {
        "register/a.csv": "rejected",
        "register/b.csv": "loaded",
    }
    assert rows(warehouse, "select file, message from audit.load_log where status = 'rejected'") == [
        ("register/a.csv", "could not be read (RuntimeError: disk on fire)")
    ]


def test_a_changed_mapping_beside_an_unchanged_export_is_read_again(landing, load, warehouse):
    files = {"surveys/m6/it_cometa.csv": LIMESURVEY_CSV, "surveys/m6/it_cometa.yaml": LIMESURVEY_MAP}
    root = landing(files)
    load(root)
    assert [r.status for r in load(root)] == ["skipped_duplicate"]  # nothing changed: nothing to do
    landing({"surveys/m6/it_cometa.yaml": LIMESURVEY_MAP.replace("A3: further_studies", "A3: work")})
    (r,) = load(root)
    assert (r.status, r.rows_loaded) == ("loaded", 3)
    assert rows(warehouse, "select current_status from raw.survey_m6 where response_id = '12'") == [("work",)]
    assert scalar(warehouse, "select count(*) from raw.survey_m6") == 3


@pytest.mark.parametrize("second", ["same", "other"])
def test_a_file_without_its_header_row_never_echoes_the_first_graduate(landing, load, warehouse, second):
    """The first record stands where the header should be: the rejection says so without its values."""
    first = ANA.replace(";ES;ES12;", ";XX;ES12;").replace(";es", ";xx2")
    if second == "same":  # the first record has two equal cells: the duplicate-name check fires first
        first = ANA
    (r,) = load(landing({"register/nohead.csv": first + "\n" + LUIS + "\n"}))
    assert r.status == "rejected"
    assert "does not look like a header" in r.message and "Is the header row missing?" in r.message
    for value in ("12345678", "jose.muniz", "José", "Muñiz", "600 11 22"):
        assert value.lower() not in r.message.lower()
    logged = scalar(warehouse, "select message from audit.load_log where file = 'register/nohead.csv'")
    assert logged == r.message


def test_a_row_shifted_by_one_column_never_puts_identifiers_in_the_audit_schema(landing, load, warehouse):
    # One cell missing before the e-mail: e-mail, phone and the rest slide one column to the left.
    shifted = LUIS.replace("S2;", "S5;").replace(";15/09/2000;M;", ";15/09/2000;") + ";"
    (r,) = load(landing({"register/es.csv": register_rows(ANA, shifted)}))
    assert (r.rows_loaded, r.rows_quarantined) == (1, 1)
    values = [v for *_, v in _quarantine(warehouse, "register/es.csv") if v is not None]
    assert values, "the quarantine keeps the harmless values that help to find the problem"
    assert not any("@" in v or "luis" in v.lower() for v in values), values
    assert "(withheld: looks like personal data)" in values
    raw = scalar(warehouse, "select record from restricted.quarantine_records where line = 3")
    assert "luis@mail.es" in raw  # whoever fixes the export still has the line


def test_mixed_line_ends_load_every_row_with_its_physical_line(landing, load, warehouse):
    people = _people(5)
    text = register_rows(*people).replace("\n", "\r\n", 2)  # the header and one row pasted from Windows
    text = text.replace(people[3] + "\n", people[3] + "\r")  # and a CR alone
    (r,) = load(landing({"register/mixed.csv": text}))
    assert (r.status, r.rows_read, r.rows_loaded) == ("loaded", 5, 5)
    assert "mixed line ends" in r.message
    assert rows(warehouse, "select _source_line from raw.register order by 1") == [(i,) for i in range(2, 7)]


def test_decoded_copies_are_private_and_a_killed_runs_copies_are_removed(tmp_path, landing, load):
    import os
    import subprocess
    import sys
    import tempfile

    from ingestion.csvfile import prepare

    root = landing({"register/latin1.csv": register_rows(ANA).encode("cp1252")})
    sniffed = prepare(root / "register/latin1.csv", "register/latin1.csv")
    copy = Path(sniffed.tmp.name)
    assert copy.stat().st_mode & 0o777 == 0o700 and sniffed.readable_path.parent == copy
    sniffed.tmp.cleanup()
    # A run killed mid-load leaves its folder; the next load removes it, and only dead runs' folders.
    probe = [sys.executable, "-c", "import os; print(os.getpid())"]
    dead = subprocess.run(probe, capture_output=True, text=True, check=True)
    left = Path(tempfile.gettempdir()) / f"gradtrack-{dead.stdout.strip()}-abc"
    left.mkdir()
    (left / "readable.csv").write_text("personal data")
    alive = Path(tempfile.mkdtemp(prefix=f"gradtrack-{os.getpid()}-"))
    try:
        load(root)
        assert not left.exists() and alive.exists()
    finally:
        alive.rmdir()


ADMIN_HEADER = (
    "national_id,spell_start,spell_end,contract_type,part_time_pct,monthly_earnings,source,extracted_on"
)


def test_implausible_years_fractions_and_non_finite_numbers_are_quarantined(landing, load, warehouse):
    root = landing(
        {
            "register/es.csv": register_rows(
                ANA,
                LUIS.replace(";2019;", ";-5;").replace("S2;", "S3;"),
                LUIS.replace(";2019;", ";99999;").replace("S2;", "S4;"),
                LUIS.replace(";2019;", ";2019.5;").replace("S2;", "S5;"),
            ),
            "admin/x.csv": "\n".join(
                [
                    ADMIN_HEADER,
                    "12345678Z,2019-07-01,,permanent,,1500.5,ee_emta,2021-03-01",
                    "12345678Z,1900-01-01,,permanent,,1500,ee_emta,2021-03-01",
                    "12345678Z,2019-08-01,,permanent,,NaN,ee_emta,2021-03-01",
                    "12345678Z,2019-09-01,,permanent,inf,-Infinity,ee_emta,2021-03-01",
                ]
            )
            + "\n",
        }
    )
    reports = {r.file: r for r in load(root)}
    assert (reports["register/es.csv"].rows_loaded, reports["register/es.csv"].rows_quarantined) == (1, 3)
    problems = [q[:3] for q in _quarantine(warehouse, "register/es.csv") if q[1] == "cohort"]
    assert problems == [
        (3, "cohort", "cohort is not a plausible graduation year (1990 to next year)"),
        (4, "cohort", "cohort is not a plausible graduation year (1990 to next year)"),
        (5, "cohort", "not a whole number"),
    ]
    assert rows(warehouse, "select cohort from raw.register") == [(2019,)]
    admin = reports["admin/x.csv"]
    assert (admin.rows_loaded, admin.rows_quarantined, admin.cells_quarantined) == (3, 1, 3)
    assert [q[:2] for q in _quarantine(warehouse, "admin/x.csv")] == [
        (3, "spell_start"),
        (4, "monthly_earnings"),
        (5, "monthly_earnings"),
        (5, "part_time_pct"),
    ]
    earnings = rows(warehouse, "select monthly_earnings from raw.employment_spells order by spell_start")
    assert earnings == [(1500.5,), (None,), (None,)]
    assert scalar(warehouse, "select count(*) from raw.employment_spells where isnan(monthly_earnings)") == 0


def test_context_keys_are_unique_within_and_across_files(landing, load, warehouse):
    header, es12 = "region,year,indicator,value,source", "ES12,2020,youth_unemployment"
    root = landing(
        {
            "context/a.csv": f"{header}\n{es12},30.1,ine\n{es12},31,ine\n",
            "context/b.csv": f"{header}\n{es12},29,eurostat\nES13,2020,youth_unemployment,20,ine\n",
        }
    )
    reports = {r.file: r for r in load(root)}
    assert (reports["context/a.csv"].rows_loaded, reports["context/a.csv"].rows_quarantined) == (1, 1)
    assert (reports["context/b.csv"].rows_loaded, reports["context/b.csv"].rows_quarantined) == (1, 1)
    assert (
        _quarantine(warehouse, "context/b.csv")[0][2]
        == "region, year and indicator already loaded from context/a.csv line 2"
    )
    assert rows(warehouse, "select region, value from raw.context_indicators order by 1") == [
        ("ES12", 30.1),
        ("ES13", 20.0),
    ]
    # A corrected file re-sent under its own name replaces its rows instead of clashing with them.
    landing({"context/a.csv": f"{header}\n{es12},30.5,ine\n"})
    (r,) = [r for r in load(root) if r.file == "context/a.csv"]
    assert (r.status, r.rows_loaded) == ("loaded", 1), r.message


def test_a_file_with_ten_thousand_extra_columns_loads_with_a_short_note(landing, load, warehouse):
    extra = ";".join(f"c{i}" for i in range(10_000))
    header = register_rows().rstrip("\n")
    (r,) = load(landing({"register/wide.csv": f"{header};{extra}\n{ANA}{';x' * 10_000}\n"}))
    assert (r.status, r.rows_loaded) == ("loaded", 1)
    assert r.message.startswith("ignored columns not in the contract: c0, c1,")
    assert r.message.endswith("c19 and 9980 more") and len(r.message) < 300
