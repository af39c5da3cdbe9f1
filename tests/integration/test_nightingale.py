"""Nightingale both ways: n9e events in (object and array), alerts out to n9e as events,
next to the real Alertmanager; the loop guard; contacts never stored; a full n9e queue."""

import json
import os
import sqlite3
import subprocess
import time
import unittest

from fake_n9e import FakeN9e
from harness import (SOURCE, Alertbridge, Alertmanager, Sink, Workdir, alert, free_port, http,
                     wait_for)

FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "nightingale")
MARKER = "alertbridge_origin"


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def fresh(event, hash_, when):
    """The fixture event as if it fired at `when` (Unix seconds), under a new hash."""
    e = dict(event)
    e["hash"] = hash_
    for k in ("trigger_time", "first_trigger_time", "last_eval_time", "last_sent_time"):
        if k in e:
            e[k] = when
    return e


class Nightingale(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("n9e")
        cls.sink = Sink()
        cls.n9e = FakeN9e()
        am_port = free_port()
        # A host table keyed on n9e's ident tag, so enriched labels show on both hosts.
        with open(os.path.join(cls.work.path, "hosts.yaml"), "w") as f:
            f.write("- {ident: trade-gw-01, owner: li.na, team: trading-infra}\n")
        enrich = ("enrich:\n  tables:\n    - name: hosts\n      source: {file: hosts.yaml}\n"
                  "      key_label: ident\n      columns: {owner: owner, team: team}\n"
                  "  classify:\n    - {matchers: ['team=\"trading-infra\"'], "
                  "set: {alert_class: business}}\n")
        cls.ab = Alertbridge(cls.work.path, am_url=f"http://127.0.0.1:{am_port}",
                             n9e=cls.n9e, extra=enrich).start()
        cls.am = Alertmanager(cls.work.path, cls.ab.port, cls.sink.port, port=am_port).start()

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.am.stop()
        cls.n9e.stop()
        cls.sink.stop()
        cls.work.cleanup()

    def tearDown(self):
        self.assertEqual(self.n9e.violations, [])

    def post_event(self, body):
        return http("POST", self.ab.url + "/webhook/nightingale", body)

    def in_am(self, **labels):
        return [a for a in self.am.alerts(**labels) if a["labels"].get(MARKER) == "alertbridge-01"]

    def test_event_reaches_alertmanager_and_n9e_and_its_recovery_resolves_both(self):
        now = int(time.time()) - 30
        firing = fresh(fixture("webhook-event-firing.json"), "it-hash-1", now)
        status, body, _ = self.post_event(firing)
        self.assertEqual(status, 200, body)
        shown = wait_for(lambda: self.in_am(rule_id="213", ident="trade-gw-01"), timeout=10,
                         what="the n9e event in Alertmanager")
        self.assertEqual(shown[0]["labels"]["severity"], "critical")
        self.assertEqual(shown[0]["labels"]["source_kind"], "nightingale")
        self.assertEqual(shown[0]["labels"]["owner"], "li.na")  # enriched, seen in AM
        self.assertEqual(shown[0]["labels"]["alert_class"], "business")
        pushed = wait_for(lambda: self.n9e.active_where(rule_id="213", ident="trade-gw-01"),
                          timeout=10, what="the event active in n9e")
        self.assertEqual(pushed[0]["tags_map"]["owner"], "li.na")  # and in n9e
        self.assertEqual(pushed[0]["tags_map"]["team"], "trading-infra")
        self.assertEqual(pushed[0]["tags_map"]["alert_class"], "business")
        self.assertEqual(pushed[0]["rule_id"], 9001, "our placeholder rule")
        self.assertEqual(pushed[0]["tags_map"][MARKER], "alertbridge-01")
        self.assertEqual(pushed[0]["notify_rule_ids"], [3])
        self.assertNotIn("notify_channels", pushed[0])

        recovered = fresh(fixture("webhook-event-recovered.json"), "it-hash-1", now)
        recovered["last_eval_time"] = now + 20
        status, body, _ = self.post_event(recovered)
        self.assertEqual(status, 200, body)
        wait_for(lambda: not self.in_am(rule_id="213", ident="trade-gw-01"), timeout=10,
                 what="the alert resolved in Alertmanager")
        wait_for(lambda: not self.n9e.active_where(rule_id="213", ident="trade-gw-01"),
                 timeout=10, what="the event recovered in n9e")
        recoveries = [e for e in self.n9e.history
                      if e.get("is_recovered") and e["tags_map"].get("ident") == "trade-gw-01"]
        self.assertEqual(recoveries[-1]["last_eval_time"], now + 20)
        self.assertEqual(recoveries[-1]["trigger_time"], pushed[0]["trigger_time"])

    def test_array_body_from_the_callback_channel(self):
        events = fixture("callback-channel-body-firing.json")
        events = [fresh(events[0], "it-hash-array", int(time.time()) - 30)]
        events[0]["tags_map"] = dict(events[0]["tags_map"], ident="trade-gw-09")
        status, body, _ = self.post_event(events)
        self.assertEqual(status, 200, body)
        wait_for(lambda: self.in_am(ident="trade-gw-09"), timeout=10, what="the array event")

    def test_alertmanager_webhook_alert_is_pushed_to_n9e(self):
        status, body, _ = self.am.post_alerts([alert("FromPrometheus", "10.40.0.1:9100")])
        self.assertEqual(status, 200, body)
        ev = wait_for(lambda: self.n9e.active_where(alertname="FromPrometheus"), timeout=30,
                      what="the Alertmanager alert as an n9e event")
        self.assertEqual(ev[0]["tags_map"]["source_kind"], "alertmanager_webhook")
        self.assertEqual(ev[0]["tags_map"]["alert_class"], "system")  # the default class
        self.assertEqual(ev[0]["severity"], 1)

    def test_own_marker_tag_is_not_pushed_back(self):
        e = fresh(fixture("webhook-event-firing.json"), "it-hash-loop", int(time.time()))
        e["tags_map"] = dict(e["tags_map"], ident="trade-gw-loop", **{MARKER: "alertbridge-01"})
        before = len(self.n9e.requests)
        status, _, _ = self.post_event(e)
        self.assertEqual(status, 200)
        self.assertEqual(self.ab.metric("alertbridge_input_loop_dropped_alerts_total",
                                        input="nightingale"), 1)
        time.sleep(1.5)
        self.assertFalse(any(ev and ev["tags_map"].get("ident") == "trade-gw-loop"
                             for _, _, ev in self.n9e.requests[before:]))

    def test_contacts_are_never_stored(self):
        e = fresh(fixture("webhook-event-firing-v6.json"), "it-hash-v6", int(time.time()) - 5)
        e["tags_map"] = dict(e["tags_map"], ident="trade-gw-v6")
        self.assertIn("13800000012", json.dumps(e))
        status, body, _ = self.post_event(e)
        self.assertEqual(status, 200, body)
        wait_for(lambda: self.in_am(ident="trade-gw-v6"), timeout=10, what="the v6 event")
        db = sqlite3.connect(os.path.join(self.ab.data_dir, "alertbridge.db"))
        try:
            bodies = [r[0] for r in db.execute("SELECT body FROM journal")]
        finally:
            db.close()
        # Bodies of 2 KiB and more are stored as zstd frames: read them as
        # the daemon does (the zstd tool expands a frame).
        def unpacked(b):
            b = b if isinstance(b, bytes) else b.encode()
            if b[:4] != b"\x28\xb5\x2f\xfd":
                return b
            return subprocess.run(["zstd", "-d", "-c", "-q"], input=b, capture_output=True,
                                  check=True).stdout
        joined = b"".join(unpacked(b) for b in bodies)
        self.assertIn(b"trade-gw-v6", joined)
        for secret in (b"13800000012", b"wecom_robot_token", b"li.na@"):
            self.assertNotIn(secret, joined)
        with open(self.ab.log_path, "rb") as f:
            self.assertNotIn(b"13800000012", f.read())

    def test_bad_event_is_named_in_a_200_since_n9e_never_retries(self):
        status, body, _ = self.post_event({"rule_id": 1, "severity": 1})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["rejected"],
                         ["event.hash: is required (the event's identity)"])
        status, body, _ = self.post_event("not json")
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body)


class NightingaleQueueFull(unittest.TestCase):
    def test_queue_full_then_recovered_delivers(self):
        work = Workdir("n9e-full")
        n9e = FakeN9e()
        n9e.force(json.dumps({"err": "queue is full"}), 3)
        ab = Alertbridge(work.path, n9e=n9e).start()
        try:
            status, body, _ = ab.post_alerts([alert("QueueFull", "10.41.0.1:9100")])
            self.assertEqual(status, 200, body)
            wait_for(lambda: n9e.active_where(alertname="QueueFull"), timeout=20,
                     what="delivery once the n9e queue has room")
            self.assertEqual(ab.metric("alertbridge_output_results_total", output="n9e",
                                       result="retry"), 3)
            self.assertEqual(n9e.violations, [])
        finally:
            ab.stop()
            n9e.stop()
            work.cleanup()


if __name__ == "__main__":
    unittest.main()
