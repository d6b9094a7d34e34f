"""Reading report pages back: every figure a page prints, with the key of the marts.indicators row
its ``data-gt`` attribute names (shared by the site and end-to-end tests)."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path
from typing import Any

ELEMENT = re.compile(r'<(div|td|span) (?:class="[^"]*" )?data-gt="([^"]+)"[^>]*>')


def indicator_key(r: dict[str, Any]) -> tuple:
    return (r["cohort"], r["wave"], r["indicator"], r["source"], r["breakdown"], str(r["breakdown_value"]))


def words(fragment: str) -> list[str]:
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()


def printed_figures(page: Path) -> list[tuple[tuple, list[str]]]:
    """Every figure printed with its provenance (data-gt) and the words printed for it."""
    text = page.read_text(encoding="utf-8")
    out = []
    for match in ELEMENT.finditer(text):
        data = json.loads(html_lib.unescape(match.group(2)))
        rest = text[match.end() : match.end() + 2000]
        if match.group(1) == "div":  # big value: the number is in its own div
            printed = re.search(r'<div class="bv-number">(.*?)</div>', rest).group(1)  # type: ignore[union-attr]
        else:
            printed = rest[: rest.find(f"</{match.group(1)}>")]
        out.append((indicator_key(data), words(printed)))
    return out
