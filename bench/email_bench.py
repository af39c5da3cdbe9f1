#!/usr/bin/env python3
"""Email benchmarks.

1. Parse throughput: build/email_parse_bench over the fixture corpus (MIME decoding and the
   rule packs, one thread, no I/O).
2. SMTP intake with durable acknowledgements: alertbridge with its SMTP listener and the
   default durable journal (SQLite WAL, fsync per group commit); --clients processes each
   keep one SMTP connection and send the fixture corpus round robin for --duration seconds
   with Python's smtplib. A message counts once its 250 arrives, which alertbridge sends
   only after the raw message is committed. Median of --runs runs on fresh processes.

The clients run on the same machine and take CPU from alertbridge; the figure is a floor.
There is no Alertmanager counterpart (Alertmanager has no email intake).

Usage: python3 bench/email_bench.py [--duration 15] [--runs 3] [--clients 8]
"""

import argparse
import glob
import json
import multiprocessing
import os
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import free_port, http  # noqa: E402

BINARY = os.environ.get("ALERTBRIDGE_BIN", os.path.join(ROOT, "build", "alertbridge"))
PARSE_BENCH = os.path.join(os.path.dirname(BINARY), "email_parse_bench")
CORPUS = [os.path.join(ROOT, "tests", "fixtures", d)
          for d in ("email", "email_extra", "email_variants")]


def client(port, messages, until, out):
    sent = 0
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("bench")
        i = os.getpid()
        while time.time() < until:
            s.sendmail("appliance@dc.example", ["ops@alerts.example"], messages[i % len(messages)])
            i += 1
            sent += 1
    out.put(sent)


def smtp_run(workdir, messages, clients, duration):
    d = tempfile.mkdtemp(prefix="bench-smtp-", dir=workdir)
    http_port, smtp_port = free_port(), free_port()
    cfg = os.path.join(d, "ab.yml")
    with open(cfg, "w") as f:
        f.write(f"""global: {{instance: bench, data_dir: {d}/data}}
listen: {{http: "127.0.0.1:{http_port}", smtp: "127.0.0.1:{smtp_port}"}}
intake: {{queue_capacity: 1000000}}
log: {{level: warn}}
""")
    log = open(os.path.join(d, "log"), "wb")
    proc = subprocess.Popen([BINARY, "serve", "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if http("GET", f"http://127.0.0.1:{http_port}/-/ready", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        q = multiprocessing.Queue()
        until = time.time() + duration
        started = time.time()
        procs = [multiprocessing.Process(target=client, args=(smtp_port, messages, until, q))
                 for _ in range(clients)]
        for p in procs:
            p.start()
        total = sum(q.get(timeout=duration + 60) for _ in procs)
        took = time.time() - started
        for p in procs:
            p.join()
        return total / took
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    messages = []
    for d in CORPUS:
        for path in sorted(glob.glob(os.path.join(d, "**", "*.eml"), recursive=True)):
            with open(path, "rb") as f:
                messages.append(f.read())

    parse = json.loads(subprocess.run([PARSE_BENCH, "--seconds", "2", "--rounds", "5", *CORPUS],
                                      capture_output=True, text=True, check=True).stdout)
    print(f"parse: {parse}", flush=True)

    workdir = tempfile.mkdtemp(prefix="alertbridge-email-bench-")
    rates = []
    try:
        for r in range(args.runs):
            rates.append(smtp_run(workdir, messages, args.clients, args.duration))
            print(f"smtp run {r}: {rates[-1]:,.0f} messages/s", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("| measure | alertbridge |")
    print("|---|---|")
    print(f"| email parse, {parse['messages']} fixture messages, 1 thread | "
          f"{parse['messages_per_second']:,} messages/s ({parse['mb_per_second']:.1f} MB/s; "
          f"rounds {parse['min']:,}–{parse['max']:,}) |")
    print(f"| SMTP intake, 250 after commit, {args.clients} connections | "
          f"{statistics.median(rates):,.0f} messages/s (runs {min(rates):,.0f}–{max(rates):,.0f}) |")


if __name__ == "__main__":
    main()
