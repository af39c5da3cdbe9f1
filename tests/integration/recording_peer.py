"""A recording stand-in for Alertmanager's POST /api/v2/alerts, for tests that must count
requests exactly (Alertmanager merges a re-sent alert into the copy it holds, so it cannot
tell how often an alert was sent). It answers 200 to every well-formed push, or the status
a test sets, and records each request's alerts. Standard library only; loopback only."""

import json
import threading
from datetime import datetime, timezone
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import free_port


def resolved(alert, at):
    """Whether a pushed alert says it has ended (its endsAt is not in the future)."""
    ends = alert.get("endsAt", "")
    try:
        return datetime.fromisoformat(ends.replace("Z", "+00:00")) <= at
    except ValueError:
        return False


class RecordingPeer:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.sent = Counter()  # (alertname, instance, resolved) -> times it was pushed
        self.labels = {}  # (alertname, instance) -> the labels it was last pushed with
        self.pushes = 0
        self.status = 200
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = peer.status
                if status == 200:
                    alerts = json.loads(body)
                    assert isinstance(alerts, list)
                    at = datetime.now(timezone.utc)
                    with peer.lock:
                        peer.pushes += 1
                        peer.sent.update((a["labels"].get("alertname"), a["labels"].get("instance"),
                                          resolved(a, at)) for a in alerts)
                        for a in alerts:
                            peer.labels[(a["labels"].get("alertname"),
                                         a["labels"].get("instance"))] = a["labels"]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # resets from a killed client
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _sent(self, alertname):
        with self.lock:
            return {(inst, res): n for (name, inst, res), n in self.sent.items()
                    if name == alertname}

    def labels_of(self, alertname, instance):
        with self.lock:
            return dict(self.labels.get((alertname, instance), {}))

    def instances(self, alertname):
        return {inst for inst, _ in self._sent(alertname)}

    def alert_count(self, alertname):
        return sum(self._sent(alertname).values())

    def duplicate_alerts(self, alertname):
        """Sends beyond the first of each alert in each state (firing, resolved)."""
        return sum(n - 1 for n in self._sent(alertname).values())

    def requests_count(self):
        with self.lock:
            return self.pushes
