#!/usr/bin/env python3
"""What each noise rule buys on a trace: replays it with config-examples/trace/week-a.yml,
then with one rule turned off at a time, and scores every run with tests/tools/trace_score.py.
Prints a Markdown table (the README's ablation table).

  python3 bench/trace_ablation.py [--bin build/alertbridge] [--trace tests/fixtures/trace/week-a.jsonl.gz]
"""
import argparse
import copy
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START = "2026-03-09T00:00:00+08:00"


def no_topology(n):
    n.pop("topology", None)


def no_storms(n):
    n.pop("storms", None)


def no_flapping(n):
    n.pop("flapping", None)


def no_maintenance(n):
    n.pop("maintenance_windows_file", None)
    n.pop("maintenance_windows", None)


def no_suppress(n):
    n.pop("suppress", None)


def no_calendar(n):
    for p in n.get("policy", []):
        p.pop("active_time_intervals", None)
        p.pop("mute_time_intervals", None)


def no_group_by(n):
    n.pop("group_by", None)


def no_digest(n):
    n["policy"] = [p for p in n.get("policy", []) if p.get("action") != "digest"]
    n.pop("digests", None)


VARIANTS = [
    ("everything on", None),
    ("without topology (parents)", no_topology),
    ("without storms", no_storms),
    ("without flapping", no_flapping),
    ("without maintenance windows", no_maintenance),
    ("without the quotes suppress rule", no_suppress),
    ("without calendar limits on the policy", no_calendar),
    ("without group_by", no_group_by),
    ("without digests (non-critical recorded only)", no_digest),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "alertbridge"))
    ap.add_argument("--trace", default=os.path.join(ROOT, "tests", "fixtures", "trace",
                                                    "week-a.jsonl.gz"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ablation-")
    try:
        # The configs read files beside them and ../calendars: copy config-examples whole.
        examples = os.path.join(work, "config-examples")
        shutil.copytree(os.path.join(ROOT, "config-examples"), examples)
        trace = os.path.join(work, "trace.jsonl")
        opener = gzip.open if args.trace.endswith(".gz") else open
        with opener(args.trace, "rb") as src, open(trace, "wb") as dst:
            shutil.copyfileobj(src, dst)
        base = yaml.safe_load(open(os.path.join(examples, "trace", "week-a.yml")))
        print("| configuration | notifications | pages | updates | resolutions | digests "
              "| critical recall (5 min) | first notification, median / max |")
        print("|---|---|---|---|---|---|---|---|")
        for name, change in VARIANTS:
            cfg = copy.deepcopy(base)
            if change:
                change(cfg["noise"])
            path = os.path.join(examples, "trace", "variant.yml")
            with open(path, "w") as f:
                yaml.safe_dump(cfg, f, sort_keys=False)
            out = os.path.join(work, "out.jsonl")
            r = subprocess.run([args.bin, "replay", "--config", path, "--start", START, "--out", out,
                                trace], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{name}: replay failed:\n{r.stderr}")
            score = json.loads(subprocess.run(
                [sys.executable, os.path.join(ROOT, "tests", "tools", "trace_score.py"), trace, out],
                capture_output=True, text=True, check=True).stdout)
            by = {}
            for line in open(out):
                reason = json.loads(line)["reason"]
                by[reason] = by.get(reason, 0) + 1
            t = score["ttfn_critical_s"]
            print(f"| {name} | {score['notifications']} | {by.get('new', 0)} | {by.get('update', 0)} "
                  f"| {by.get('resolve', 0)} | {by.get('digest', 0)} "
                  f"| {score['critical_notified_ever'] and round(score['critical_recall_5min'] * score['critical_incidents'])}"
                  f"/{score['critical_incidents']} | {t['median']} s / {t['max']} s |")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
