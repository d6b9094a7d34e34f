"""Deterministic sample data: a landing folder as eight TRACKTION-like pilot schools would fill it.

`generate(out, graduates=..., cohorts=..., seed=...)` writes registers, three survey waves, admin spells
and context indicators in the formats real tools produce, plus the ground truth in `<out>.truth`.
"""

from ingestion.sample.generator import SampleSummary, generate

__all__ = ["SampleSummary", "generate"]
