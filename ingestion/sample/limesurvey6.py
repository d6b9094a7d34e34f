"""LimeSurvey 6 as schools really export it: the survey structure (`.lss`) and the response CSV under
each set of export options, written the way LimeSurvey's CsvWriter writes them.

What LimeSurvey does (application/helpers/admin/export/CsvWriter.php, Writer.php, SurveyObj.php):
a UTF-8 BOM, every value in double quotes, a value the respondent was never shown (NULL) as an
empty unquoted field, CRLF line ends and one blank line at the end; headings as question codes
(`Q07[SQ001]`) or full texts ("question [subquestion]"); answers as codes or as full texts, where
yes/no questions and multiple-choice boxes become Yes / No / N/A in the survey language, a list's
"Other" becomes the word "Other" and its text goes to `Q[other]`. An anonymized survey without date
stamps has no token, no `startdate`/`datestamp`, and `1980-01-01 00:00:00` as submit date.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import CODEBOOK, LANGUAGES
from ingestion.limesurvey import NO, NO_ANSWER, NO_DATE_STAMP, OTHER, SYSTEM_HEADINGS, YES
from ingestion.sample.population import Cohort
from ingestion.sample.schools import SCHOOLS, School
from ingestion.sample.surveys import (
    LS_IDENT,
    LS_QUESTION,
    LS_SCALE,
    LS_STATUS_ORDER,
    LS_YES_NO,
    MULTI,
    WaveResponses,
    questions,
    school_rows,
)
from ingestion.sample.text import choose, format_dates, format_decimal, format_timestamps, from_codes, int_str

VARIANTS = ("default", "codes_full_answers", "codes", "anonymized", "italian_interface")
# System-column headings as LimeSurvey writes them for an administrator whose interface is in Italian
# (it translates them into the exporter's interface language, not the survey's).
ITALIAN_SYSTEM_HEADINGS = {
    "id": "ID risposta",
    "submitdate": "Data invio",
    "lastpage": "Ultima pagina",
    "startlanguage": "Lingua iniziale",
    "seed": "Seme",
    "token": "Codice di accesso",
    "startdate": "Data di inizio",
    "datestamp": "Data dell'ultima azione",
    "interviewtime": "Tempo totale",
}
SURVEY_LANGUAGES = ("it", "en")  # the Cometa questionnaire is bilingual; exports are in Italian
IDENT_TEXT = {
    "Q00ID": "Matricola",
    "Q00NOME": "Nome",
    "Q00COGNOME": "Cognome",
    "Q00NASC": "Data di nascita",
    "Q00EMAIL": "E-mail",
    "Q00CF": "Codice fiscale",
}


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def question_text(item: str, lang: str) -> str:
    """The question as the questionnaire asks it (an Italian and an English version)."""
    words = item.replace("_", " ")
    return f"Domanda: {words}?" if lang == "it" else f"Question: {words}?"


def answer_text(code: str, lang: str) -> str:
    return f"{_label(code)} (risposta)" if lang == "it" else _label(code)


def _answer_codes(item: str) -> list[tuple[str, str]]:
    """(LimeSurvey answer code, contract code) of a list question; "other" is LimeSurvey's -oth-."""
    if item in LS_SCALE:
        return [(c, c) for c in CODEBOOK[item]]
    codes = LS_STATUS_ORDER if item == "current_status" else CODEBOOK[item]
    return [(f"A{i + 1}", c) for i, c in enumerate(c for c in codes if c != "other")]


def _multi_codes(item: str) -> list[tuple[str, str]]:
    return [(f"SQ{j + 1:03d}", c) for j, c in enumerate(c for c in CODEBOOK[item] if c != "other")]


def _has_other(item: str) -> bool:
    return "other" in CODEBOOK[item]


def _qtype(item: str) -> str:
    return "M" if item in MULTI else "Y" if item in LS_YES_NO else "L"


def _cdata(value: str | int) -> str:
    return f"<![CDATA[{value}]]>"


def _section(name: str, fields: list[str], rows: list[dict[str, str | int]]) -> list[str]:
    out = [f" <{name}>", "  <fields>", *[f"   <fieldname>{f}</fieldname>" for f in fields], "  </fields>"]
    out.append("  <rows>")
    for row in rows:
        out.append("   <row>")
        for f in fields:
            v = row.get(f)
            out.append(f"    <{f}/>" if v is None or v == "" else f"    <{f}>{_cdata(v)}</{f}>")
        out.append("   </row>")
    out += ["  </rows>", f" </{name}>"]
    return out


def structure_xml(wave: str, sid: int, anonymized: bool = False) -> str:
    """The survey structure export (`.lss`) of the wave's questionnaire, as LimeSurvey 6 writes it."""
    qfields = ["qid", "parent_qid", "sid", "gid", "type", "title", "preg", "other", "mandatory"]
    qfields += ["question_order", "scale_id", "same_default", "relevance", "question_theme_name"]
    gid = 10
    questions_, subs, qtexts, answers, atexts = [], [], [], [], []
    qid, aid = 100, 1000

    def add_texts(q: int, texts: dict[str, str]) -> None:
        for lang in SURVEY_LANGUAGES:
            qtexts.append(
                {"id": len(qtexts) + 1, "qid": q, "question": escape(texts[lang]), "language": lang}
            )

    order = 0
    for code, ident in LS_IDENT.items():
        qid += 1
        order += 1
        row = {"qid": qid, "parent_qid": 0, "sid": sid, "gid": gid, "type": "S", "title": code}
        questions_.append(row | {"other": "N", "mandatory": "N", "question_order": order, "scale_id": 0})
        add_texts(qid, {"it": IDENT_TEXT[code], "en": _label(ident)})
    for item in questions(wave):
        qid += 1
        order += 1
        kind = _qtype(item)
        other = "Y" if _has_other(item) else "N"
        row = {"qid": qid, "parent_qid": 0, "sid": sid, "gid": gid + 1, "type": kind}
        row |= {"title": LS_QUESTION[item], "other": other, "mandatory": "N", "question_order": order}
        questions_.append(row | {"scale_id": 0, "relevance": "1"})
        add_texts(qid, {lang: question_text(item, lang) for lang in SURVEY_LANGUAGES})
        parent = qid
        if kind == "M":
            for j, (sq, code) in enumerate(_multi_codes(item)):
                qid += 1
                subs.append(
                    {"qid": qid, "parent_qid": parent, "sid": sid, "gid": gid + 1, "type": "T", "title": sq}
                    | {"other": "N", "mandatory": "", "question_order": j + 1, "scale_id": 0}
                )
                add_texts(qid, {lang: answer_text(code, lang) for lang in SURVEY_LANGUAGES})
        elif kind == "L":
            for j, (ac, code) in enumerate(_answer_codes(item)):
                aid += 1
                answers.append({"aid": aid, "qid": parent, "code": ac, "sortorder": j, "scale_id": 0})
                for lang in SURVEY_LANGUAGES:
                    atexts.append({"id": len(atexts) + 1, "aid": aid, "answer": answer_text(code, lang)})
                    atexts[-1]["language"] = lang
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<document>",
        " <LimeSurveyDocType>Survey</LimeSurveyDocType>",
    ]
    lines += [" <DBVersion>624</DBVersion>", " <languages>"]
    lines += [f"  <language>{lang}</language>" for lang in SURVEY_LANGUAGES] + [" </languages>"]
    lines += _section("answers", ["aid", "qid", "code", "sortorder", "assessment_value", "scale_id"], answers)
    lines += _section("answer_l10ns", ["id", "aid", "answer", "language"], atexts)
    groups = [{"gid": gid, "sid": sid, "group_order": 1}, {"gid": gid + 1, "sid": sid, "group_order": 2}]
    lines += _section("groups", ["gid", "sid", "group_order", "randomization_group", "grelevance"], groups)
    lines += _section("questions", qfields, questions_)
    lines += _section("subquestions", qfields, subs)
    lines += _section("question_l10ns", ["id", "qid", "question", "help", "language", "script"], qtexts)
    settings = {"sid": sid, "admin": "Segreteria", "anonymized": "Y" if anonymized else "N", "format": "G"}
    settings |= {"savetimings": "Y", "language": SURVEY_LANGUAGES[0]}
    settings |= {
        "additional_languages": " ".join(SURVEY_LANGUAGES[1:]),
        "datestamp": "N" if anonymized else "Y",
    }
    settings |= {"ipaddr": "N", "refurl": "N", "usetokens": "N" if anonymized else "Y"}
    lines += _section("surveys", list(settings), [settings])
    lines.append("</document>")
    return "\n".join(lines) + "\n"


def short_mapping(wave: str, school: School) -> str:
    """The school's part of the mapping beside a `.lss`: which question is which contract item and
    which answer code is which contract code (LimeSurvey cannot know the contract)."""
    lines = [f"# {school.name}: LimeSurvey questionnaire of the {wave} wave", f"wave: {wave}"]
    lines += ["constants:", f"  school_code: {school.code}", "questions:"]
    lines += [f"  {code}: {ident}" for code, ident in LS_IDENT.items()]
    lines += [f"  {LS_QUESTION[i]}: {i}" for i in questions(wave)]
    lines.append("answers:")
    for item in questions(wave):
        pairs = _multi_codes(item) if item in MULTI else [] if item in LS_YES_NO else _answer_codes(item)
        if pairs and item not in LS_SCALE:
            lines.append(f"  {item}:")
            lines += [f'    "{a}": {c}' for a, c in pairs]
    return "\n".join(lines) + "\n"


def _quote(values: pa.Array) -> pa.Array:
    """LimeSurvey's csvEscape: every value quoted, quotes doubled; NULL stays an empty unquoted field."""
    doubled = pc.replace_substring(values.cast(pa.string()), '"', '""')
    return pc.binary_join_element_wise('"', doubled, '"', "")


def _write(path: Path, columns: dict[str, pa.Array]) -> None:
    heads = ",".join('"' + h.replace('"', '""') + '"' for h in columns)
    quoted = [pc.fill_null(_quote(a), "") for a in columns.values()]
    body = pc.binary_join_element_wise(*quoted, ",") if quoted else pa.array([])
    text = heads + "\r\n" + "".join(f"{line}\r\n" for line in body.to_pylist()) + "\r\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def render(resp: WaveResponses, pop: Cohort, school_index: int, variant: str, rng: np.random.Generator):
    """Columns (heading -> values, None = not shown) of one school's export under one set of options,
    and its rows (indices into `resp`) and response ids."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    italian = variant == "italian_interface"
    full_heads = variant in ("default", "italian_interface")
    full_answers = variant in ("default", "codes_full_answers", "italian_interface")
    anonymized = variant == "anonymized"
    lang = SURVEY_LANGUAGES[0]
    rows = school_rows(resp, pop, school_index)
    k = len(rows)
    g = resp.g[rows]
    ids = int_str(np.arange(k) + 1)
    complete = resp.role[rows] != 2
    order = questions(resp.wave)
    cols: dict[str, pa.Array] = {}

    def put(code: str, heading: str, values: pa.Array) -> None:
        cols[heading if full_heads else code] = values

    def head(code: str) -> str:
        return ITALIAN_SYSTEM_HEADINGS[code] if italian else SYSTEM_HEADINGS[code][0]

    put("id", head("id"), ids)
    if anonymized:
        stamp = pa.array([NO_DATE_STAMP] * k, pa.string())
        put("submitdate", head("submitdate"), choose(complete, stamp, pa.scalar(None, pa.string())))
    else:
        put("submitdate", head("submitdate"), format_timestamps(resp.submitted[rows], "iso"))
    put("lastpage", head("lastpage"), int_str(np.where(complete, 7, 2)))
    put("startlanguage", head("startlanguage"), from_codes(pop.language[g], LANGUAGES))
    put("seed", head("seed"), int_str(rng.integers(10_000_000, 2_000_000_000, k)))
    if not anonymized:
        put("token", head("token"), pc.take(pop.token, pa.array(g)))
        put("startdate", head("startdate"), format_timestamps(resp.started[rows], "iso"))
        activity = resp.started[rows] + np.round(resp.seconds[rows]).astype("timedelta64[s]")
        put("datestamp", head("datestamp"), format_timestamps(activity, "iso"))
    take = pa.array(rows)
    for code, name in LS_IDENT.items():
        values = (
            format_dates(resp.birth_date[rows], "iso")
            if name == "birth_date"
            else pc.take(getattr(resp, name), take)
        )
        put(code, IDENT_TEXT[code], values)
    yes, no, na, other = YES[lang], NO[lang], NO_ANSWER[lang], OTHER[lang]
    for item in order:
        q = LS_QUESTION[item]
        text = question_text(item, lang)
        if item in MULTI:
            ticked = resp.multi[item][rows]
            codes = list(CODEBOOK[item])
            shown = ticked.any(axis=1)
            for sq, code in _multi_codes(item):
                tick = ticked[:, codes.index(code)]
                value = choose(tick, yes if full_answers else "Y", no if full_answers else "")
                value = choose(shown, value, na if full_answers else pa.scalar(None, pa.string()))
                put(f"{q}[{sq}]", f"{text} [{answer_text(code, lang)}]", value)
            if _has_other(item):
                tick = ticked[:, codes.index("other")]
                value = choose(tick, "motivi miei, non elencati", pa.scalar(None, pa.string()))
                put(f"{q}[other]", f"{text} [{other}]", value)
            continue
        idx = resp.single[item][rows]
        if item in LS_YES_NO:
            given = from_codes(idx, [yes, no] if full_answers else ["Y", "N"])
            if full_answers:
                given = pc.fill_null(given, na)
            put(q, text, given)
            continue
        pairs = dict((c, a) for a, c in _answer_codes(item))
        item_codes = CODEBOOK[item]
        if full_answers:
            labels = [other if c == "other" else answer_text(c, lang) for c in item_codes]
        else:
            labels = ["-oth-" if c == "other" else pairs[c] for c in item_codes]
        put(q, text, from_codes(idx, labels))
        if _has_other(item):
            is_other = (idx >= 0) & (np.asarray(idx) == item_codes.index("other"))
            put(
                f"{q}[other]",
                f"{text} [{other}]",
                choose(is_other, "un amico di famiglia", pa.scalar(None, pa.string())),
            )
    put("interviewtime", head("interviewtime"), format_decimal(resp.seconds[rows], 2, "."))
    return cols, rows, ids


def write_export(
    out: Path,
    rel: str,
    resp: WaveResponses,
    pop: Cohort,
    school_index: int,
    variant: str,
    rng: np.random.Generator,
) -> tuple[np.ndarray, pa.Array]:
    """Write `<rel>.csv`, its `.lss` and (except for the convention-free variant) the short mapping."""
    cols, rows, ids = render(resp, pop, school_index, variant, rng)
    csv = out / rel
    _write(csv, cols)
    lss = structure_xml(resp.wave, 400000 + school_index, anonymized=variant == "anonymized")
    csv.with_suffix(".lss").write_text(lss, encoding="utf-8")
    csv.with_suffix(".yaml").write_text(short_mapping(resp.wave, SCHOOLS[school_index]), encoding="utf-8")
    return rows, ids
