"""Data-quality checks: Great Expectations 1.x suites (`suites.py`) run as Dagster asset checks
(`checks.py`) on the raw inputs and on marts/indicators. See docs/quality.md."""
