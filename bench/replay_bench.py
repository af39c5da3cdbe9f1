#!/usr/bin/env python3
"""Replay speed: the week-a trace (44,183 posts, tests/fixtures/trace) through
`alertbridge replay` with the CMDB enrichment on and --out written, as the noise work
measures it. Reports the wall time the replay itself prints (its summary line), as the
median, minimum and maximum of --runs runs on fresh processes, and posts per second.
There is no Alertmanager side to this one: Alertmanager has no replay.

Usage: python3 bench/replay_bench.py [--runs 7] [--binary build/alertbridge]
"""

import argparse
import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TRACE = os.path.join(ROOT, "tests", "fixtures", "trace")

CONFIG = os.path.join(TRACE, "replay.yml")  # with the CMDB beside it


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "alertbridge"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="alertbridge-replay-bench-")
    try:
        trace = os.path.join(work, "week-a.jsonl")
        with gzip.open(os.path.join(TRACE, "week-a.jsonl.gz"), "rb") as src, \
                open(trace, "wb") as dst:
            shutil.copyfileobj(src, dst)
        config = CONFIG
        walls, posts, notes = [], 0, 0
        for _ in range(args.runs):
            r = subprocess.run([args.binary, "replay", "--config", config, "--start",
                                "2026-03-09T00:00:00+08:00", "--out",
                                os.path.join(work, "out.jsonl"), trace],
                               capture_output=True, text=True, check=True)
            walls.append(float(re.search(r"wall time ([0-9.]+) s", r.stderr)[1]))
            posts = int(re.search(r"replay: (\d+) posts", r.stderr)[1])
            notes = int(re.search(r"notifications: (\d+)", r.stderr)[1])
        med = statistics.median(walls)
        print(f"replay of week-a ({posts} posts, {notes} notifications), {args.runs} runs:")
        print(f"  wall time median {med:.2f} s (min {min(walls):.2f}, max {max(walls):.2f});"
              f" {posts / med:,.0f} posts/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
