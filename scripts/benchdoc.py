"""What the benchmark scripts share: the nearest-rank percentile, and writing a benchmark's
section into docs/benchmarks.md between its start and end markers (the section includes
them), replacing what was there or appending it."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
HEADER = ("# Benchmarks\n\nEvery figure here comes from a script in `scripts/`; the command is "
          "given with each table.\n\n")


def write_section(start, end, section):
    text = open(DOC).read() if os.path.exists(DOC) else HEADER
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    with open(DOC, "w") as f:
        f.write(text)


def percentile(values, p):
    """The nearest-rank `p`th percentile of `values` (NaN for none)."""
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
