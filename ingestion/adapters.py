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
from ingestion.csvfile import FileRejected, normalise_header
from ingestion.db import quote_ident, quote_literal


@dataclass
class Canonical:
    """The SELECT that yields the canonical VARCHAR columns, and what the adapter noticed."""

    sql: str
    adapter: str
    notes: list[str] = field(default_factory=list)


def _clean(ref: str) -> str:
    return f"nullif(trim({ref}), '')"


def canonical_select(spec: FileSpec, header: list[str], table: str, display: str) -> Canonical:
    """Select the contract's columns from a file that already uses canonical names."""
    missing = [c for c in spec.required if c not in header]
    if missing:
        raise FileRejected(
            display,
            f"missing required column(s) {', '.join(missing)}; the header has: {', '.join(header)}",
        )
    cols = ["_line"]
    for name in spec.names:
        cols.append(
            f"{_clean(quote_ident(name))} as {quote_ident(name)}"
            if name in header
            else f"null::varchar as {quote_ident(name)}"
        )
    ignored = [h for h in header if h not in spec.names]
    notes = [f"ignored columns not in the contract: {', '.join(ignored)}"] if ignored else []
    return Canonical(f"select {', '.join(cols)} from {table}", "canonical", notes)


def load_mapping(path: Path, display: str) -> dict:
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FileRejected(display, f"mapping file {path.name} is not valid YAML: {exc}") from exc
    if not isinstance(mapping, dict) or "columns" not in mapping:
        raise FileRejected(display, f"mapping file {path.name} has no 'columns' section")
    return mapping


def mapped_select(
    spec: FileSpec, header: list[str], table: str, display: str, mapping: dict, wave: str
) -> Canonical:
    """Rename and recode a tool's own export (LimeSurvey, or any generic one) to canonical."""
    fmt = str(mapping.get("format", "generic")).lower()
    if mapping.get("wave") and mapping["wave"] != wave:
        raise FileRejected(
            display,
            f"its mapping says wave {mapping['wave']!r} but it sits in surveys/{wave}/ "
            f"(waves: {', '.join(WAVES)})",
        )
    checked = [str(v) for v in mapping.get("checked", ["Y"] if fmt == "limesurvey" else ["1"])]
    values = {
        k: {str(a): str(b) for a, b in (v or {}).items()} for k, v in (mapping.get("values") or {}).items()
    }
    exprs: dict[str, str] = {}
    used: set[str] = set()
    for src, target in (mapping.get("columns") or {}).items():
        src_n = normalise_header(str(src))
        if target not in spec.names:
            raise FileRejected(display, f"mapping maps {src!r} to {target!r}, not a contract column")
        if src_n not in header:
            continue
        used.add(src_n)
        ref = _clean(quote_ident(src_n))
        if target in values:
            cases = " ".join(
                f"when {quote_literal(a)} then {quote_literal(b)}" for a, b in values[target].items()
            )
            # An answer missing from the mapping stays as it is and fails the codebook check.
            ref = f"case {ref} {cases} else {ref} end"
        exprs[target] = ref
    for target, options in (mapping.get("multi") or {}).items():
        if target not in spec.names:
            raise FileRejected(display, f"mapping has multi-choice {target!r}, not a contract column")
        parts = []
        for src, code in (options or {}).items():
            src_n = normalise_header(str(src))
            if src_n not in header:
                continue
            used.add(src_n)
            parts.append(
                f"case when trim({quote_ident(src_n)}) in ({', '.join(map(quote_literal, checked))})"
                f" then {quote_literal(str(code))} end"
            )
        if parts:
            exprs[target] = f"nullif(concat_ws(';', {', '.join(parts)}), '')"
    for target, constant in (mapping.get("constants") or {}).items():
        if target not in spec.names:
            raise FileRejected(display, f"mapping sets constant {target!r}, not a contract column")
        exprs[target] = quote_literal(str(constant))
    missing = [c for c in spec.required if c not in exprs]
    if missing:
        raise FileRejected(
            display,
            f"after applying its mapping, required column(s) {', '.join(missing)} are missing",
        )
    cols = ["_line"] + [
        f"{exprs[name]} as {quote_ident(name)}" if name in exprs else f"null::varchar as {quote_ident(name)}"
        for name in spec.names
    ]
    ignored = [h for h in header if h not in used]
    notes = [f"unmapped source columns ignored: {', '.join(ignored)}"] if ignored else []
    return Canonical(f"select {', '.join(cols)} from {table}", fmt, notes)
