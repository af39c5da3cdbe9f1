#!/usr/bin/env python3
"""Side-by-side benchmark: alertbridge and the real Alertmanager on this machine, in one
run, each given the same load on POST /api/v2/alerts by wrk (2 threads, 32 connections).

For each system and batch size (1 and 100 alerts per request) it reports accepted alerts/s
and wrk's latency p50/p99, as the median of --runs runs on fresh processes, and how much
of the machine's CPU sat idle meanwhile. The runs alternate between the systems (A B, then
B A, ...), so each alertbridge run has an Alertmanager run next to it in time; the median
and range of those pairs' ratios are reported beside the ratio of the medians, since this
shared machine's speed drifts by a third within minutes. The same closed loop is then run with
--capacity-connections (128) connections: a system that answers only once a request is
durable can leave the CPU idle with 32 waiting clients, so 32 measures the clients' patience
as much as the server. Then RSS per
active alert after loading 100,000 unique alerts into a fresh process. alertbridge runs
with its default durable journal (SQLite WAL, synchronous=FULL: fsync per group commit)
and, as users run it, with an Alertmanager output: a sink on loopback (build/sink, from
bench/sink.cpp) that answers 200 at once, so encoding, the outbox and the pushes are part
of the work. Alertmanager routes to a receiver with no integrations.

Then latency at a constant rate (bench/openloop.cpp, built as build/openloop: open loop,
requests due on one even schedule and sent at their instant on any idle connection, a new
one opened when none is; latency from each request's due instant): both systems at half of
alertbridge's measured maximum requests/s, per batch size. It also reports the p99 from the
send to the answer (service), how many connections the load needed, for alertbridge the p99
of its own request histogram (receipt to answer, inside the process), and for both the p99
of how late the load generator's threads woke for their scheduled sends: on two shared
cores the generator is delayed too, and that delay counts in the latency it reports.

With --enrich, a third process runs alertbridge with enrichment on: a 100,000-row CMDB
and a 50,000-prefix customer whitelist (as bench/enrich_bench.cpp builds them), relabeling
the IP out of instance and classifying; every system then gets IP instances.

Usage: python3 bench/bench.py [--duration 20] [--runs 3] [--enrich] [--out bench/results]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import free_port, http, rfc3339  # noqa: E402
from bench_report import FSYNC, format_table, server_quantile, server_share_above  # noqa: E402,E501

BINARY = os.environ.get("ALERTBRIDGE_BIN", os.path.join(ROOT, "build", "alertbridge"))
SINK = os.environ.get("SINK_BIN", os.path.join(os.path.dirname(BINARY), "sink"))
AM = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

AM_CONFIG = """global:
  resolve_timeout: 5m
route:
  receiver: blackhole
  group_by: ['alertname', 'service']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: blackhole
"""


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


ENRICH_CONFIG = """enrich:
  relabel_configs:
    - {source_labels: [instance], regex: '([0-9.]+)(?::\\d+)?', target_label: ip}
    - {name: drop-watchdog, source_labels: [alertname], regex: Watchdog, action: drop}
  tables:
    - name: cmdb
      source: {file: cmdb.csv}
      key_label: ip
      columns: {owner: owner, team: team, app: app, business_line: business_line}
    - name: customer_whitelist
      source: {file: customer_whitelist.csv}
      key_label: ip
      match: cidr
      columns: {customer: customer}
      set: {whitelist: "Y"}
      default: {whitelist: "N"}
  classify:
    - {name: customer, matchers: ['whitelist="Y"'], set: {alert_class: business}}
"""


def write_tables(folder, rows=100000, prefixes=50000):
    import random
    rng = random.Random(42)
    with open(os.path.join(folder, "cmdb.csv"), "w") as f:
        f.write("ip,hostname,owner,team,app,business_line\n")
        for i in range(rows):
            a = 0x0A000000 + i * 37 + 11
            f.write(f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255},host-{i:06},"
                    f"user.{rng.randrange(500):03},team-{rng.randrange(40):02},"
                    f"app-{rng.randrange(300):03},line-{rng.randrange(8)}\n")
    with open(os.path.join(folder, "customer_whitelist.csv"), "w") as f:
        f.write("cidr,customer\n")
        for i in range(prefixes):
            length = 22 + rng.randrange(11)
            net = (0x0A000000 | rng.randrange(1 << 24)) & (0xFFFFFFFF << (32 - length))
            f.write(f"{net >> 24}.{(net >> 16) & 255}.{(net >> 8) & 255}.{net & 255}/{length},"
                    f"customer-{i}\n")


def end_process(proc, timeout):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Sink:
    """An Alertmanager stand-in for alertbridge's output: bench/sink.cpp, which answers each
    push 200 at once on one thread. (Until 2026-12-07 this was a Python server in this
    process, which spent about 9 us of CPU per alert of a one-alert load on the cores the
    systems share.)"""

    def __init__(self):
        self.proc = subprocess.Popen([SINK], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())

    def stop(self):
        end_process(self.proc, 10)


WITH_OUTPUT = os.environ.get("BENCH_NO_OUTPUT") != "1"  # 1: alertbridge without an output
# YAML appended to alertbridge's config, for probes outside the table (for instance
# "storage: {synchronous: normal}\n", to see what the fsync of each commit costs).
EXTRA_CONFIG = os.environ.get("BENCH_EXTRA", "")


class Proc:
    def __init__(self, kind, workdir):
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-", dir=workdir)
        self.log = open(os.path.join(self.dir, "log"), "wb")
        if kind == "alertmanager":
            cfg = os.path.join(self.dir, "am.yml")
            with open(cfg, "w") as f:
                f.write(AM_CONFIG)
            argv = [AM, f"--config.file={cfg}", f"--storage.path={self.dir}/data",
                    f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
                    "--log.level=warn"]
        else:
            self.sink = Sink()
            cfg = os.path.join(self.dir, "ab.yml")
            enrich = ""
            if kind == "alertbridge_enrich":
                write_tables(self.dir)
                enrich = ENRICH_CONFIG
            with open(cfg, "w") as f:
                f.write(f"""global: {{instance: bench, data_dir: {self.dir}/data}}
listen: {{http: "127.0.0.1:{self.port}"}}
intake: {{queue_capacity: 1000000}}
log: {{level: warn}}
{self.outputs() if WITH_OUTPUT else ""}{enrich}{EXTRA_CONFIG}""")
            argv = [BINARY, "serve", "--config", cfg]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if http("GET", self.url + "/-/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{kind} did not become ready")

    def outputs(self):
        return (f"outputs:\n  alertmanager:\n    - name: sink\n"
                f"      endpoint: \"http://127.0.0.1:{self.sink.port}\"\n"
                f"      resend_interval: 1m\n")

    def pushed(self):
        """Alerts alertbridge pushed to its output so far (None for Alertmanager)."""
        if self.kind == "alertmanager":
            return None
        m = re.search(r'^alertbridge_output_alerts_total\{[^}]*outcome="sent"[^}]*\} (\S+)$',
                      http("GET", self.url + "/metrics")[1], re.M)
        return float(m.group(1)) if m else 0.0

    def stop(self):
        if hasattr(self, "sink"):
            self.sink.stop()
        end_process(self.proc, 20)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def parse_ms(text):
    """wrk prints latencies as 850.00us, 12.34ms, 1.20s or 1.05m."""
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", text)
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000, "m": v * 60000, "h": v * 3600000}[m.group(2)]


def cpu_times():
    """The machine's CPU time so far: (idle incl. waiting for I/O, total), in ticks."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)


def run_wrk(url, batch, duration, run_id, ip_instances=False, connections=32):
    env = dict(os.environ, BATCH=str(batch), RUN_ID=run_id, IP_INSTANCES="1" if ip_instances else "0")
    for attempt in range(3):
        before = cpu_times()
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
             os.path.join(HERE, "post_alerts.lua"), url],
            env=env, capture_output=True, text=True, check=True).stdout
        after = cpu_times()
        if re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M):
            break
        # wrk printed no latency distribution (no request completed); say so and retry.
        print(f"wrk gave no latencies (attempt {attempt + 1}):\n{out}", file=sys.stderr,
              flush=True)
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    secs = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: (.*)", out)
    p50 = parse_ms(re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M).group(1))
    p99 = parse_ms(re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1))
    # Idle share of the whole machine during the run: a server that leaves the CPU idle
    # under a closed loop is waiting (here, for its fsyncs), and the client's connection
    # count, not the server, sets the rate.
    idle = (after[0] - before[0]) / max(1, after[1] - before[1])
    return {"alerts_per_s": (reqs - bad) * batch / secs, "p50_ms": p50, "p99_ms": p99,
            "non2xx": bad, "socket_errors": errors.group(1) if errors else "",
            "connections": connections, "cpu_idle_share": round(idle, 3)}


OPENLOOP = os.environ.get("OPENLOOP_BIN", os.path.join(os.path.dirname(BINARY), "openloop"))


def run_openloop(port, rate, batch, duration, run_id):
    out = subprocess.run([OPENLOOP, "127.0.0.1", str(port), f"{rate:.1f}", str(duration), "32",
                          str(batch), run_id], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def load_unique(url, n, batch=100):
    t = datetime.now(timezone.utc)
    starts, ends = rfc3339(t - timedelta(minutes=1)), rfc3339(t + timedelta(hours=6))
    for start in range(0, n, batch):
        alerts = [{"labels": {"alertname": "MemAlert", "instance": f"node-{i}:9100", "job": "node",
                              "service": ["oms", "risk", "md"][i % 3], "exchange": "SHFE",
                              "env": "prod", "severity": "warning", "team": "trading-infra"},
                   "annotations": {"summary": f"Memory probe alert {i}",
                                   "description": f"Synthetic alert {i} for the RSS measure"},
                   "startsAt": starts, "endsAt": ends}
                  for i in range(start, min(n, start + batch))]
        status, body, _ = http("POST", url + "/api/v2/alerts", alerts, timeout=30)
        if status != 200:
            raise RuntimeError(f"load failed: {status} {body}")


def measure_memory(kind, workdir, n):
    p = Proc(kind, workdir)
    try:
        time.sleep(2)
        base = rss_kib(p.proc.pid)
        load_unique(p.url, n)
        time.sleep(5)  # let the pipeline, the store and Go's GC settle
        if kind == "alertbridge":
            active = float(re.search(r"^alertbridge_active_alerts (\S+)$",
                                     http("GET", p.url + "/metrics")[1], re.M).group(1))
            assert active == n, f"alertbridge holds {active} alerts, expected {n}"
        else:
            assert len(json.loads(http("GET", p.url + "/api/v2/alerts", timeout=60)[1])) == n
        after = rss_kib(p.proc.pid)
        return {"rss_base_mib": base / 1024, "rss_after_mib": after / 1024,
                "bytes_per_alert": (after - base) * 1024 / n}
    finally:
        p.stop()


def am_version():
    r = subprocess.run([AM, "--version"], capture_output=True, text=True)
    lines = (r.stdout + r.stderr).splitlines()
    return lines[0] if lines else "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--alerts", type=int, default=100000)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--capacity-connections", type=int, default=128,
                    help="also run the closed loop with this many connections (0: skip)")
    ap.add_argument("--enrich", action="store_true",
                    help="also run alertbridge with production-sized enrichment tables")
    args = ap.parse_args()
    kinds = ("alertmanager", "alertbridge") + (("alertbridge_enrich",) if args.enrich else ())
    os.makedirs(args.out, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="alertbridge-bench-")
    results = {"conditions": {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "duration_s": args.duration, "runs": args.runs,
        "load": "wrk -t2 -c32 (and -c{} for capacity), unique label sets (8 labels, 2 "
                "annotations)".format(args.capacity_connections)
                + (", IP instances" if args.enrich else ""),
        "alertmanager": am_version(), "alertbridge_journal": "SQLite WAL, synchronous=FULL",
        "alertbridge_output": "one Alertmanager output to a sink answering 200 at once"},
        "throughput": {}, "memory": {}}
    def closed_run(kind, batch, connections, r):
        p = Proc(kind, workdir)
        try:
            run = run_wrk(p.url, batch, args.duration, f"{kind}-{batch}-c{connections}-{r}",
                          ip_instances=args.enrich, connections=connections)
            if p.kind != "alertmanager":
                time.sleep(2)  # the outbox drains
                run["pushed_alerts"] = p.pushed()
        finally:
            p.stop()
        print(f"batch={batch} connections={connections} {kind} run {r}: {run}", flush=True)
        return run

    def summary(runs):
        return {"alerts_per_s": statistics.median(x["alerts_per_s"] for x in runs),
                "p50_ms": statistics.median(x["p50_ms"] for x in runs),
                "p99_ms": statistics.median(x["p99_ms"] for x in runs),
                "cpu_idle_share": statistics.median(x["cpu_idle_share"] for x in runs),
                "non2xx": sum(x["non2xx"] for x in runs), "runs": runs}

    def interleaved(names, one_run):
        """--runs rounds of one run per system, the order turned every round (A B, B A, ...):
        on a shared machine whose speed drifts by minutes, each alertbridge run has an
        Alertmanager run beside it, and the ratio of each such pair is reported too."""
        runs = {k: [] for k in names}
        for r in range(args.runs):
            for kind in (names if r % 2 == 0 else tuple(reversed(names))):
                runs[kind].append(one_run(kind, r))
        return runs

    def paired(a_runs, b_runs, key="alerts_per_s"):
        ratios = [b[key] / a[key] for a, b in zip(a_runs, b_runs) if a[key] > 0]
        return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}

    try:
        results["paired_ratio"] = {}
        for batch in (100, 1):
            runs = interleaved(kinds, lambda k, r: closed_run(k, batch, 32, r))
            for kind in kinds:
                results["throughput"][f"{kind}/{batch}"] = summary(runs[kind])
            results["paired_ratio"][f"{batch}"] = paired(runs["alertmanager"],
                                                         runs["alertbridge"])
        # The same load from more connections: where a system answers each request only
        # once it is durable, 32 waiting clients may leave it idle (see cpu_idle_share).
        results["capacity"] = {}
        if args.capacity_connections:
            n = args.capacity_connections
            for batch in (100, 1):
                runs = interleaved(("alertmanager", "alertbridge"),
                                   lambda k, r: closed_run(k, batch, n, r))
                for kind in runs:
                    results["capacity"][f"{kind}/{batch}"] = summary(runs[kind])
                results["paired_ratio"][f"{batch}/c{n}"] = paired(runs["alertmanager"],
                                                                  runs["alertbridge"])
        # Latency at half of alertbridge's maximum, the same constant rate for both.
        results["open_loop"] = {}
        for batch in (100, 1):
            rate = results["throughput"][f"alertbridge/{batch}"]["alerts_per_s"] / batch / 2

            def open_run(kind, r):
                p = Proc(kind, workdir)
                try:
                    run = run_openloop(p.port, rate, batch, args.duration, f"ol-{kind}-{batch}-{r}")
                    if kind == "alertbridge":
                        # From receipt to answer inside the process, against what the
                        # load generator saw (which adds its own late wakes).
                        text = http("GET", p.url + "/metrics")[1]
                        run["server_p99_ms"] = server_quantile(text, 0.99)
                        # The disk's part: every answer waits for an fsync of the log.
                        run["fsync_p99_ms"] = server_quantile(text, 0.99, FSYNC)
                        run["fsync_over_5ms"] = server_share_above(text, 0.005)
                finally:
                    p.stop()
                print(f"open loop batch={batch} {kind} run {r}: {run}", flush=True)
                return run

            runs = interleaved(("alertmanager", "alertbridge"), open_run)
            for kind in runs:
                rk = runs[kind]
                results["open_loop"][f"{kind}/{batch}"] = {
                    "rate_per_s": rate,
                    "p50_ms": statistics.median(x["p50_ms"] for x in rk),
                    "p99_ms": statistics.median(x["p99_ms"] for x in rk),
                    "p99_spread_ms": [min(x["p99_ms"] for x in rk), max(x["p99_ms"] for x in rk)],
                    "oversleep_p99_ms": statistics.median(x.get("oversleep_p99_ms", 0)
                                                          for x in rk),
                    "service_p99_ms": statistics.median(x["service_p99_ms"] for x in rk),
                    "connections": [min(x["connections"] for x in rk),
                                    max(x["connections"] for x in rk)],
                    "errors": sum(x["errors"] for x in rk), "runs": rk}
                if kind == "alertbridge":
                    ob = results["open_loop"][f"{kind}/{batch}"]
                    ob["server_p99_ms"] = statistics.median(x["server_p99_ms"] or 0 for x in rk)
                    ob["fsync_p99_ms"] = [x["fsync_p99_ms"] or 0 for x in rk]
                    ob["fsync_over_5ms"] = [x["fsync_over_5ms"] or 0 for x in rk]
        for kind in ("alertmanager", "alertbridge"):
            results["memory"][kind] = measure_memory(kind, workdir, args.alerts)
            print(f"memory {kind}: {results['memory'][kind]}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    table = format_table(results, args)
    print("\n" + table)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with open(os.path.join(args.out, f"{stamp}.json"), "w") as f:
        json.dump(results, f, indent=2)
    with open(os.path.join(args.out, f"{stamp}.md"), "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()
