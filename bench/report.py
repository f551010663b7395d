"""The figures of a ``bench/results.json`` as the Markdown table of docs/performance.md.

python -m bench.report [bench/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.run import DEFAULT_RESULTS


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def _target(result: dict[str, Any]) -> str:
    target = result.get("target") or {}
    parts = []
    if "min_ratio" in target:
        parts.append(f"≥ {target['min_ratio']}× baseline")
    if "min" in target:
        parts.append(f"≥ {target['min']:,.0f}")
    if "max" in target:
        parts.append(f"≤ {target['max']:,.0f}")
    return ", ".join(parts) or "–"


def table(report: dict[str, Any]) -> str:
    lines = [
        "| path | figure (median) | baseline (median) | ratio | target | met | runs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report["results"]:
        met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
        runs = ", ".join(_number(v) for v in r["runs"])
        lines.append(
            f"| `{r['name']}` ({r['metric']}) | {_number(r['value'], r['unit'])} | "
            f"{_number(r['baseline'], r['unit'])} ({r.get('baseline_name') or '–'}) | "
            f"{_number(r['ratio'])} | {_target(r)} | {met} | {runs} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0]) if args else DEFAULT_RESULTS
    report = json.loads(path.read_text(encoding="utf-8"))
    m = report["machine"]
    print(
        f"Scale {report['scale']:,} listings · {report['database']} · {m.get('cpu')} "
        f"({m.get('cores')} cores, {m.get('memory_gib')} GiB) · Python {m.get('python')} · "
        f"commit {m.get('commit')} · {report['finished_at']}\n"
    )
    print(table(report))
    if report.get("errors"):
        print("\nFailed paths: " + ", ".join(report["errors"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
