"""Incidents shown in the hosts' UIs. With a noise section alertbridge pushes one alert per
incident to the real Alertmanager (alertbridge_role="incident", alertbridge_notify="page"
from its first page on) and every member with alertbridge_role="member" and its incident and
hold as annotations; the example alertmanager.yml sends people only the paging incident,
once, and routes the rest to a receiver with no integrations. The fake n9e gets one event
per incident too (members optional)."""

import json
import time
import unittest

from fake_n9e import FakeN9e
from harness import (Alertbridge, Alertmanager, Sink, Workdir, alert, free_port, http,
                     wait_for)

MARKER = "alertbridge_origin"
NOISE = """noise:
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  resolve_wait: 1s
  release_wait: 1s
  policy:
    - {name: critical, matchers: ['severity="critical"'], action: page}
  default_action: record
"""


class IncidentPush(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("incident-push")
        self.sink = Sink()
        self.n9e = FakeN9e()
        am_port = free_port()
        self.ab = Alertbridge(self.work.path, am_url=f"http://127.0.0.1:{am_port}",
                              n9e=self.n9e, extra=NOISE)
        # Members stay out of n9e (one event per incident there).
        with open(self.ab.config) as f:
            cfg = f.read()
        cfg = cfg.replace("      group_id: 7\n", "      group_id: 7\n      member_alerts: false\n")
        with open(self.ab.config, "w") as f:
            f.write(cfg)
        self.ab.start()
        self.am = Alertmanager(self.work.path, self.ab.port, self.sink.port, port=am_port).start()

    def tearDown(self):
        try:
            self.ab.stop()
            self.am.stop()
        finally:
            self.sink.stop()
            self.n9e.stop()
            self.work.cleanup()
        self.assertEqual(self.n9e.violations, [])

    def shown(self, **labels):
        return [a for a in self.am.alerts(**labels) if a["labels"].get(MARKER) == "alertbridge-01"]

    def people(self):
        return [b for _, b in self.sink.requests]

    def test_one_incident_alert_pages_members_shown_with_reasons(self):
        # A silence on one member, through the silences API.
        silence = {"matchers": [{"name": "instance", "value": "10.70.0.3:9100",
                                 "isRegex": False}],
                   "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
                   "createdBy": "ops", "comment": "disk swap"}
        status, body, _ = http("POST", self.ab.url + "/api/v2/silences", silence)
        self.assertEqual(status, 200, body)
        sid = json.loads(body)["silenceID"]
        alerts = [alert("FrontDown", f"10.70.0.{i}:9100", minutes_left=30) for i in (1, 2, 3)]
        alerts.append(alert("DiskWarn", "10.70.0.9:9100", minutes_left=30, severity="warning"))
        self.assertEqual(self.ab.post_alerts(alerts)[0], 200)

        paging = wait_for(lambda: self.shown(alertname="AlertbridgeIncident",
                                             alertbridge_notify="page"),
                          timeout=20, what="the paging incident in Alertmanager")
        self.assertEqual(len(paging), 1)
        inc = paging[0]
        self.assertEqual((inc["labels"]["alertbridge_role"], inc["labels"]["severity"]),
                         ("incident", "critical"))
        self.assertIn("FrontDown", inc["annotations"]["summary"])
        self.assertEqual(inc["annotations"]["alertbridge_members"], "3")
        self.assertIn("1 held", inc["annotations"]["description"])
        self.assertEqual([r["name"] for r in inc["receivers"]], ["oncall"])
        number = inc["labels"]["alertbridge_incident"]
        # The same incident before it paged was resolved in the same push: one copy active.
        self.assertEqual(len(self.shown(alertname="AlertbridgeIncident",
                                        alertbridge_incident=number)), 1)
        # The warning's incident is shown, told to no one.
        quiet = wait_for(lambda: [a for a in self.shown(alertname="AlertbridgeIncident")
                                  if "alertbridge_notify" not in a["labels"]],
                         timeout=10, what="the incident that does not page")
        self.assertEqual([r["name"] for r in quiet[0]["receivers"]], ["ui-only"])
        # Members: in the UI with their incident and reasons, routed to no one.
        members = wait_for(lambda: len(self.shown(alertname="FrontDown")) == 3 and
                           self.shown(alertname="FrontDown"), timeout=10, what="members")
        for m in members:
            self.assertEqual(m["labels"]["alertbridge_role"], "member")
            self.assertEqual(m["annotations"]["alertbridge_incident"], number)
            self.assertEqual([r["name"] for r in m["receivers"]], ["ui-only"])
        held = [m for m in members if m["labels"]["instance"] == "10.70.0.3:9100"][0]
        self.assertEqual(held["annotations"]["alertbridge_suppressed"], f"silence:{sid}")

        # People got the incident once: one group, one alert, paging.
        wait_for(lambda: self.people(), timeout=15, what="the page at the people's receiver")
        time.sleep(4)  # re-sends every 2 s must not page again
        pages = self.people()
        self.assertEqual(len(pages), 1, pages)
        self.assertEqual([a["labels"]["alertbridge_incident"] for a in pages[0]["alerts"]],
                         [number])
        self.assertEqual(pages[0]["status"], "firing")

        # n9e: one event per incident, no members.
        events = wait_for(lambda: self.n9e.active_where(alertbridge_role="incident"),
                          timeout=10, what="incident events in n9e")
        self.assertEqual(len(events), 2)
        self.assertEqual(self.n9e.active_where(alertbridge_role="member"), [])

        # Everything ends: the incident resolves and people hear of it once.
        for a in alerts:
            self.assertEqual(self.ab.post_alerts([dict(a, endsAt=a["startsAt"])])[0], 200)
        wait_for(lambda: any(b["status"] == "resolved" for b in self.people()), timeout=20,
                 what="the resolution at the people's receiver")
        wait_for(lambda: not self.shown(alertname="AlertbridgeIncident"), timeout=20,
                 what="no incident left active in Alertmanager")
        wait_for(lambda: not self.n9e.active_where(alertbridge_role="incident"), timeout=20,
                 what="the incidents recovered in n9e")
        self.assertEqual(len(self.people()), 2)


if __name__ == "__main__":
    unittest.main()
