"""The trading-session calendar from the outside: `alertbridge calendar` (table, JSON, iCal),
check-config on a broken data file, and the calendar API of a running daemon. The iCal output
is read back with a real parser (Debian's python3-icalendar)."""

import json
import os
import shutil
import subprocess
import unittest
from datetime import date, datetime, timezone

from harness import BINARY, SOURCE, Alertbridge, Workdir, http

FULL = os.path.join(SOURCE, "config-examples", "full.yml")
# Debian's interpreter, where python3-icalendar is installed (another python3 may come first
# on PATH).
SYSTEM_PYTHON = "/usr/bin/python3"


def calendar(*args, text=True):
    return subprocess.run([BINARY, "calendar", "--config", FULL, *args], capture_output=True,
                          text=text, timeout=60)


def state(at):
    r = calendar("--at", at, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def parse_ics(text):
    """Events of an iCalendar text as read by icalendar: (uid, summary, start, end)."""
    script = (
        "import icalendar, json, sys\n"
        "cal = icalendar.Calendar.from_ical(sys.stdin.read())\n"
        "out = []\n"
        "for e in cal.walk('VEVENT'):\n"
        "    out.append([str(e['UID']), str(e['SUMMARY']), e.decoded('DTSTART').isoformat(),\n"
        "                e.decoded('DTEND').isoformat()])\n"
        "print(json.dumps(out))\n")
    r = subprocess.run([SYSTEM_PYTHON, "-c", script], input=text, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def shipped_calendars_section(data_dir):
    """The calendars: section of full.yml with its data files at an absolute path."""
    with open(FULL) as f:
        text = f.read()
    section = text[text.index("\ncalendars:\n") + 1:]
    return section.replace("calendars/cn-futures-", os.path.join(data_dir, "cn-futures-"))


class CalendarCommand(unittest.TestCase):
    def test_json_answers_the_design_cases(self):
        s = state("2026-03-06T22:00:00+08:00")
        self.assertEqual(s["at"], "2026-03-06T22:00:00+08:00")
        self.assertEqual((s["calendar"], s["date"], s["date_is_trading_day"], s["expired"]),
                         ("cn-futures", "2026-03-06", True, False))
        self.assertEqual(s["valid_until"], "2026-12-31")
        self.assertEqual(s["groups"]["n2300"],
                         {"phase": "continuous", "session": "night", "trading_day": "2026-03-09"})
        for g in ("shfe-precious", "shfe-base", "n2300", "commodity-day-only", "cffex-index",
                  "cffex-index-options", "cffex-bond", "shfe", "ine", "dce", "czce", "cffex",
                  "gfex"):
            self.assertIn(g, s["groups"])
        self.assertEqual(s["groups"]["commodity-day-only"]["session"], None)
        times = [t["at"] for t in s["next_transitions"]]
        self.assertEqual(times, sorted(times))
        self.assertEqual(s["next_transitions"][0],
                         {"at": "2026-03-06T23:00:00+08:00", "group": "n2300", "phase": "closed"})
        self.assertEqual(len({t["group"] for t in s["next_transitions"]}),
                         len(s["next_transitions"]), "the next change of each group")
        # The same instant given in UTC, and without seconds.
        self.assertEqual(state("2026-03-06T14:00:00Z")["groups"], s["groups"])
        self.assertEqual(state("2026-03-06T22:00+08:00")["groups"], s["groups"])
        # A make-up Saturday is not a trading day; the evening before a holiday has no night.
        s = state("2026-02-14T10:00:00+08:00")
        self.assertFalse(s["date_is_trading_day"])
        self.assertEqual(state("2026-02-13T22:00:00+08:00")["groups"]["shfe-precious"]["phase"],
                         "closed")
        # Past the data: unknown, never open or closed.
        s = state("2027-01-05T10:00:00+08:00")
        self.assertTrue(s["expired"])
        self.assertIsNone(s["date_is_trading_day"])
        self.assertEqual({g["phase"] for g in s["groups"].values()}, {"unknown"})
        self.assertEqual({g["trading_day"] for g in s["groups"].values()}, {None})

    def test_the_hosts_zone_changes_nothing(self):
        # Session times are in the calendar's location, whatever TZ the host runs in.
        for tz in ("UTC", "America/New_York", "Asia/Kolkata"):
            r = subprocess.run([BINARY, "calendar", "--config", FULL, "--json", "--at",
                                "2026-03-06T13:30:00Z"], capture_output=True, text=True,
                               timeout=60, env={**os.environ, "TZ": tz})
            self.assertEqual(r.returncode, 0, r.stderr)
            s = json.loads(r.stdout)
            self.assertEqual(s["at"], "2026-03-06T21:30:00+08:00", tz)
            self.assertEqual(s["groups"]["n2300"]["phase"], "continuous", tz)
            self.assertEqual(s["groups"]["n2300"]["trading_day"], "2026-03-09", tz)

    def test_table_and_bad_input(self):
        r = calendar("--at", "2026-02-13T22:00+08:00")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2026-02-24T08:55:00+08:00  shfe-precious         pre_open", r.stdout)
        r = calendar("--at", "yesterday")
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not a time", r.stderr)
        r = calendar("--calendar", "nyse")
        self.assertEqual(r.returncode, 1)
        self.assertIn('no calendar is named "nyse" (known: cn-futures)', r.stderr)

    def test_ics_is_read_by_a_real_parser(self):
        raw = calendar("--ics", text=False).stdout
        self.assertTrue(all(line.endswith(b"\r") or line == b"" for line in raw.split(b"\n")),
                        "every line ends in CRLF")
        self.assertTrue(all(len(line) <= 76 for line in raw.split(b"\n")), "lines are folded")
        r = calendar("--ics")
        self.assertEqual(r.returncode, 0, r.stderr)
        events = parse_ics(r.stdout)
        uids = [e[0] for e in events]
        self.assertEqual(len(uids), len(set(uids)), "UIDs are unique")
        by_uid = {e[0]: e for e in events}
        night = by_uid["cn-futures-n2300-night-2026-03-09@alertbridge"]
        self.assertEqual(night[2:], ["2026-03-06T12:55:00+00:00", "2026-03-06T15:00:00+00:00"])
        self.assertIn("cn-futures-shfe-precious-day-2026-02-24@alertbridge", by_uid)
        self.assertNotIn("cn-futures-shfe-precious-night-2026-02-24@alertbridge", by_uid)
        self.assertIn("cn-futures-holiday-2026-02-17@alertbridge", by_uid)
        # 2025 and 2026: 485 trading days, each with a day session for the 7 product groups.
        days = [u for u in uids if "-day-" in u]
        self.assertEqual(len(days), 485 * 7)
        # Stable: the same UIDs on a second run.
        self.assertEqual(sorted(uids), sorted(e[0] for e in parse_ics(calendar("--ics").stdout)))
        one = parse_ics(calendar("--ics", "--group", "n2300").stdout)
        self.assertTrue(all("-n2300-" in e[0] or "-holiday-" in e[0] or "-closure-" in e[0]
                            for e in one))


class CheckConfig(unittest.TestCase):
    def test_a_broken_data_file_is_an_error_at_its_line(self):
        work = Workdir("calendar-check")
        self.addCleanup(work.cleanup)
        data = os.path.join(work.path, "calendars")
        shutil.copytree(os.path.join(SOURCE, "config-examples", "calendars"), data)
        with open(os.path.join(data, "cn-futures-2026.yaml")) as f:
            text = f.read()
        broken = text.replace("  - {dates: 2026-02-23, mark: V}", "  - {dates: 2026-02-22, mark: V}")
        lines = broken.split("\n")
        line = next(i for i, l in enumerate(lines) if "2026-02-22" in l) + 1
        with open(os.path.join(data, "cn-futures-2026.yaml"), "w") as f:
            f.write(broken)
        cfg = os.path.join(work.path, "alertbridge.yml")
        with open(cfg, "w") as f:
            f.write("outputs:\n  alertmanager:\n    - name: am\n"
                    "      endpoint: http://127.0.0.1:9093\n" + shipped_calendars_section(data))
        r = subprocess.run([BINARY, "check-config", cfg], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"cn-futures-2026.yaml:{line}: closures: 2026-02-22 is a sunday", r.stderr)


class CalendarApi(unittest.TestCase):
    def test_the_daemon_serves_json_and_ics(self):
        work = Workdir("calendar-api")
        self.addCleanup(work.cleanup)
        data = os.path.join(SOURCE, "config-examples", "calendars")
        ab = Alertbridge(work.path, extra=shipped_calendars_section(data)).start()
        self.addCleanup(ab.stop)
        for at in ("2026-03-06T22:00:00%2B08:00", "2026-03-06T22:00:00+08:00",
                   "2026-03-06T14:00:00Z"):
            status, body, _ = http("GET", ab.url + "/api/v1/calendars/cn-futures?at=" + at)
            self.assertEqual(status, 200, body)
            s = json.loads(body)
            self.assertEqual(s["at"], "2026-03-06T22:00:00+08:00")
            self.assertEqual(s["groups"]["shfe-base"]["phase"], "continuous")
        self.assertEqual(http("GET", ab.url + "/api/v1/calendars/cn-futures?at=soon")[0], 400)
        status, body, headers = http("GET", ab.url + "/api/v1/calendars/cn-futures.ics?group=cffex-bond")
        self.assertEqual(status, 200)
        events = parse_ics(body)
        self.assertIn("cn-futures-cffex-bond-day-2026-03-06@alertbridge", {e[0] for e in events})
        self.assertEqual(http("GET", ab.url + "/api/v1/calendars/nyse.ics")[0], 404)
        self.assertEqual(http("GET", ab.url + "/api/v1/calendars/cn-futures.ics?group=x")[0], 400)
        today = datetime.now(timezone.utc).date()
        self.assertEqual(ab.metric("alertbridge_calendar_data_expired", calendar="cn-futures"),
                         1 if today > date(2026, 12, 31) else 0)


if __name__ == "__main__":
    unittest.main()
