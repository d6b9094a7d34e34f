"""LimeSurvey exports read through the survey's own structure file (`.lss`), whatever export options
the school chose (docs/limesurvey.md).

LimeSurvey's response export can head its columns with question codes (`Q07[SQ001]`), abbreviated or
full question texts ("question [subquestion]") or both, and write answers as codes (`A1`, `Y`) or as
full texts in the survey's language ("Yes", "N/A", "Other"). The `.lss` beside the export holds
every question, subquestion and answer option in every survey language, so each heading and each
answer can be recognised without a hand-written mapping of every column. What remains for the school
to say is which question is which contract item and which answer is which contract code: a short
mapping file, or nothing when the codes follow the convention of docs/limesurvey.md.

The result is an ordinary mapping (docs/mapping-format.md) that `adapters.mapped_select` applies.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import unescape
from itertools import product
from pathlib import Path

from ingestion.contract import CODEBOOK, MULTI_CHOICE, SURVEY
from ingestion.csvfile import FileRejected, companion_files, normalise_header

# Response-table columns LimeSurvey adds, with their full-text headings (admin interface in English).
SYSTEM_HEADINGS: dict[str, tuple[str, ...]] = {
    "id": ("Response ID",),
    "submitdate": ("Date submitted",),
    "lastpage": ("Last page",),
    "startlanguage": ("Start language",),
    "seed": ("Seed",),
    "token": ("Access code", "Token"),
    "startdate": ("Date started",),
    "datestamp": ("Date last action",),
    "ipaddr": ("IP address",),
    "refurl": ("Referrer URL",),
    "interviewtime": ("Total time",),
}
SYSTEM_ORDER = ("id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate", "datestamp")
SYSTEM_ORDER += ("ipaddr", "refurl")
SYSTEM_TARGETS = {
    "id": "response_id",
    "submitdate": "submitted_at",
    "startdate": "started_at",
    "startlanguage": "language",
    "token": "token",
}
# LimeSurvey's own words in full-answer exports, per survey language (its translations).
YES = {"en": "Yes", "es": "Sí", "it": "Sì", "et": "Jah", "nl": "Ja"}
NO = {"en": "No", "es": "No", "it": "No", "et": "Ei", "nl": "Nee"}
NO_ANSWER = {"en": "N/A", "es": "N/A", "it": "N/A", "et": "N/A", "nl": "N/A"}
OTHER = {"en": "Other", "es": "Otro", "it": "Altro", "et": "Muu", "nl": "Anders"}
# LimeSurvey's "no date" stamp of anonymized surveys without date stamps.
NO_DATE_STAMP = "1980-01-01 00:00:00"
MULTIPLE_TYPES = {"M", "P"}  # multiple choice (with comments)
YES_NO_TYPES = {"Y"}


@dataclass
class Question:
    """One question of the survey, with its texts per language, subquestions and answer options."""

    qid: str
    code: str
    type: str
    other: bool
    order: tuple[int, int]  # (group order, question order)
    text: dict[str, str] = field(default_factory=dict)
    subquestions: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (code, texts)
    answers: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (code, texts)


@dataclass
class Structure:
    """What a `.lss` file says about a survey: its languages and questions in survey order."""

    file: str
    languages: list[str]
    questions: list[Question]
    settings: dict[str, str] = field(default_factory=dict)  # the survey's row: anonymized, datestamp...

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code.lower() == code.lower()), None)


def _flat(html: str) -> str:
    """Question text as LimeSurvey writes it into a heading: tags stripped, entities decoded,
    whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]*>", " ", html or ""))).strip()


def _rows(root: ET.Element, section: str) -> list[dict[str, str]]:
    node = root.find(section)
    if node is None:
        return []
    return [{c.tag: (c.text or "") for c in row} for row in node.iterfind("rows/row")]


def read_structure(path: Path, display: str) -> Structure:
    """Parse a LimeSurvey survey structure export (LimeSurvey 3 to 6: `<document>` with `<questions>`,
    `<subquestions>`, `<question_l10ns>`, `<answers>`, `<answer_l10ns>`; older ones carry texts inline)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FileRejected(display, f"survey structure {path.name} is not readable XML: {exc}") from exc
    kind = root.findtext("LimeSurveyDocType")
    if root.tag != "document" or (kind or "").strip() != "Survey":
        raise FileRejected(display, f"{path.name} is not a LimeSurvey survey structure (.lss) export")
    languages = [(e.text or "").strip() for e in root.iterfind("languages/language") if e.text]
    groups = {r["gid"]: int(r.get("group_order") or 0) for r in _rows(root, "groups")}
    questions: dict[str, Question] = {}
    subs: list[dict[str, str]] = []
    texts: dict[str, dict[str, str]] = {}
    for r in _rows(root, "questions") + _rows(root, "subquestions"):
        if r.get("question") is not None and r.get("language"):  # LimeSurvey < 4: texts inline
            texts.setdefault(r["qid"], {})[r["language"]] = _flat(r["question"])
        if (r.get("parent_qid") or "0") != "0":
            subs.append(r)
        elif r["qid"] not in questions:
            questions[r["qid"]] = Question(
                qid=r["qid"],
                code=r["title"],
                type=r.get("type", ""),
                other=r.get("other") == "Y",
                order=(groups.get(r.get("gid", ""), 0), int(r.get("question_order") or 0)),
            )
    for r in _rows(root, "question_l10ns"):
        texts.setdefault(r["qid"], {})[r["language"]] = _flat(r.get("question", ""))
    for q in questions.values():
        q.text = texts.get(q.qid, {})
    seen_subs: set[str] = set()
    for r in sorted(subs, key=lambda r: int(r.get("question_order") or 0)):
        parent = questions.get(r["parent_qid"])
        if parent is not None and r["qid"] not in seen_subs:
            seen_subs.add(r["qid"])
            parent.subquestions.append((r["title"], texts.get(r["qid"], {})))
    answer_texts: dict[str, dict[str, str]] = {}
    for r in _rows(root, "answer_l10ns"):
        answer_texts.setdefault(r["aid"], {})[r["language"]] = _flat(r.get("answer", ""))
    seen_answers: set[tuple[str, str]] = set()
    for r in sorted(_rows(root, "answers"), key=lambda r: int(r.get("sortorder") or 0)):
        q = questions.get(r["qid"])
        if q is None or (r.get("scale_id") or "0") != "0":
            continue
        if (r["qid"], r["code"]) in seen_answers:  # LimeSurvey < 4: one row per language
            if r.get("answer") is not None and r.get("language"):
                dict(q.answers)[r["code"]][r["language"]] = _flat(r["answer"])
            continue
        seen_answers.add((r["qid"], r["code"]))
        inline = {r["language"]: _flat(r["answer"])} if r.get("answer") and r.get("language") else {}
        q.answers.append((r["code"], answer_texts.get(r.get("aid", ""), inline)))
    ordered = sorted(questions.values(), key=lambda q: q.order)
    settings = next(iter(_rows(root, "surveys")), {})
    return Structure(path.name, languages or ["en"], ordered, settings)


def structure_beside(csv_path: Path, display: str) -> Structure | None:
    """The `.lss` of a responses export: same stem, or LimeSurvey's own names
    (`results-survey123456.csv` beside `limesurvey_survey_123456.lss`)."""
    for path in companion_files(csv_path):
        if path.suffix == ".lss":
            return read_structure(path, display)
    return None


# --- headings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One column of LimeSurvey's response table: its code and the headings it may appear under."""

    code: str  # Q01, Q07[SQ001], Q07[other], id ...
    question: Question | None
    sub: str | None  # subquestion code, "other", or None
    texts: tuple[str, ...]  # full-text headings, one per language


def fields(structure: Structure) -> list[Field]:
    """The response table's columns in LimeSurvey's order (system columns, then the questions)."""
    out = [Field(code, None, None, SYSTEM_HEADINGS[code]) for code in SYSTEM_ORDER]
    for q in structure.questions:
        langs = list(q.text) or structure.languages
        if q.subquestions:
            for sub, sub_text in q.subquestions:
                texts = tuple(f"{q.text.get(lang, '')} [{sub_text.get(lang, sub)}]" for lang in langs)
                out.append(Field(f"{q.code}[{sub}]", q, sub, texts))
        else:
            out.append(Field(q.code, q, None, tuple(q.text.get(lang, "") for lang in langs)))
        if q.other:
            texts = tuple(f"{q.text.get(lang, '')} [{OTHER.get(lang, 'Other')}]" for lang in langs)
            out.append(Field(f"{q.code}[other]", q, "other", texts))
    out.append(Field("interviewtime", None, None, SYSTEM_HEADINGS["interviewtime"]))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("_", " ")).strip().lower()


def _abbreviated(heading: str, full: str) -> bool:
    """An abbreviated heading ('Qual è la tua.. [Lavoro di.. ]') is each part's beginning + '..'."""

    def parts(text: str) -> tuple[str, str | None]:
        m = re.fullmatch(r"(.*?)\s*\[(.*)\]", text)
        return (m.group(1), m.group(2)) if m else (text, None)

    def fits(short: str, long: str) -> bool:
        short = short.strip()
        if short.endswith(".."):
            return long.startswith(short[:-2].rstrip())
        return short == long

    (hq, hs), (fq, fs) = parts(heading), parts(full)
    return (hs is None) == (fs is None) and fits(hq, fq) and (hs is None or fits(hs, fs or ""))


def _system_layouts(structure: Structure) -> list[tuple[str, ...]]:
    """The system columns a response table of this survey can start with, most likely first.

    LimeSurvey writes them first and in a fixed order; which ones exist follows the survey's settings
    (`anonymized`: no token; `datestamp`: start and last-action dates; `ipaddr`; `refurl`). A setting
    the `.lss` does not state allows both.
    """
    s = structure.settings

    def options(flag: str, present_if: str) -> list[bool]:
        value = (s.get(flag) or "").strip().upper()
        return [value == present_if] if value else [True, False]

    # A non-anonymized survey without a participants table has no token column either.
    tokens = [True, False] if (s.get("anonymized") or "N").strip().upper() == "N" else [False]
    layouts = []
    for token, dated, ip, ref in product(
        tokens, options("datestamp", "Y"), options("ipaddr", "Y"), options("refurl", "Y")
    ):
        present = {"token": token, "startdate": dated, "datestamp": dated, "ipaddr": ip, "refurl": ref}
        layouts.append(tuple(c for c in SYSTEM_ORDER if present.get(c, True)))
    return layouts


def _system_by_position(structure: Structure, raw_header: list[str], out: dict[int, Field]) -> None:
    """Headings of system columns in the admin's own language ("ID de respuesta", "ID risposta"):
    LimeSurvey translates them into the interface language of whoever exported. When no heading was
    recognised as the response id, the unmatched columns before the first question are the system
    columns, assigned by LimeSurvey's order for the survey's settings."""
    if any(f.code == "id" for f in out.values()):
        return
    first = min((i for i, f in out.items() if f.question is not None), default=None)
    if first is None or any(i in out for i in range(first)):
        return
    layout = next((lay for lay in _system_layouts(structure) if len(lay) == first), None)
    if layout is None:
        return
    for i, code in enumerate(layout):
        out[i] = Field(code, None, None, (raw_header[i],))


def match_headings(structure: Structure, raw_header: list[str]) -> dict[int, Field]:
    """Column index -> field, for headings as codes, full or abbreviated texts, or 'code. text'.

    Columns are matched in the file's order against the fields not yet taken, in survey order, so two
    abbreviated headings that look alike go to their questions in the order LimeSurvey wrote them.
    System columns under translated headings are placed by position (`_system_by_position`).
    """
    all_fields = fields(structure)
    taken: set[str] = set()
    out: dict[int, Field] = {}
    for i, raw in enumerate(raw_header):
        heading = _norm(raw)
        found = None
        for f in all_fields:
            if f.code in taken:
                continue
            code = f.code.lower()
            texts = [_norm(t) for t in f.texts if t]
            if heading == code or heading in texts or any(heading == f"{code}. {t}" for t in texts):
                found = f
                break
        if found is None:
            for f in all_fields:
                if f.code not in taken and any(_abbreviated(heading, _norm(t)) for t in f.texts if t):
                    found = f
                    break
        if found is not None:
            taken.add(found.code)
            out[i] = found
    _system_by_position(structure, raw_header, out)
    return out


# --- the mapping -----------------------------------------------------------------------------------


def convention_code(code: str) -> str:
    """A contract code as a LimeSurvey code may spell it: no underscores, at most 5 characters."""
    return code.replace("_", "")[:5].lower()


def _item_of(q: Question, questions: dict[str, str]) -> str | None:
    """The contract item of a question: the mapping's `questions`, else the convention (the item's
    name without underscores, e.g. `currentstatus`)."""
    for code, item in questions.items():
        if code.lower() == q.code.lower():
            return item
    by_convention = {c.name.replace("_", ""): c.name for c in SURVEY.columns}
    return by_convention.get(q.code.lower())


def mapping_from_structure(
    structure: Structure,
    header: list[str],
    raw_header: list[str],
    short: dict | None,
    display: str,
    wave: str | None,
) -> dict:
    """The full column/answer mapping of one export, from its `.lss` and the school's short mapping.

    `short` (the `.yaml` beside the export, optional) may hold `questions` (question code -> contract
    item), `answers` (contract item -> {answer code: contract code}), `constants`, `wave`,
    `convert_y` / `convert_n` (LimeSurvey's "convert Y/N to" export options). Every question it names
    must be in the structure and in the file.
    """
    short = dict(short or {})
    questions = {str(k): str(v) for k, v in (short.get("questions") or {}).items()}
    answers = {
        str(k): {str(a): str(b) for a, b in (v or {}).items()}
        for k, v in (short.get("answers") or {}).items()
    }
    for code, item in questions.items():
        if structure.question(code) is None:
            raise FileRejected(display, f"its mapping names question {code!r}, not in {structure.file}")
        if item not in SURVEY.names:
            raise FileRejected(
                display, f"its mapping maps question {code!r} to {item!r}, not a contract item"
            )
    langs = structure.languages
    yes = {"Y", *YES.values(), *([str(short["convert_y"])] if short.get("convert_y") else [])}
    no = {"N", *NO.values(), *([str(short["convert_n"])] if short.get("convert_n") else [])}
    matched = match_headings(structure, raw_header)
    columns: dict[str, str] = {}
    multi: dict[str, dict[str, str]] = {}
    text_ticks: list[str] = []
    values: dict[str, dict[str, str]] = {}
    mapped_questions: set[str] = set()
    for i, f in matched.items():
        heading = raw_header[i]
        if f.question is None:
            if f.code in SYSTEM_TARGETS:
                columns[heading] = SYSTEM_TARGETS[f.code]
            continue
        q = f.question
        item = _item_of(q, questions)
        if item is None:
            continue
        mapped_questions.add(q.code.lower())
        if item in MULTI_CHOICE:
            codes = CODEBOOK[item]
            given = answers.get(item, {})
            if f.sub == "other":
                if "other" in codes:
                    multi.setdefault(item, {})[heading] = "other"
                    text_ticks.append(heading)
                continue
            sub = f.sub or ""
            code = given.get(sub) or next((c for c in codes if convention_code(c) == sub.lower()), None)
            if code is None:
                raise FileRejected(
                    display,
                    f"subquestion {q.code}[{sub}] of {structure.file} has no contract code of {item}: "
                    f"add it under answers: {item}: in the mapping file",
                )
            multi.setdefault(item, {})[heading] = code
            continue
        if f.sub == "other":
            continue  # the free text of a list's "Other": never loaded
        columns[heading] = item
        recode: dict[str, str] = {}
        if q.type in YES_NO_TYPES:
            recode |= {v: "yes" for v in yes} | {v: "no" for v in no}
        else:
            given = answers.get(item, {})
            item_codes = CODEBOOK.get(item, ())
            for code, texts in q.answers:
                target = given.get(code) or next(
                    (c for c in item_codes if convention_code(c) == code.lower() or c == code), None
                )
                if target is None:
                    continue  # stays unknown: the cell is quarantined with the answer it had
                recode[code] = target
                recode |= {t: target for t in texts.values() if t}
            if q.other and "other" in item_codes:
                recode |= {"-oth-": "other"} | {OTHER.get(lang, "Other"): "other" for lang in langs}
        if recode:
            values[item] = recode
    for code in questions:
        if code.lower() not in mapped_questions:
            raise FileRejected(
                display,
                f"question {code!r} of its mapping has no column in the file "
                f"(headings: {', '.join(raw_header)})",
            )
    if not any(t == "response_id" for t in columns.values()):
        raise FileRejected(
            display,
            f"no response id column (LimeSurvey's 'id' / 'Response ID') among {', '.join(raw_header)}",
        )
    return {
        "format": "limesurvey",
        "wave": short.get("wave") or wave,
        "constants": short.get("constants") or {},
        "columns": columns,
        "multi": multi,
        "text_ticks": text_ticks,
        "checked": sorted(yes),
        "no_answer": sorted({*NO_ANSWER.values(), ""}),
        "values": values,
    }


def normalised_header(raw_header: list[str]) -> list[str]:
    return [normalise_header(h) for h in raw_header]
