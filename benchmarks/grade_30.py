"""Time `mmgan grade` on 30 submissions of the warm-up notebook (target: < 5 min, 2 CPU cores).

Usage (from the repository root):
    python benchmarks/grade_30.py [--workers 2]

Submissions are a mix of full, half-done and blank copies of exercises/00_warmup.ipynb,
so passing and failing checks both count in the time.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmgan_ref.course.grader import grade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="parallel runs (default: 2)")
    parser.add_argument("--count", type=int, default=30, help="submissions (default: 30)")
    args = parser.parse_args()
    solution = json.loads((ROOT / "solutions" / "00_warmup.ipynb").read_text())
    blank = json.loads((ROOT / "exercises" / "00_warmup.ipynb").read_text())
    half = copy.deepcopy(blank)
    for cell, answer in zip(half["cells"], solution["cells"], strict=True):
        if cell["id"] == "ex0-1-solution":
            cell["source"] = answer["source"]
    kinds = [("full", solution), ("half", half), ("blank", blank)]
    with tempfile.TemporaryDirectory() as tmp:
        submissions = Path(tmp) / "submissions"
        for index in range(args.count):
            kind, nb = kinds[index % len(kinds)]
            folder = submissions / f"student{index:02d}_{kind}"
            folder.mkdir(parents=True)
            (folder / "00_warmup.ipynb").write_text(json.dumps(nb))
        start = time.perf_counter()
        rows = grade(submissions, out=Path(tmp) / "gradebook.csv",
                     solutions_dir=ROOT / "solutions", workers=args.workers)
        seconds = time.perf_counter() - start
    totals = sorted({row["total"] for row in rows})
    print(f"graded {len(rows)} submissions of 00_warmup with {args.workers} workers on "
          f"{os.cpu_count()} CPU cores in {seconds:.1f} s ({seconds / len(rows):.2f} s each; "
          f"distinct totals: {', '.join(totals)}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
