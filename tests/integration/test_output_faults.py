"""Fault injection on the Alertmanager output: a scripted peer that answers 500, 400, 429
or too slowly. Alertmanager itself cannot be made to fail this way, so this peer stands in
for it; it accepts exactly what Alertmanager's POST /api/v2/alerts accepts in shape (a JSON
array of alerts) and answers with the statuses the test scripts."""

import json
import os
import sqlite3
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Alertbridge, Workdir, alert, free_port, http, wait_for


class ScriptedPeer:
    """Answers each POST with the next (status, delay_s, retry_after) of its script, then
    200 for ever. Records every body."""

    def __init__(self, script):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.script = list(script)
        self.bodies = []
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with peer.lock:
                    step = peer.script.pop(0) if peer.script else (200, 0, None)
                    peer.bodies.append((self.path, json.loads(body), step[0]))
                status, delay, retry_after = step
                if delay:
                    time.sleep(delay)
                reply = b"" if status == 200 else json.dumps(f"scripted {status}").encode()
                try:
                    self.send_response(status)
                    if retry_after:
                        self.send_header("Retry-After", str(retry_after))
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self, name):
        with self.lock:
            return {a["labels"]["instance"] for path, body, status in self.bodies
                    if status == 200 for a in body if a["labels"]["alertname"] == name}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class OutputFaults(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("faults")
        self.ab = None
        self.peer = None

    def tearDown(self):
        if self.ab:
            self.ab.stop()
        if self.peer:
            self.peer.stop()
        self.work.cleanup()

    def start(self, script, extra_output=""):
        self.peer = ScriptedPeer(script)
        self.ab = Alertbridge(self.work.path, am_url=self.peer.url, resend_interval="1h")
        if extra_output:
            with open(self.ab.config) as f:
                cfg = f.read().replace("      backoff:", extra_output + "      backoff:")
            with open(self.ab.config, "w") as f:
                f.write(cfg)
        self.ab.start()

    def outbox(self):
        db = sqlite3.connect(os.path.join(self.ab.data_dir, "alertbridge.db"))
        try:
            return db.execute("SELECT state, attempts, last_error FROM outbox ORDER BY id").fetchall()
        finally:
            db.close()

    def test_5xx_is_retried_until_delivered_and_attempts_recorded(self):
        self.start([(500, 0, None), (503, 0, None)])
        status, body, _ = self.ab.post_alerts([alert("Retry", "10.30.0.1")])
        self.assertEqual(status, 200, body)
        wait_for(lambda: self.peer.delivered("Retry") == {"10.30.0.1"}, what="delivery")
        self.assertEqual(self.ab.metric("alertbridge_output_results_total", result="retry"), 2)
        self.assertEqual(self.ab.metric("alertbridge_output_results_total", result="ok"), 1)
        rows = wait_for(lambda: (lambda r: r if r and r[0][0] == "delivered" else None)(
            self.outbox()), what="the outbox row to record delivery")
        self.assertEqual(rows[0][1], 3, "three attempts recorded")

    def test_4xx_is_dropped_with_reason_and_does_not_block(self):
        self.start([(400, 0, None)])
        self.assertEqual(self.ab.post_alerts([alert("Refused", "10.31.0.1")])[0], 200)
        wait_for(lambda: self.ab.metric("alertbridge_output_results_total", result="drop") == 1,
                 what="the drop to be counted")
        self.assertEqual(self.ab.post_alerts([alert("After", "10.31.0.2")])[0], 200)
        wait_for(lambda: self.peer.delivered("After") == {"10.31.0.2"},
                 what="the next alert to get through")
        rows = wait_for(lambda: (lambda r: r if len(r) == 2 and r[1][0] == "delivered" else None)(
            self.outbox()), what="both rows settled")
        self.assertEqual(rows[0][0], "dropped")
        self.assertEqual(rows[0][1], 1, "a 4xx is not retried")
        self.assertIn("HTTP 400", rows[0][2])
        self.assertEqual(self.ab.metric("alertbridge_output_alerts_total", outcome="dropped"), 1)
        # The notification log says what went to whom and how it ended, newest first.
        status, body, _ = http("GET", self.ab.url + "/api/v1/notifications?receiver=am")
        self.assertEqual(status, 200, body)
        log = json.loads(body)["notifications"]
        self.assertEqual([(n["state"], n["reason"], n["alerts"]) for n in log],
                         [("delivered", "new", 1), ("dropped", "new", 1)])
        self.assertIn("HTTP 400", log[1]["last_error"])
        self.assertRegex(log[0]["key"], r"^am/j\d+/0$")
        self.assertNotEqual(log[0]["key"], log[1]["key"])
        self.assertEqual(json.loads(http("GET", self.ab.url +
                                         "/api/v1/notifications?receiver=nobody")[1]),
                         {"notifications": []})
        self.assertEqual(http("GET", self.ab.url + "/api/v1/notifications?limit=0")[0], 400)

    def test_429_honours_retry_after(self):
        self.start([(429, 0, 2)])
        started = time.monotonic()
        self.assertEqual(self.ab.post_alerts([alert("Throttled", "10.32.0.1")])[0], 200)
        wait_for(lambda: self.peer.delivered("Throttled"), timeout=15, what="delivery after 429")
        self.assertGreaterEqual(time.monotonic() - started, 1.9, "waited for Retry-After")

    def test_slow_peer_times_out_and_is_retried(self):
        self.start([(200, 3, None)], extra_output="      timeout: 500ms\n")
        self.assertEqual(self.ab.post_alerts([alert("Slow", "10.33.0.1")])[0], 200)
        wait_for(lambda: len([b for b in self.peer.bodies if b[2] == 200]) >= 2, timeout=15,
                 what="a second, timely attempt")
        self.assertGreaterEqual(self.ab.metric("alertbridge_output_results_total", result="retry"),
                                1)
        rows = wait_for(lambda: (lambda r: r if r and r[0][0] == "delivered" else None)(
            self.outbox()), what="delivery recorded")
        self.assertEqual(rows[0][1], 2)


if __name__ == "__main__":
    unittest.main()
