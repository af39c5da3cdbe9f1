"""`alertbridge replay`: a trace through the engine on a simulated clock. Timers fire at trace
time (an alert ends exactly at its endsAt), the same trace gives the same bytes, a bad line is
named by file:line, and the week-a trace (44,183 posts with ground truth) is replayed with the
CMDB enrichment on and scored with tests/tools/trace_score.py."""

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

from harness import BINARY, SOURCE, Workdir

TRACE_DIR = os.path.join(SOURCE, "tests", "fixtures", "trace")
SCORE = os.path.join(SOURCE, "tests", "tools", "trace_score.py")
START = "2026-03-09T00:00:00+08:00"

CONFIG = """global:
  instance: alertbridge-01
  data_dir: ./data
  timezone: Asia/Shanghai
  marker_label: alertbridge_origin
listen:
  http: "127.0.0.1:9095"
outputs:
  alertmanager:
    - name: am
      endpoint: "http://127.0.0.1:9093"
      resend_interval: 1m
"""

# week-a is replayed with the config and CMDB kept beside it.
WEEK_CONFIG = os.path.join(TRACE_DIR, "replay.yml")


def iso(seconds):
    """2026-03-08T16:00:00Z (the start) + seconds, as RFC 3339 in UTC."""
    from datetime import datetime, timedelta, timezone
    t = datetime(2026, 3, 8, 16, 0, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def line(t, name, instance, starts, ends, **truth):
    alert = {"labels": {"alertname": name, "instance": instance, "severity": "critical"},
             "annotations": {"summary": f"{name} on {instance}"},
             "startsAt": iso(starts), "endsAt": iso(ends)}
    return json.dumps({"t": t, "alert": alert, "truth": truth or None})


class Replay(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("replay")
        self.config = os.path.join(self.work.path, "alertbridge.yml")

    def tearDown(self):
        self.work.cleanup()

    def replay(self, trace, out=True, config=CONFIG, config_file=None):
        if config_file is None:
            with open(self.config, "w") as f:
                f.write(config)
        out_path = os.path.join(self.work.path, "out.jsonl")
        args = [BINARY, "replay", "--config", config_file or self.config, "--start", START]
        if out:
            args += ["--out", out_path]
        r = subprocess.run(args + [trace], capture_output=True, text=True, timeout=300)
        lines = []
        if out and r.returncode == 0:
            with open(out_path) as f:
                lines = [json.loads(x) for x in f]
        return r, lines

    def write_trace(self, lines):
        path = os.path.join(self.work.path, "trace.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def test_timers_fire_at_trace_time(self):
        trace = self.write_trace([
            line(0.5, "HostDown", "10.0.0.1:9100", 0, 240.5),
            line(60.5, "HostDown", "10.0.0.1:9100", 0, 300.5),   # a re-post moves endsAt
            line(100.25, "LinkDown", "10.0.0.2:9100", 90, 130.125),
            line(200, "LinkDown", "10.0.0.2:9100", 90, 190),     # already ended: no news
            line(250, "DiskFull", "10.0.0.3:9100", 250, 260),
        ])
        r, out = self.replay(trace)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [(n["t"], n["reason"], n["status"], n["alerts"][0]["labels"]["alertname"])
               for n in out]
        self.assertEqual(got, [
            (0.5, "new", "firing", "HostDown"),
            (100.25, "new", "firing", "LinkDown"),
            (130.125, "resolve", "resolved", "LinkDown"),   # at its endsAt, to the millisecond
            (250.0, "new", "firing", "DiskFull"),
        ])
        # HostDown's endsAt (300.5) and DiskFull's (260) are after the last post: the replay
        # stops at the trace's end, so both are still active.
        self.assertIn("active at the end: 2 alerts", r.stderr)
        # Labels as posted: no enrichment, no severity or source_kind added by normalize.
        self.assertEqual(out[0]["alerts"][0]["labels"],
                         {"alertname": "HostDown", "instance": "10.0.0.1:9100",
                          "severity": "critical"})
        self.assertEqual(out[0]["receiver"], "am")
        self.assertIn("notifications: 4 (new 3 resolve 1)", r.stderr)
        self.assertIn("repeats 1", r.stderr)

    def test_with_a_notification_sink_only_what_it_is_sent_counts(self):
        # Beside the Alertmanager output (a state sink, whose pushes mirror state and reach
        # no one), a webhook that is told only of problems: the out file lists what the
        # webhook was sent, not the Alertmanager pushes.
        config = CONFIG + """  webhook:
    - name: oncall
      endpoint: "http://127.0.0.1:8060/hook"
      send_resolved: false
"""
        trace = self.write_trace([
            line(1, "HostDown", "10.0.0.1:9100", 0, 30),
            line(40, "LinkDown", "10.0.0.2:9100", 40, 100),
        ])
        r, out = self.replay(trace, config=config)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([(n["t"], n["receiver"], n["reason"], n["status"]) for n in out],
                         [(1.0, "oncall", "new", "firing"), (40.0, "oncall", "new", "firing")])
        self.assertIn("notifications: 2 (new 2)", r.stderr)

    def test_a_bad_line_is_named_and_nothing_is_guessed(self):
        trace = self.write_trace([line(1, "HostDown", "10.0.0.1:9100", 0, 240),
                                  '{"t": "soon", "alert": {}}'])
        r, _ = self.replay(trace)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{trace}:2: not a trace line", r.stderr)
        back = self.write_trace([line(5, "A", "x", 0, 240), line(4, "B", "y", 0, 240)])
        r, _ = self.replay(back)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{back}:2: t goes back in time", r.stderr)

    def test_week_a_is_deterministic_and_pages_every_critical_incident(self):
        trace = os.path.join(self.work.path, "week-a.jsonl")
        with gzip.open(os.path.join(TRACE_DIR, "week-a.jsonl.gz"), "rb") as src, \
                open(trace, "wb") as dst:
            shutil.copyfileobj(src, dst)
        r1, out1 = self.replay(trace, config_file=WEEK_CONFIG)
        self.assertEqual(r1.returncode, 0, r1.stderr)
        first = open(os.path.join(self.work.path, "out.jsonl"), "rb").read()
        r2, _ = self.replay(trace, config_file=WEEK_CONFIG)
        second = open(os.path.join(self.work.path, "out.jsonl"), "rb").read()
        self.assertEqual(first, second, "the same trace and config give the same bytes")
        self.assertIn("44183 posts, 44183 alerts (0 rejected)", r1.stderr)
        score = json.loads(subprocess.run(
            [sys.executable, SCORE, trace, os.path.join(self.work.path, "out.jsonl")],
            capture_output=True, text=True, check=True, timeout=300).stdout)
        self.assertEqual(score["events_in"], 44183)
        self.assertEqual(score["notifications"], len(out1))
        # Without any noise stage every critical incident is notified at once...
        self.assertEqual(score["critical_incidents"], 19)
        self.assertEqual(score["critical_recall_5min"], 1.0)
        self.assertEqual(score["ttfn_critical_s"]["max"], 0.0)
        # ... and so is every firing: each one once, except a firing whose first post is
        # already its resolution (counted as a resolve of an unknown alert).
        unknown = int(float(re.search(r"resolves of unknown alerts ([0-9.]+)", r1.stderr)[1]))
        self.assertEqual(score["notifications_firing"], score["alert_firings"] - unknown)
        new = sum(1 for n in out1 if n["reason"] == "new")
        self.assertEqual(new, score["notifications_firing"])
        wall = re.search(r"wall time ([0-9.]+) s", r1.stderr)[1]
        print(f"week-a: {len(out1)} notifications, critical recall "
              f"{score['critical_recall_5min']}, replay wall time {wall} s")


if __name__ == "__main__":
    unittest.main()
