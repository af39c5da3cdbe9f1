#!/usr/bin/env python3
"""Makes another week out of a trace: the same alerts on other dates, from an estate with
other names, with the truth and the change calendar moved along.

  python3 move_trace.py TRACE.jsonl[.gz] META.json CMDB.csv --days N [--closed DATE ...]
                        [--salt S] --out PREFIX

writes PREFIX.jsonl, PREFIX.meta.json and PREFIX.cmdb.csv:
- every absolute time (startsAt, endsAt, the maintenance windows) moves N days; `t` stays,
  so the new origin is the old one plus N days;
- every name the CMDB knows (hosts, racks, ToR switches, SmartX clusters, switches and
  exchange lines) becomes a salted hash wherever it appears as a whole label value, in the
  CMDB and in the windows' scopes; 10.x.y.z addresses become 172.x.y.z;
- a critical incident is no longer critical when, in the new dates, its first alert falls
  where the closures (`--closed`, weekday dates the exchanges do not open) leave no window:
  08:00-20:25 on a day that does not trade (the day session and the settlement window), or
  20:25-08:00 after an evening without a night session (the evening of a day that does not
  trade, or of one with a closure before the next trading day). By the trace's rules nothing
  is critical outside those windows; only for traces whose criticality is all window-bound,
  as week-a's is.
Exchanges, sites, services, teams and alert names stay: they are the vocabulary the rules
are written in, not the estate's names.
"""
import argparse
import csv
import datetime as dt
import gzip
import hashlib
import json
import re
import sys

IP = re.compile(r"\b10\.(\d+)\.(\d+)\.(\d+)\b")
NAMED = ("host", "rack", "tor_switch", "smartx_cluster")


def opener(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def move_utc(stamp, days):
    """An RFC 3339 stamp moved by whole days; the fraction and zone are kept as written."""
    head, tail = stamp[:19], stamp[19:]
    return (dt.datetime.fromisoformat(head) + dt.timedelta(days=days)).isoformat() + tail


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("meta")
    ap.add_argument("cmdb")
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--closed", action="append", default=[])
    ap.add_argument("--salt", default="moved")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    with open(a.cmdb, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = {}
    for r in rows:
        for col in NAMED:
            v = r.get(col) or ""
            if v:
                names.setdefault(v, "x" + hashlib.sha256((a.salt + v).encode()).hexdigest()[:9])

    def rename(v):
        return IP.sub(r"172.\1.\2.\3", names.get(v, v))

    with open(a.out + ".cmdb.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows({k: rename(v or "") for k, v in r.items()} for r in rows)

    with open(a.meta, encoding="utf-8") as f:
        meta = json.load(f)
    closed = {dt.date.fromisoformat(c) for c in a.closed}

    def trades(day):
        return day.weekday() < 5 and day not in closed

    def night_after(day):
        if not trades(day):
            return False
        nxt = day + dt.timedelta(days=1)
        while not trades(nxt):
            if nxt in closed:
                return False
            nxt += dt.timedelta(days=1)
        return True

    def no_window(local):
        hm = local.hour * 60 + local.minute
        if 8 * 60 <= hm < 20 * 60 + 25:
            return not trades(local.date())
        evening = local.date() - dt.timedelta(days=1 if hm < 8 * 60 else 0)
        return not night_after(evening)

    demoted = set()
    for inc in meta.get("incidents", []):
        first = dt.datetime.fromisoformat(inc["first_local"]) + dt.timedelta(days=a.days)
        if inc.get("critical") and no_window(first):
            inc["critical"] = False
            demoted.add(inc["id"])
    for win in meta.get("maintenance_windows", []):
        for k in ("start", "end"):
            win[k] = (dt.datetime.fromisoformat(win[k]) + dt.timedelta(days=a.days)).isoformat()
        win["scope"] = {k: [rename(x) for x in v] if isinstance(v, list) else rename(v)
                        for k, v in win.get("scope", {}).items()}
    with open(a.out + ".meta.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)

    with opener(a.trace) as src, open(a.out + ".jsonl", "w", encoding="utf-8") as dst:
        for line in src:
            rec = json.loads(line)
            alert = rec["alert"]
            alert["labels"] = {k: rename(v) for k, v in alert["labels"].items()}
            for k in ("startsAt", "endsAt"):
                if k in alert:
                    alert[k] = move_utc(alert[k], a.days)
            truth = rec.get("truth") or {}
            if truth.get("incident") in demoted:
                truth["critical"] = False
            dst.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"moved {a.days} days; renamed {len(names)} names; no longer critical: "
          f"{' '.join(sorted(demoted)) or 'none'}", file=sys.stderr)


if __name__ == "__main__":
    main()
