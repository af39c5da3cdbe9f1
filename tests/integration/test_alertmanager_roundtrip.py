"""alertbridge beside the real Alertmanager: webhook in, push back with the marker label,
no loop; direct intake; resolution; strict validation and auth at the door."""

import json
import subprocess
import time
import unittest
from datetime import timedelta

from harness import (Alertbridge, Alertmanager, Sink, Workdir, alert, http, now, rfc3339,
                     wait_for)

MARKER = "alertbridge_origin"


class RoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("roundtrip")
        cls.sink = Sink()
        # alertbridge first so its port is known to Alertmanager's config.
        am_port = __import__("harness").free_port()
        # Intake requires credentials; Alertmanager's webhook sends them (http_config).
        creds = ("alertmanager", "webhook-secret")
        cls.ab = Alertbridge(cls.work.path, am_url=f"http://127.0.0.1:{am_port}",
                             basic_auth=creds).start()
        cls.am = Alertmanager(cls.work.path, cls.ab.port, cls.sink.port, port=am_port,
                              basic_auth=creds).start()

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.am.stop()
        cls.sink.stop()
        cls.work.cleanup()

    def marked(self, **filters):
        return [a for a in self.am.alerts(**filters) if a["labels"].get(MARKER) == "alertbridge-01"]

    def test_webhook_round_trip_without_loop(self):
        status, body, _ = self.am.post_alerts([alert("RoundTrip", "10.8.1.21:9100")])
        self.assertEqual(status, 200, body)
        pushed = wait_for(lambda: self.marked(alertname="RoundTrip"), timeout=30,
                          what="the pushed-back alert in Alertmanager")
        self.assertEqual(len(pushed), 1)
        a = pushed[0]
        self.assertEqual(a["labels"]["source_kind"], "alertmanager_webhook")
        self.assertEqual(a["labels"]["instance"], "10.8.1.21:9100")
        self.assertEqual([r["name"] for r in a["receivers"]], ["oncall"])
        # The people-facing receiver gets it; alertbridge's webhook count stays flat.
        wait_for(lambda: any(any(x["labels"].get(MARKER) for x in b["alerts"])
                             for _, b in self.sink.requests), timeout=30,
                 what="the marked alert at the oncall receiver")
        before = self.ab.metric("alertbridge_input_requests_total", input="alertmanager_webhook")
        self.assertGreaterEqual(before, 1)
        time.sleep(6)  # three group_intervals
        after = self.ab.metric("alertbridge_input_requests_total", input="alertmanager_webhook")
        self.assertEqual(before, after, "Alertmanager kept calling alertbridge: a loop")
        self.assertEqual(self.ab.metric("alertbridge_input_loop_dropped_alerts_total",
                                        input="alertmanager_webhook"), 0)

    def test_direct_intake_then_resolution(self):
        a = alert("DirectIntake", "10.8.2.1:9100")
        timed = "alertbridge_input_request_duration_seconds_count"
        before = self.ab.metric(timed, input="alertmanager_api") or 0
        status, body, _ = self.ab.post_alerts([a])
        self.assertEqual(status, 200, body)
        # The answer was timed, from receipt to answer (the journal's fsync included).
        self.assertGreaterEqual(self.ab.metric(timed, input="alertmanager_api"), before + 1)
        self.assertGreater(self.ab.metric("alertbridge_input_request_duration_seconds_sum",
                                          input="alertmanager_api"), 0)
        shown = wait_for(lambda: self.marked(alertname="DirectIntake"), timeout=10,
                         what="the alert in Alertmanager")
        self.assertEqual(shown[0]["labels"]["source_kind"], "alertmanager_api")
        self.assertEqual(shown[0]["annotations"]["summary"], a["annotations"]["summary"])
        # Resolve: same labels, endsAt now.
        a["endsAt"] = rfc3339(now())
        status, body, _ = self.ab.post_alerts([a])
        self.assertEqual(status, 200, body)
        wait_for(lambda: not self.marked(alertname="DirectIntake"), timeout=10,
                 what="the alert to resolve in Alertmanager")
        self.assertGreaterEqual(self.ab.metric("alertbridge_pipeline_alerts_total",
                                               outcome="resolved"), 1)

    def test_own_marker_is_dropped_at_the_door(self):
        before = self.ab.metric("alertbridge_input_loop_dropped_alerts_total",
                                input="alertmanager_api")
        a = alert("LoopBait", "10.8.3.1:9100", **{MARKER: "alertbridge-01"})
        status, _, _ = self.ab.post_alerts([a])
        self.assertEqual(status, 200)
        self.assertEqual(self.ab.metric("alertbridge_input_loop_dropped_alerts_total",
                                        input="alertmanager_api"), before + 1)
        time.sleep(1)
        self.assertEqual(self.am.alerts(alertname="LoopBait"), [])

    def test_bad_bodies_get_400_with_field_and_index(self):
        good = alert("Valid", "10.8.4.1:9100")
        bad = alert("Invalid", "10.8.4.2:9100")
        bad["startsAt"] = "4052-11-25T00:16:15.895Z"  # Alertmanager answers 400 to it too
        # As Alertmanager does: the valid alerts of a batch are kept, and the answer is a
        # 400 that names the rejected ones.
        status, body, _ = self.ab.post_alerts([good, bad])
        self.assertEqual(status, 400)
        self.assertIn("[1].startsAt: year 4052 is out of range (1970 to 2199)", body)
        self.assertEqual(json.loads(body)["accepted"], 1)
        # A webhook sender never retries a 4xx: it gets 200 and the same list.
        status, body, _ = http("POST", self.ab.url + "/webhook/alertmanager",
                               {"version": "4", "alerts": [{"labels": {"a": "b"}}]},
                               self.ab.headers)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["rejected"],
                         ['alerts[0].status: must be "firing" or "resolved", got ""'])
        status, body, _ = http("POST", self.ab.url + "/api/v2/alerts", "not json",
                               self.ab.headers)
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", body)
        status, _, headers = http("GET", self.ab.url + "/api/v2/alerts")
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("Allow"), "POST")
        # The valid alert got through; nothing of the rejected ones was kept.
        wait_for(lambda: self.am.alerts(alertname="Valid"), what="the valid alert of the batch")
        self.assertEqual(self.am.alerts(alertname="Invalid"), [])
        self.assertGreaterEqual(self.ab.metric("alertbridge_input_requests_rejected_total",
                                               input="alertmanager_api", reason="invalid_body"), 1)
        self.assertEqual(self.ab.metric("alertbridge_input_alerts_rejected_total",
                                        input="alertmanager_api"), 1)

    def test_amtool_can_use_alertbridge_as_an_alertmanager(self):
        # amtool has no flag for credentials; give it a config file as operators do.
        cfg = f"{self.work.path}/amtool-http.yml"
        with open(cfg, "w") as f:
            f.write("basic_auth: {username: alertmanager, password: webhook-secret}\n")
        out = subprocess.run(
            ["amtool", "alert", "add", "alertname=FromAmtool", "instance=10.8.5.1:9100",
             "severity=warning", "--annotation=summary=posted with amtool",
             f"--alertmanager.url={self.ab.url}", f"--http.config.file={cfg}"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        shown = wait_for(lambda: self.marked(alertname="FromAmtool"), timeout=10,
                         what="the amtool alert in Alertmanager")
        self.assertEqual(shown[0]["annotations"]["summary"], "posted with amtool")

    def test_operations_endpoints(self):
        self.assertEqual(http("GET", self.ab.url + "/-/healthy")[0], 200)
        self.assertEqual(http("GET", self.ab.url + "/-/ready")[0], 200)
        m = self.ab.metrics()
        for family in ["alertbridge_input_requests_total", "alertbridge_input_alerts_accepted_total",
                       "alertbridge_input_requests_rejected_total",
                       "alertbridge_journal_commit_duration_seconds_bucket",
                       "alertbridge_store_wal_sync_duration_seconds_bucket",
                       "alertbridge_output_attempts_total", "alertbridge_output_results_total",
                       "alertbridge_active_alerts", "alertbridge_intake_queue_alerts"]:
            self.assertIn(family, m)
        # The bounds are exported as configured (the defaults: 200,000 alerts, 256 MiB).
        self.assertEqual(self.ab.metric("alertbridge_intake_queue_capacity_bytes"), 268435456)
        self.assertGreater(self.ab.metric("alertbridge_intake_queue_capacity_alerts"), 0)


class Limits(unittest.TestCase):
    """Auth, size and queue bounds, on an alertbridge without outputs."""

    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("limits")
        cls.ab = Alertbridge(cls.work.path, extra="""http_auth:
  basic_auth: {username: alertmanager, password: pw}
intake: {queue_capacity: 5, max_body_bytes: 4096}
""").start()
        import base64
        cls.auth = {"Authorization": "Basic " + base64.b64encode(b"alertmanager:pw").decode()}

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.work.cleanup()

    def test_auth_required(self):
        status, _, headers = self.ab.post_alerts([alert("A", "1")])
        self.assertEqual(status, 401)
        self.assertIn("Basic", headers.get("WWW-Authenticate", ""))
        status, _, _ = self.ab.post_alerts([alert("A", "1")],
                                           {"Authorization": "Basic d3Jvbmc6d3Jvbmc="})
        self.assertEqual(status, 401)
        self.assertEqual(self.ab.post_alerts([alert("A", "1")], self.auth)[0], 200)
        self.assertGreaterEqual(self.ab.metric("alertbridge_input_requests_rejected_total",
                                               reason="unauthorized"), 2)

    def test_queue_full_is_503_with_retry_after(self):
        batch = [alert("Q", f"10.9.0.{i}") for i in range(6)]
        status, body, headers = self.ab.post_alerts(batch, self.auth)
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("Retry-After"), "1")

    def test_a_request_past_the_soft_mark_is_held_then_answered(self):
        # A sixteenth of queue_capacity 5 is 0: any stored request finds the engine behind,
        # so its answer waits until the engine has applied it, and then it is a 200.
        status, body, _ = self.ab.post_alerts([alert("Held", "10.9.2.1")], self.auth)
        self.assertEqual(status, 200, body)
        self.assertGreaterEqual(self.ab.metric("alertbridge_intake_acks_held_total"), 1)
        self.assertEqual(self.ab.metric("alertbridge_intake_acks_held"), 0)
        self.assertEqual(self.ab.metric("alertbridge_intake_queue_alerts"), 0)
        # A repeat is held and answered the same way.
        status, body, _ = self.ab.post_alerts([alert("Held", "10.9.2.1")], self.auth)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.ab.metric("alertbridge_intake_acks_held"), 0)

    def test_body_too_large_is_413(self):
        big = [alert("Big", "10.9.1.1", pad="x" * 5000)]
        status, body, _ = self.ab.post_alerts(big, self.auth)
        self.assertEqual(status, 413, body)
        self.assertEqual(http("GET", self.ab.url + "/-/healthy")[0], 200)


if __name__ == "__main__":
    unittest.main()
