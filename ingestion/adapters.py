"""Adapters: turn a parsed export into the canonical columns of its contract, as VARCHAR.

Canonical files only need trimming; a LimeSurvey export is renamed and recoded through its mapping
file (docs/mapping-format.md); the Spanish TGSS extract keeps its own columns and is mapped to the
canonical contract type after validation (see loaders.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingestion.contract import WAVES, FileSpec
from ingestion.csvfile import FileRejected, describe_header, listed, normalise_header
from ingestion.db import quote_ident, quote_literal


@dataclass
class Canonical:
    """The SELECT that yields the canonical VARCHAR columns, and what the adapter noticed."""

    sql: str
    adapter: str
    notes: list[str] = field(default_factory=list)
    # Contract column -> the header the file itself uses for it, so that quarantine rows name both.
    headers: dict[str, str] = field(default_factory=dict)
    present: list[str] = field(default_factory=list)  # contract columns the file (or mapping) provides


def _clean(ref: str) -> str:
    return f"nullif(trim({ref}), '')"


def canonical_select(
    spec: FileSpec, header: list[str], table: str, display: str, raw_header: list[str] | None = None
) -> Canonical:
    """Select the contract's columns from a file that already uses canonical names."""
    missing = [c for c in spec.required if c not in header]
    if missing:
        raise FileRejected(
            display,
            f"missing required column(s) {', '.join(missing)}; {describe_header(header, set(spec.names))}",
        )
    cols = ["_line"]
    for name in spec.names:
        cols.append(
            f"{_clean(quote_ident(name))} as {quote_ident(name)}"
            if name in header
            else f"null::varchar as {quote_ident(name)}"
        )
    ignored = [h for h in header if h not in spec.names]
    notes = [f"ignored columns not in the contract: {listed(ignored)}"] if ignored else []
    shown = raw_header or header
    headers = {h: shown[i].strip() for i, h in enumerate(header) if h in spec.names}
    return Canonical(f"select {', '.join(cols)} from {table}", "canonical", notes, headers)


class _TextLoader(yaml.SafeLoader):
    """YAML without implicit booleans and numbers: `yes`, `no`, `on`, `01` stay the text they are."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml_text(path: Path) -> object:
    """Parse a mapping file with every scalar as text (only an empty value or `~` is null)."""
    return yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_TextLoader)  # a SafeLoader


def load_mapping(path: Path, display: str, *, short: bool = False) -> dict:
    """Read a mapping file; `short`: the school's part beside a LimeSurvey `.lss` (any section)."""
    try:
        mapping = read_yaml_text(path)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FileRejected(display, f"mapping file {path.name} is not valid YAML: {exc}") from exc
    if short and (mapping is None or isinstance(mapping, dict)):
        return mapping or {}
    if not isinstance(mapping, dict) or "columns" not in mapping:
        raise FileRejected(display, f"mapping file {path.name} has no 'columns' section")
    return mapping


# Named conversions a mapping may apply to a source column before it is typed (`transforms:`).
NACE_SECTIONS = (
    ("A", 1, 3), ("B", 5, 9), ("C", 10, 33), ("D", 35, 35), ("E", 36, 39), ("F", 41, 43),
    ("G", 45, 47), ("H", 49, 53), ("I", 55, 56), ("J", 58, 63), ("K", 64, 66), ("L", 68, 68),
    ("M", 69, 75), ("N", 77, 82), ("O", 84, 84), ("P", 85, 85), ("Q", 86, 88), ("R", 90, 93),
    ("S", 94, 96), ("T", 97, 98), ("U", 99, 99),
)  # fmt: skip


def _nace_section(ref: str) -> str:
    division = f"try_cast(left(regexp_replace({ref}, '[^0-9]', '', 'g'), 2) as integer)"
    cases = " ".join(f"when {division} between {lo} and {hi} then '{sec}'" for sec, lo, hi in NACE_SECTIONS)
    # A value that is already a section letter passes; anything else stays and fails the codebook.
    return f"case when regexp_full_match({ref}, '[0-9]{{2}}.*') then (case {cases} end) else {ref} end"


TRANSFORMS = {
    # CNAE-2009 / NACE Rev. 2 class or division (e.g. 5610, 56.10) -> its section letter.
    "nace_division_to_section": _nace_section,
    # TGSS's part-time coefficient is per mille of the full-time day (500 = half time).
    "per_mille_to_percent": lambda ref: f"cast(try_cast(replace({ref}, ',', '.') as double) / 10 as varchar)",
}


def mapped_select(
    spec: FileSpec,
    header: list[str],
    table: str,
    display: str,
    mapping: dict,
    wave: str | None,
    *,
    check_required: bool = True,
    raw_header: list[str] | None = None,
) -> Canonical:
    """Rename and recode a tool's own export (LimeSurvey, a national extract, any generic one) to canonical.

    Every source column the mapping names must be in the file: a misspelt key is an error naming it,
    never a silently empty column.
    """
    fmt = str(mapping.get("format") or "generic").lower()
    if mapping.get("wave") and wave is not None and mapping["wave"] != wave:
        raise FileRejected(
            display,
            f"its mapping says wave {mapping['wave']!r} but it sits in surveys/{wave}/ "
            f"(waves: {', '.join(WAVES)})",
        )
    checked = [str(v) for v in mapping.get("checked") or (["Y"] if fmt == "limesurvey" else ["1"])]
    # Answers that mean "no answer" (LimeSurvey's N/A, a not-shown question): NULL, not an unknown code.
    no_answer = [str(v) for v in mapping.get("no_answer") or []]
    values = {
        str(k): {str(a): ("" if b is None else str(b)) for a, b in (v or {}).items()}
        for k, v in (mapping.get("values") or {}).items()
    }
    shown = dict(zip(header, raw_header or header, strict=True))
    exprs: dict[str, str] = {}
    sources: dict[str, str] = {}
    used: set[str] = set()
    unmatched: list[str] = []

    def source(src: object) -> str | None:
        src_n = normalise_header(str(src))
        if src_n not in header:
            unmatched.append(str(src))
            return None
        used.add(src_n)
        return src_n

    def clean(src_n: str) -> str:
        ref = _clean(quote_ident(src_n))
        if no_answer:
            ref = f"case when {ref} in ({', '.join(map(quote_literal, no_answer))}) then null else {ref} end"
        return ref

    for src, target in (mapping.get("columns") or {}).items():
        target = str(target)
        if target not in spec.names:
            raise FileRejected(display, f"mapping maps {src!r} to {target!r}, not a contract column")
        src_n = source(src)
        if src_n is None:
            continue
        ref = clean(src_n)
        if target in values:
            cases = " ".join(
                f"when {quote_literal(a)} then {quote_literal(b) if b else 'null'}"
                for a, b in values[target].items()
            )
            # An answer missing from the mapping stays as it is and fails the codebook check.
            ref = f"case {ref} {cases} else {ref} end"
        exprs[target] = ref
        sources[target] = shown.get(src_n, str(src))
    # Free-text "Other" columns of a multi-choice question: ticked when their text is not empty.
    text_ticks = {normalise_header(str(v)) for v in mapping.get("text_ticks") or []}
    for target, options in (mapping.get("multi") or {}).items():
        target = str(target)
        if target not in spec.names:
            raise FileRejected(display, f"mapping has multi-choice {target!r}, not a contract column")
        parts, names = [], []
        for src, code in (options or {}).items():
            src_n = source(src)
            if src_n is None:
                continue
            names.append(shown.get(src_n, str(src)))
            if src_n in text_ticks:  # the text itself never leaves this expression
                parts.append(f"case when {clean(src_n)} is not null then {quote_literal(str(code))} end")
            else:
                parts.append(
                    f"case when trim({quote_ident(src_n)}) in ({', '.join(map(quote_literal, checked))})"
                    f" then {quote_literal(str(code))} end"
                )
        if parts:
            exprs[target] = f"nullif(concat_ws(';', {', '.join(parts)}), '')"
            sources[target] = ", ".join(names)
    for target, constant in (mapping.get("constants") or {}).items():
        target = str(target)
        if target not in spec.names:
            raise FileRejected(display, f"mapping sets constant {target!r}, not a contract column")
        exprs[target] = quote_literal(str(constant))
        sources[target] = "(constant of the mapping file)"
    for target, name in (mapping.get("transforms") or {}).items():
        if str(name) not in TRANSFORMS:
            raise FileRejected(
                display, f"mapping transform {name!r} unknown (known: {', '.join(sorted(TRANSFORMS))})"
            )
        if str(target) not in exprs:
            raise FileRejected(display, f"mapping transforms {target!r}, which no column is mapped to")
        exprs[str(target)] = TRANSFORMS[str(name)](exprs[str(target)])
    if unmatched:
        raise FileRejected(
            display,
            f"its mapping names column(s) the file does not have: {', '.join(unmatched)} "
            f"({describe_header(header, used | {normalise_header(u) for u in unmatched})})",
        )
    missing = [c for c in spec.required if c not in exprs] if check_required else []
    if missing:
        raise FileRejected(
            display,
            f"after applying its mapping, required column(s) {', '.join(missing)} are missing",
        )
    cols = ["_line"] + [
        f"{exprs[name]} as {quote_ident(name)}" if name in exprs else f"null::varchar as {quote_ident(name)}"
        for name in spec.names
    ]
    ignored = [shown.get(h, h) for h in header if h not in used]
    notes = [f"unmapped source columns ignored: {listed(ignored)}"] if ignored else []
    canon = Canonical(f"select {', '.join(cols)} from {table}", fmt, notes, sources)
    canon.present = list(exprs)
    return canon


# --- admin extracts ---------------------------------------------------------------------------

ADMIN_ALWAYS = ("national_id", "spell_start", "source", "extracted_on")


def sepe_contract_type(key: str) -> str:
    """SQL: the contract's contract type of a SEPE contract key (NULL when not a valid key).

    1xx-3xx permanent (full time, part time, fijo discontinuo), 4xx-5xx temporary; the training
    contracts 420/520 (prácticas) and 421/521 (formación y aprendizaje) are `apprenticeship`.
    """
    return f"""case when {key} in ('420', '421', '520', '521') then 'apprenticeship'
                    when regexp_full_match({key}, '[1-3][0-9]{{2}}') then 'permanent'
                    when regexp_full_match({key}, '[45][0-9]{{2}}') then 'temporary' end"""


def admin_select(
    present: list[str], table: str, display: str, headers: dict[str, str] | None = None
) -> Canonical:
    """The admin columns of `ADMIN_TYPED` from canonical-named columns `present` of `table`.

    The adapter is chosen per row by its declared `source` as well as by the file's shape: a row of
    `source = es_tgss` whose `contract_type` holds a SEPE key (three digits) is mapped like a TGSS
    extract's `contract_key`; a file with `contract_key` / `regime` columns is a TGSS extract.
    """
    from ingestion.contract import ADMIN_TYPED

    missing = [c for c in ADMIN_ALWAYS if c not in present]
    if not {"contract_type", "contract_key", "regime"} & set(present):
        missing.append("contract_type (or the TGSS contract_key and regime)")
    if missing:
        raise FileRejected(
            display,
            f"missing required column(s) {', '.join(missing)}; {describe_header(present)}",
        )

    def col(name: str) -> str:
        return _clean(quote_ident(name)) if name in present else "null::varchar"

    source, ctype = col("source"), col("contract_type")
    key = (
        f"coalesce({col('contract_key')}, case when lower({source}) = 'es_tgss' "
        f"and regexp_full_match({ctype}, '[0-9]{{3}}') then {ctype} end)"
    )
    regime = f"coalesce(upper({col('regime')}), case when {key} is not null then 'RG' end)"
    contract = (
        f"case when {regime} = 'RETA' then 'self_employed' when {key} is not null "
        f"then {sepe_contract_type(key)} else {ctype} end"
    )
    exprs = {"contract_key": key, "regime": regime, "contract_type": contract}
    cols = ["_line"] + [
        f"{exprs.get(c.name, col(c.name))} as {quote_ident(c.name)}" for c in ADMIN_TYPED.columns
    ]
    tgss = "contract_key" in present or "regime" in present
    return Canonical(
        f"select {', '.join(cols)} from {table}",
        "es_tgss" if tgss else "canonical",
        [],
        dict(headers or {}),
    )
