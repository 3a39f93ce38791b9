"""Exploratory summary of an experiment's data (seeds 003/004): what `data inspect` prints."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .pipeline import Labeled


def summarize(labeled: Labeled) -> dict[str, Any]:
    frame = labeled.frame
    lengths = frame["clean"].str.split().str.len().to_numpy()
    p = {q: float(np.percentile(lengths, q)) for q in (50, 90, 95)}
    classes = {name: int((frame["label"] == i).sum()) for i, name in enumerate(labeled.class_names)}
    groups = {}
    if (frame["group"] != "").any():
        table = frame.groupby("group")["label"].value_counts().unstack(fill_value=0)
        for group, row in table.sort_values(by=list(table.columns), ascending=False).iterrows():
            groups[str(group)] = {labeled.class_names[int(c)]: int(n) for c, n in row.items()}
    return {
        "file": str(labeled.source),
        "sha256": labeled.file_sha256,
        "files": dict(labeled.files),
        **labeled.counts,
        "classes": classes,
        "majority_share": max(classes.values()) / len(frame),
        "exact_duplicates": int(frame["text"].duplicated().sum()),
        "normalized_duplicates": int(frame["key"].duplicated().sum()),
        "tokens": {"mean": float(lengths.mean()), "p50": p[50], "p90": p[90], "p95": p[95],
                   "max": int(lengths.max())},
        # p95 rounded up to a multiple of 5: truncates at most ~5% of texts (seed 004 used p90)
        "suggested_sequence_length": int(5 * math.ceil(p[95] / 5)),
        "groups": groups,
    }


def format_summary(s: dict[str, Any]) -> str:
    files = s.get("files") or {s["file"]: s["sha256"]}
    lines = [f"file                {path}\nsha256              {sha}" for path, sha in files.items()]
    lines += [f"rows read           {s['rows_read']}"]
    lines += [f"  from {key.removeprefix('rows_read_'):<13} {value}"
              for key, value in s.items() if key.startswith("rows_read_")]
    if "dropped_cross_source_duplicates" in s:
        lines.append(f"dropped (dup.)      {s['dropped_cross_source_duplicates']}   (text already in "
                     "an earlier source)")
    lines += [
        f"dropped (label)     {s['dropped_label']}   (neutral in binary mode, or unmapped)",
        f"dropped (empty)     {s['dropped_empty_text']}   (nothing left after cleaning)",
        f"rows kept           {s['rows_kept']}",
        "classes             " + ", ".join(f"{k} {v} ({v / s['rows_kept']:.1%})"
                                           for k, v in s["classes"].items()),
        f"majority baseline   {s['majority_share']:.3f} accuracy",
        f"duplicates          {s['exact_duplicates']} exact, {s['normalized_duplicates']} "
        "normalized (kept on one side of every split)",
        "tokens per text     mean {mean:.1f}  p50 {p50:.0f}  p90 {p90:.0f}  p95 {p95:.0f}  "
        "max {max}".format(**s["tokens"]),
        f"suggested sequence_length  {s['suggested_sequence_length']} (p95, rounded up)",
    ]
    if s["groups"]:
        names = list(s["classes"])
        width = max(len(g) for g in s["groups"])
        lines.append("")
        lines.append(f"{'group':<{width}}  " + "  ".join(f"{n:>8}" for n in names) + "     total")
        for group, counts in s["groups"].items():
            total = sum(counts.values())
            lines.append(f"{group:<{width}}  " + "  ".join(f"{counts.get(n, 0):>8}" for n in names)
                         + f"  {total:>8}")
    return "\n".join(lines)
