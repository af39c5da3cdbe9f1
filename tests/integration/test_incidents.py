"""Incidents on the week-a trace with the config an operator ships for it
(config-examples/trace/week-a.yml, its CMDB and change calendar beside it). The figures of
issue 13 must hold: at most 223 notifications (3 % of Alertmanager's 7,440), every critical
incident notified within 5 minutes, the median first notification within 30 s; the same
on a one-day cut (Friday: the storm, three cascades and eight critical incidents). And the
same config, unchanged, on other weeks made from this one (tests/tools/move_trace.py), from
an estate whose hosts, racks, switches, clusters and addresses all have other names, with
only the CMDB and the change calendar beside the config that estate's: the week of the
Qingming closure, the week of the Labour Day closures, and a week of 2027, past the
shipped calendar data."""

import datetime
import gzip
import json
import os
import shutil
import subprocess
import sys
import unittest

from harness import BINARY, SOURCE, Workdir

TRACE = os.path.join(SOURCE, "tests", "fixtures", "trace", "week-a.jsonl.gz")
SCORE = os.path.join(SOURCE, "tests", "tools", "trace_score.py")
CONFIG = os.path.join(SOURCE, "config-examples", "trace", "week-a.yml")
META = os.path.join(SOURCE, "tests", "fixtures", "trace", "week-a.meta.json")
CMDB = os.path.join(SOURCE, "tests", "fixtures", "trace", "week-a.cmdb.csv")
MOVE = os.path.join(SOURCE, "tests", "tools", "move_trace.py")
START = "2026-03-09T00:00:00+08:00"
DAY = 86400.0


class TraceIncidents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("incidents")
        cls.week = os.path.join(cls.work.path, "week-a.jsonl")
        cls.friday = os.path.join(cls.work.path, "friday.jsonl")
        with gzip.open(TRACE, "rt", encoding="utf-8") as src, \
                open(cls.week, "w", encoding="utf-8") as week, \
                open(cls.friday, "w", encoding="utf-8") as friday:
            for line in src:
                week.write(line)
                if 4 * DAY <= json.loads(line)["t"] < 5 * DAY:
                    friday.write(line)

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def replay(self, trace, name, config=CONFIG, start=START):
        out = os.path.join(self.work.path, name + ".notifications.jsonl")
        incidents = os.path.join(self.work.path, name + ".incidents.jsonl")
        r = subprocess.run([BINARY, "replay", "--config", config, "--start", start, "--out", out,
                            "--incidents", incidents, trace],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        score = json.loads(subprocess.run([sys.executable, SCORE, trace, out], capture_output=True,
                                          text=True, check=True, timeout=300).stdout)
        with open(out, "rb") as f:
            raw = f.read()
        with open(incidents, encoding="utf-8") as f:
            incs = [json.loads(x) for x in f]
        notes = [json.loads(x) for x in raw.decode("utf-8").splitlines()]
        return r, score, notes, incs, raw

    def test_the_week_meets_the_targets_and_replays_the_same_bytes(self):
        r, score, notes, incs, first = self.replay(self.week, "week")
        print(f"week-a: {score['notifications']} notifications, recall "
              f"{score['critical_recall_5min']}, ttfn {score['ttfn_critical_s']}; "
              + r.stderr.strip().splitlines()[-1])
        self.assertLessEqual(score["notifications"], 223)
        self.assertEqual(score["critical_incidents"], 19)
        self.assertEqual(score["critical_recall_5min"], 1.0, score["critical_missed_5min"])
        self.assertLessEqual(score["ttfn_critical_s"]["median"], 30.0)
        # Every line is a message to people, of a known kind, with the labels as posted.
        for n in notes:
            self.assertIn(n["reason"], ("new", "update", "repeat", "resolve", "digest"))
            for a in n["alerts"]:
                self.assertNotIn("tier", a["labels"], "labels are the posted ones, not enriched")
        # A paged incident's end is told; one never notified is never told it ended.
        pages = {n["group_key"] for n in notes if n["reason"] == "new"}
        resolved = {n["group_key"] for n in notes if n["reason"] == "resolve"}
        self.assertLessEqual(resolved, pages)
        closed_paged = {f"incident/{i['id']}" for i in incs if i["paged"] and i["state"] == "resolved"}
        self.assertEqual(closed_paged, resolved)
        # Why: every member says how it joined and what the policy wanted.
        self.assertTrue(all(m["via"] and m["policy"] for i in incs for m in i["members"]))
        _, _, _, _, second = self.replay(self.week, "week-again")
        self.assertEqual(first, second, "the same trace and config give the same bytes")

    def test_a_day_with_the_storm_stays_within_bounds(self):
        r, score, notes, incs, _ = self.replay(self.friday, "friday")
        print(f"friday: {score['notifications']} notifications, recall "
              f"{score['critical_recall_5min']} of {score['critical_incidents']}")
        self.assertEqual(score["critical_incidents"], 8)
        self.assertEqual(score["critical_recall_5min"], 1.0, score["critical_missed_5min"])
        self.assertLessEqual(score["ttfn_critical_s"]["median"], 30.0)
        self.assertLessEqual(score["notifications"], 40)
        # The dc-zj storm is one incident holding hundreds of alerts.
        storms = [i for i in incs if i["storm"]]
        self.assertEqual(len(storms), 1)
        self.assertGreater(len(storms[0]["members"]), 500)

    def moved(self, days, closed, name):
        """week-a moved `days` later, from an estate with other names (move_trace.py), replayed
        with the shipped config and service catalogue beside that estate's CMDB and change
        calendar (written by the shipped generator)."""
        moved = os.path.join(self.work.path, name)
        subprocess.run([sys.executable, MOVE, TRACE, META, CMDB, "--days", str(days),
                        "--salt", name, "--out", moved]
                       + [x for c in closed for x in ("--closed", c)],
                       check=True, capture_output=True, timeout=300)
        conf = os.path.join(self.work.path, name + "-conf")
        shutil.copytree(os.path.join(SOURCE, "config-examples", "trace"),
                        os.path.join(conf, "trace"))
        shutil.copytree(os.path.join(SOURCE, "config-examples", "calendars"),
                        os.path.join(conf, "calendars"))
        shutil.copyfile(moved + ".cmdb.csv", os.path.join(conf, "trace", "cmdb.csv"))
        with open(os.path.join(conf, "trace", "maintenance.yml"), "w", encoding="utf-8") as f:
            subprocess.run([sys.executable, os.path.join(conf, "trace", "make_maintenance.py"),
                            moved + ".meta.json"], stdout=f, check=True, timeout=60)
        start = (datetime.date(2026, 3, 9) + datetime.timedelta(days=days)).isoformat()
        got = self.replay(moved + ".jsonl", name, os.path.join(conf, "trace", "week-a.yml"),
                          start + "T00:00:00+08:00")
        score = got[1]
        print(f"{name}: {score['notifications']} notifications, recall "
              f"{score['critical_recall_5min']} of {score['critical_incidents']}, ttfn "
              f"{score['ttfn_critical_s']}")
        return got

    def assertPagesEveryCriticalAndNothingBefore(self, score, notes, criticals, closed_until):
        self.assertEqual(score["critical_incidents"], criticals)
        self.assertEqual(score["critical_recall_5min"], 1.0, score["critical_missed_5min"])
        self.assertLessEqual(score["ttfn_critical_s"]["median"], 30.0)
        self.assertLessEqual(score["notifications"], 223)
        self.assertEqual(score["notifications_by_content"]["noise_only"], 0)
        pages = [n for n in notes if n["reason"] == "new"]
        self.assertEqual([n["t"] for n in pages if n["t"] < closed_until], [],
                         "a page while the exchanges are closed")
        self.assertEqual(len(pages), criticals)

    def test_another_estate_in_the_week_of_qingming(self):
        # 2026-03-09 + 28 days is Monday 2026-04-06: the exchanges closed, no session that
        # day and none on its evening. Monday's three critical incidents (a risk engine
        # lag, a CFMMC upload, a night front) need no one.
        r, score, notes, incs, _ = self.moved(28, ["2026-04-06"], "qingming")
        self.assertPagesEveryCriticalAndNothingBefore(score, notes, 16, DAY)
        self.assertTrue(all(m["via"] and m["policy"] for i in incs for m in i["members"]))
        self.assertNotIn("warning", r.stderr)

    def test_another_estate_in_the_week_of_labour_day(self):
        # + 56 days: Monday 2026-05-04 and Tuesday 05-05 closed, the first night on
        # Wednesday evening; Saturday 05-09 is a make-up workday, which never trades.
        r, score, notes, _, _ = self.moved(56, ["2026-05-04", "2026-05-05"], "labour-day")
        self.assertPagesEveryCriticalAndNothingBefore(score, notes, 11, 2 * DAY)

    def test_a_week_past_the_calendar_data_warns_and_pages_every_critical(self):
        # + 364 days: 2027, which the shipped data does not cover (when a 2027 file ships,
        # move this past its end). Every calendar answer is unknown: the policy pages by
        # severity alone rather than miss a critical one.
        r, score, notes, _, _ = self.moved(364, [], "next-year")
        self.assertIn("warning: the trace runs past a calendar's data: calendar cn-futures "
                      "ended on 2026-12-31", r.stderr)
        self.assertEqual(score["critical_incidents"], 19)
        self.assertEqual(score["critical_recall_5min"], 1.0, score["critical_missed_5min"])


if __name__ == "__main__":
    unittest.main()
