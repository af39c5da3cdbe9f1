"""A recording fake of Nightingale's POST /v1/n9e/event, built from the facts in
tests/fixtures/nightingale (see fake_n9e.md for what it checks and what it cannot know).
Runs in the test's own process on a loopback port."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import free_port

# AlertCurEvent fields a push may carry, with the JSON type Go's encoding/json accepts.
INT, STR, BOOL, OBJ = "int", "str", "bool", "obj"
FIELDS = {
    "rule_id": INT, "datasource_id": INT, "group_id": INT, "severity": INT,
    "prom_for_duration": INT, "prom_eval_interval": INT, "notify_recovered": INT,
    "trigger_time": INT, "first_trigger_time": INT, "last_eval_time": INT,
    "notify_cur_number": INT, "status": INT,
    "rule_name": STR, "rule_note": STR, "rule_prod": STR, "rule_algo": STR, "cate": STR,
    "cluster": STR, "group_name": STR, "hash": STR, "prom_ql": STR, "runbook_url": STR,
    "target_ident": STR, "target_note": STR, "trigger_value": STR, "rule_hash": STR,
    "is_recovered": BOOL, "rule_config": OBJ, "annotations": OBJ,
}
LISTS = {"callbacks": str, "tags": str, "notify_rule_ids": int, "notify_channels": str,
         "notify_groups": str}


def type_ok(value, kind):
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    return isinstance(value, dict)


class FakeN9e:
    def __init__(self, username="n9e-api", password="n9e-secret"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.lock = threading.Lock()
        self.requests = []     # every request: (status, reply, event or None)
        self.active = {}       # hash -> event, as n9e's active-event table
        self.history = []      # persisted events, firing and recovered
        self.violations = []   # things n9e would accept but that are wrong
        self.forced = []       # replies to give before behaving normally
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, reply = fake.handle(self.path, self.headers.get("Authorization"), body)
                data = reply.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8"
                                 if reply.startswith("{") else "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def force(self, reply, times):
        with self.lock:
            self.forced.extend([reply] * times)

    def handle(self, path, authorization, body):
        with self.lock:
            status, reply, event = self._handle(path, authorization, body)
            self.requests.append((status, reply, event))
            return status, reply

    def _handle(self, path, authorization, body):
        if path != "/v1/n9e/event":
            return 404, "404 page not found", None
        if authorization != self.auth:
            return 401, "Unauthorized", None
        try:
            event = json.loads(body)
        except ValueError as e:
            return 400, f"invalid character in JSON: {e}", None
        if not isinstance(event, dict):
            return 400, ("json: cannot unmarshal array into Go value of type "
                         "models.AlertCurEvent"), None
        for key, kind in FIELDS.items():
            if key in event and not type_ok(event[key], kind):
                return 400, (f"json: cannot unmarshal into Go struct field "
                             f"AlertCurEvent.{key} of type {kind}"), None
        for key, kind in LISTS.items():
            if key in event and not (isinstance(event[key], list) and
                                     all(isinstance(x, kind) and not isinstance(x, bool)
                                         for x in event[key])):
                return 400, f"json: cannot unmarshal AlertCurEvent.{key}", None
        for key, value in event.get("annotations", {}).items():
            if not isinstance(value, str):
                return 400, f"json: cannot unmarshal AlertCurEvent.annotations.{key}", None
        if self.forced:
            return 200, self.forced.pop(0), event
        if not event.get("rule_id"):
            return 200, json.dumps({"err": "event is illegal"}), event
        # Accepted: these would not be refused by n9e, but they are mistakes.
        if event.get("notify_rule_ids") and (event.get("notify_channels")
                                             or event.get("notify_groups")):
            self.violations.append("both notify_rule_ids and notify_channels/groups: "
                                   "v8 would notify twice")
        if event.get("status", 0) != 0:
            self.violations.append("status != 0: the event would not be persisted")
        if any("=" not in t for t in event.get("tags", [])):
            self.violations.append("a tag without k=v")
        if event.get("callbacks"):
            self.violations.append("callbacks set: n9e would call them")
        if not event.get("hash"):
            self.violations.append("no hash: persistence de-duplicates on it")
        if "{{" in event.get("rule_name", "").replace('{{"{{"}}', ""):
            self.violations.append("unescaped {{ in rule_name")
        # The handler rebuilds tags_map from tags.
        event["tags_map"] = dict(t.split("=", 1) for t in event.get("tags", []) if "=" in t)
        if event.get("is_recovered"):
            if event.get("notify_recovered") != 1:
                self.violations.append("recovery without notify_recovered: 1 is not notified")
            self.active.pop(event["hash"], None)
        else:
            self.active[event["hash"]] = event
        self.history.append(event)
        return 200, json.dumps({"err": ""}), event

    def active_where(self, **tags):
        with self.lock:
            return [e for e in self.active.values()
                    if all(e["tags_map"].get(k) == v for k, v in tags.items())]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
