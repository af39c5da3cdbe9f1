"""The webhook output, a notification sink: each notification reaches its receiver once, as
an Alertmanager webhook (version 4) body, in order; nothing is re-sent; failures are retried
and a kill -9 does not send a delivered notification twice. The receiver is a scripted
stand-in for an IM bridge (none is packaged for Debian): it records every body it gets and
answers with the statuses the test scripts. alertbridge's own webhook intake is used as a
second receiver to check that a webhook pointed back at it cannot loop."""

import base64
import hashlib
import hmac
import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Alertbridge, Workdir, alert, free_port, http, wait_for


class Receiver:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/oncall"
        self.lock = threading.Lock()
        self.script = []  # statuses for the next requests, then 200
        self.got = []  # (path, status answered, body)
        self.heads = []  # (headers, raw body), in the same order
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                with peer.lock:
                    status = peer.script.pop(0) if peer.script else 200
                    peer.got.append((self.path, status, body))
                    peer.heads.append(({k.lower(): v for k, v in self.headers.items()}, raw))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        with self.lock:
            return [b for _, s, b in self.got if s == 200]

    def attempts(self):
        with self.lock:
            return len(self.got)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def summary(body):
    return (body["status"], sorted((a["labels"]["instance"], a["status"]) for a in body["alerts"]))


class WebhookSink(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("webhook")
        self.rx = Receiver()
        self.ab = None

    def tearDown(self):
        if self.ab and self.ab.proc:
            self.ab.stop()
        self.rx.stop()
        self.work.cleanup()

    def start(self, extra="", url=None):
        self.ab = Alertbridge(self.work.path, extra=f"""outputs:
  webhook:
    - name: oncall
      endpoint: "{url or self.rx.url}"
      backoff: {{initial: 100ms, max: 500ms}}
{extra}""")
        self.ab.start()

    def test_each_notification_once_in_order_and_never_resent(self):
        self.start()
        a, b = alert("FrontDown", "10.60.0.1"), alert("FrontDown", "10.60.0.2")
        self.assertEqual(self.ab.post_alerts([a, b])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 1, what="the first notification")
        first = self.rx.delivered()[0]
        self.assertEqual(self.rx.got[0][0], "/hooks/oncall")
        self.assertEqual((first["version"], first["receiver"], first["groupKey"]),
                         ("4", "oncall", "oncall"))
        self.assertEqual(summary(first),
                         ("firing", [("10.60.0.1", "firing"), ("10.60.0.2", "firing")]))
        self.assertEqual(first["commonLabels"]["alertname"], "FrontDown")
        self.assertEqual(first["commonLabels"]["alertbridge_origin"], "alertbridge-01")
        self.assertEqual(first["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z")
        # The same alerts again are no news; time passing is no news either (a state
        # sink is re-sent its copy, a notification sink never).
        self.assertEqual(self.ab.post_alerts([a, b])[0], 200)
        time.sleep(3)
        self.assertEqual(len(self.rx.delivered()), 1)
        # A resolution is.
        done = dict(b, endsAt=b["startsAt"])
        self.assertEqual(self.ab.post_alerts([done])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 2, what="the resolution")
        self.assertEqual(summary(self.rx.delivered()[1]), ("resolved", [("10.60.0.2", "resolved")]))
        self.assertEqual(self.ab.metric("alertbridge_output_alerts_total", output="oncall",
                                        outcome="resent"), 0)

    def test_with_a_noise_section_people_get_the_incident_messages(self):
        # The webhook gets the incident stage's messages, not every change: one page for
        # two alerts of one group, nothing for a recorded warning, one resolution.
        self.start(extra="""noise:
  group_by: [alertname]
  group_wait: 1s
  resolve_wait: 1s
  policy:
    - {name: critical, matchers: ['severity="critical"'], action: page, receiver: trading-oncall}
  default_action: record
""")
        a, b = alert("FrontDown", "10.64.0.1"), alert("FrontDown", "10.64.0.2")
        w = alert("DiskWarn", "10.64.0.3", severity="warning")
        self.assertEqual(self.ab.post_alerts([a, b, w])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 1, what="the page")
        page = self.rx.delivered()[0]
        self.assertEqual(page["groupKey"], "incident/1")
        self.assertEqual(page["receiver"], "trading-oncall")
        self.assertEqual(page["alertbridge"]["reason"], "new")
        self.assertEqual(summary(page), ("firing", [("10.64.0.1", "firing"), ("10.64.0.2", "firing")]))
        for x in (a, b):
            self.assertEqual(self.ab.post_alerts([dict(x, endsAt=x["startsAt"])])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 2, what="the resolution")
        done = self.rx.delivered()[1]
        self.assertEqual((done["groupKey"], done["alertbridge"]["reason"]), ("incident/1", "resolve"))
        self.assertEqual(summary(done), ("resolved", [("10.64.0.1", "resolved"), ("10.64.0.2", "resolved")]))
        time.sleep(2)
        self.assertEqual(len(self.rx.delivered()), 2, "the warning is recorded, never sent")
        self.assertEqual(self.ab.metric("alertbridge_incident_messages_total", reason="new"), 1)
        self.assertEqual(self.ab.metric("alertbridge_incident_messages_total", reason="resolve"), 1)
        self.assertEqual(self.ab.metric("alertbridge_incidents_total", event="resolved"), 1)
        self.assertEqual(self.ab.metric("alertbridge_noise_alerts_total", rule="group:group_by"), 1)
        self.assertEqual(self.ab.metric("alertbridge_incidents_open"), 1)  # the warning's
        # Why: the incidents API, from the engine's copy.
        status, body, _ = http("GET", self.ab.url + "/api/v1/incidents?state=all")
        self.assertEqual(status, 200, body)
        listed = json.loads(body)["incidents"]
        self.assertEqual([(i["id"], i["state"], i["paged"]) for i in listed],
                         [(2, "open", False), (1, "resolved", True)])
        status, body, _ = http("GET", self.ab.url + "/api/v1/incidents/1")
        self.assertEqual(status, 200, body)
        one = json.loads(body)
        self.assertEqual(sorted(m["via"] for m in one["members"]), ["group", "new"])
        self.assertEqual({m["policy_rule"] for m in one["members"]}, {"critical"})
        self.assertTrue(any(e["what"].startswith("new to trading-oncall") for e in one["timeline"]))
        # Why the warning was never told: recorded by the default action.
        status, body, _ = http("GET", self.ab.url + "/api/v1/alerts?filter=alertname%3D%22DiskWarn%22")
        fp = json.loads(body)["alerts"][0]["fingerprint"]
        status, body, _ = http("GET", self.ab.url + "/api/v1/alerts?fingerprint=" + fp)
        self.assertEqual(status, 200, body)
        only = json.loads(body)["alerts"]
        self.assertEqual(len(only), 1)
        self.assertEqual((only[0]["incident"]["policy"], only[0]["incident"]["policy_rule"],
                          only[0]["incident"]["notified"]), ("record", "", False))
        self.assertEqual(only[0]["suppressedBy"], [])
        self.assertEqual(http("GET", self.ab.url + "/api/v1/alerts?fingerprint=xyz")[0], 400)
        self.assertEqual(http("GET", self.ab.url + "/api/v1/incidents/99")[0], 404)
        self.assertEqual(http("GET", self.ab.url + "/api/v1/incidents/x")[0], 400)

    def test_an_open_incident_survives_kill9(self):
        # Paged, checkpointed, killed: after the restart the same incident resolves (its
        # id and its page are remembered), and the page is not sent again.
        noise = """storage:
  checkpoint_interval: 1s
noise:
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  resolve_wait: 1s
  policy:
    - {name: critical, matchers: ['severity="critical"'], action: page}
"""
        self.start(extra=noise)
        a = alert("CoreDown", "10.65.0.1", minutes_left=30)
        self.assertEqual(self.ab.post_alerts([a])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 1, what="the page")
        time.sleep(2.5)  # a checkpoint stores the incident book
        self.ab.kill9()
        self.ab.start()
        b = alert("CoreDown", "10.65.0.2", minutes_left=30)
        self.assertEqual(self.ab.post_alerts([b])[0], 200)  # joins the same incident
        wait_for(lambda: len(self.rx.delivered()) == 2, what="the update")
        update = self.rx.delivered()[1]
        self.assertEqual((update["groupKey"], update["alertbridge"]["reason"]),
                         ("incident/1", "update"))
        for x in (a, b):
            self.assertEqual(self.ab.post_alerts([dict(x, endsAt=x["startsAt"])])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 3, what="the resolution")
        done = self.rx.delivered()[2]
        self.assertEqual((done["groupKey"], done["alertbridge"]["reason"]), ("incident/1", "resolve"))
        time.sleep(1.5)
        self.assertEqual(len(self.rx.delivered()), 3, "nothing sent twice")

    def test_signed_like_standard_webhooks_and_a_retry_keeps_its_id(self):
        secret = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
        self.start(extra=f"      signing_secret: {secret}\n")
        self.rx.script = [503]
        self.assertEqual(self.ab.post_alerts([alert("Signed", "10.66.0.1")])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 1, what="the signed notification")
        key = base64.b64decode(secret[len("whsec_"):])
        with self.rx.lock:
            heads = list(self.rx.heads)
        self.assertEqual(len(heads), 2)
        for h, raw in heads:
            msg = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + raw
            want = "v1," + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
            self.assertTrue(hmac.compare_digest(h["webhook-signature"], want))
            self.assertLess(abs(time.time() - int(h["webhook-timestamp"])), 300)
        self.assertEqual(heads[0][0]["webhook-id"], heads[1][0]["webhook-id"], "a retry reuses the id")

    def test_failures_are_retried_and_a_4xx_dropped_without_blocking(self):
        self.start()
        self.rx.script = [503, 500, 400]
        self.assertEqual(self.ab.post_alerts([alert("Disk", "10.61.0.1")])[0], 200)
        wait_for(lambda: self.rx.attempts() == 3, what="two retries and the refusal")
        self.assertEqual(self.ab.post_alerts([alert("Disk", "10.61.0.2")])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 1, what="the next notification")
        self.assertEqual(summary(self.rx.delivered()[0]), ("firing", [("10.61.0.2", "firing")]))
        self.assertEqual(self.ab.metric("alertbridge_output_results_total", output="oncall",
                                        result="retry"), 2)
        self.assertEqual(self.ab.metric("alertbridge_output_results_total", output="oncall",
                                        result="drop"), 1)

    def test_send_resolved_false_tells_only_of_problems(self):
        self.start(extra="      send_resolved: false\n")
        a = alert("Quote", "10.62.0.1")
        self.assertEqual(self.ab.post_alerts([a])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 1, what="the firing notification")
        self.assertEqual(self.ab.post_alerts([dict(a, endsAt=a["startsAt"])])[0], 200)
        self.assertEqual(self.ab.post_alerts([alert("Quote", "10.62.0.2")])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 2, what="the next firing notification")
        self.assertEqual(summary(self.rx.delivered()[1]), ("firing", [("10.62.0.2", "firing")]))

    def test_kill9_while_failing_then_delivered_once(self):
        self.start()
        self.rx.script = [503] * 1000
        self.assertEqual(self.ab.post_alerts([alert("Kill", "10.63.0.1")])[0], 200)
        wait_for(lambda: self.rx.attempts() >= 2, what="failing attempts")
        self.ab.kill9()
        with self.rx.lock:
            self.rx.script = []
        self.ab.start()
        wait_for(lambda: len(self.rx.delivered()) == 1, what="delivery after the restart")
        time.sleep(2)
        self.assertEqual([summary(b) for b in self.rx.delivered()],
                         [("firing", [("10.63.0.1", "firing")])])

    def test_pointed_back_at_alertbridge_it_does_not_loop(self):
        # The webhook goes to this very instance's Alertmanager-webhook intake: the marker
        # on every alert makes the intake drop them, so one post makes one notification.
        port = free_port()
        self.ab = Alertbridge(self.work.path, extra=f"""outputs:
  webhook:
    - name: oncall
      endpoint: "http://127.0.0.1:{port}/webhook/alertmanager"
      backoff: {{initial: 100ms, max: 500ms}}
""")
        with open(self.ab.config) as f:
            cfg = f.read().replace(f"127.0.0.1:{self.ab.port}", f"127.0.0.1:{port}")
        with open(self.ab.config, "w") as f:
            f.write(cfg)
        self.ab.port, self.ab.url = port, f"http://127.0.0.1:{port}"
        self.ab.start()
        self.assertEqual(self.ab.post_alerts([alert("Loop", "10.64.0.1")])[0], 200)
        wait_for(lambda: self.ab.metric("alertbridge_output_results_total", output="oncall",
                                        result="ok") == 1, what="the one notification")
        time.sleep(2)
        self.assertEqual(self.ab.metric("alertbridge_output_results_total", output="oncall",
                                        result="ok"), 1)
        self.assertEqual(self.ab.metric("alertbridge_input_loop_dropped_alerts_total",
                                        input="alertmanager_webhook"), 1)


if __name__ == "__main__":
    unittest.main()
