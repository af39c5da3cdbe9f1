"""Enrichment beside the real Alertmanager: relabel rules, the sample CMDB and customer
whitelist from config-examples, classification; tables reloaded under load, a broken file
that keeps the last good table, and an HTTP table source that is down at start-up."""

import base64
import json
import os
import shutil
import subprocess
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import (BINARY, SOURCE, Alertbridge, Alertmanager, Sink, Workdir, alert, free_port,
                     http, wait_for)

TOKEN = "cmdb-reader-token"
BASIC = "Basic " + base64.b64encode(b"cmdb-reader:s3cret").decode()


class RemoteCmdb:
    """A CMDB API on loopback that answers JSON in the usual {"data": [...]} envelope, and
    only to the bearer token or the basic-auth user alertbridge is configured with."""

    def __init__(self, port, rows):
        self.port = port
        self.rows = rows
        self.requests = 0
        self.server = None

    def start(self):
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                remote.requests += 1
                if self.headers.get("Authorization") not in ("Bearer " + TOKEN, BASIC):
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"code": 0, "data": remote.rows}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def enrich_config(tables_dir, remote_port, auth=f"bearer_token: {TOKEN}"):
    return f"""enrich:
  file_check_interval: 200ms
  relabel_configs:
    - source_labels: [instance]
      regex: '([0-9.]+)(?::\\d+)?'
      target_label: ip
    - source_labels: [instance]
      regex: '\\[([0-9a-fA-F:.]+)\\](?::\\d+)?'
      target_label: ip
    - name: drop-watchdog
      source_labels: [alertname]
      regex: Watchdog
      action: drop
  tables:
    - name: cmdb
      source: {{file: {tables_dir}/cmdb.csv}}
      key_label: ip
      columns: {{owner: owner, team: team, app: app, business_line: business_line}}
    - name: customer_whitelist
      source: {{file: {tables_dir}/customer_whitelist.csv}}
      key_label: ip
      match: cidr
      set: {{whitelist: "Y"}}
      default: {{whitelist: "N"}}
    - name: hosts
      source:
        url: "http://127.0.0.1:{remote_port}/api/v1/hosts"
        interval: 2s
        {auth}
        timeout: 1s
      key_label: hostname
      columns: {{rack: rack}}
      default: {{rack: unknown}}
  classify:
    - name: customer
      matchers: ['whitelist="Y"']
      set: {{alert_class: business}}
"""


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


class Enrichment(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("enrich")
        cls.tables = os.path.join(cls.work.path, "tables")
        shutil.copytree(os.path.join(SOURCE, "config-examples", "tables"), cls.tables)
        cls.sink = Sink()
        am_port = free_port()
        cls.remote = RemoteCmdb(free_port(), [{"hostname": "ctp-front-01", "rack": "A3-07"}])
        cls.ab = Alertbridge(cls.work.path, am_url=f"http://127.0.0.1:{am_port}",
                             extra=enrich_config(cls.tables, cls.remote.port)).start()
        cls.am = Alertmanager(cls.work.path, cls.ab.port, cls.sink.port, port=am_port).start()

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.am.stop()
        cls.sink.stop()
        cls.remote.stop()
        cls.work.cleanup()

    def in_am(self, alertname):
        found = wait_for(lambda: self.am.from_alertbridge({"alertname": alertname}), timeout=30,
                         what=f"{alertname} in Alertmanager")
        self.assertEqual(len(found), 1)
        return found[0]["labels"]

    def post(self, *alerts):
        status, body, _ = self.ab.post_alerts(list(alerts))
        self.assertEqual(status, 200, body)

    def test_a_whitelisted_owned_ip_shows_in_alertmanager_as_business(self):
        self.post(alert("ColoServerDown", "10.8.1.21:9100"),
                  alert("DiskFull", "10.8.4.21:9100"),
                  alert("Watchdog", "10.8.4.21:9100"))
        labels = self.in_am("ColoServerDown")
        self.assertEqual(labels["ip"], "10.8.1.21")
        self.assertEqual(labels["owner"], "zhang.wei")
        self.assertEqual(labels["team"], "colocation")
        self.assertEqual(labels["app"], "customer-colo")
        self.assertEqual(labels["whitelist"], "Y")
        self.assertEqual(labels["alert_class"], "business")
        labels = self.in_am("DiskFull")
        self.assertEqual(labels["owner"], "sun.hao")
        self.assertEqual(labels["whitelist"], "N")
        self.assertEqual(labels["alert_class"], "system")
        self.assertEqual(self.am.from_alertbridge({"alertname": "Watchdog"}), [])
        self.assertEqual(self.ab.metric("alertbridge_relabel_dropped_alerts_total",
                                        rule="drop-watchdog"), 1)
        self.assertGreaterEqual(self.ab.metric("alertbridge_enrich_table_lookups_total",
                                               table="customer_whitelist", result="hit"), 1)
        self.assertGreaterEqual(self.ab.metric("alertbridge_enrich_table_rows", table="cmdb"), 30)
        self.assertGreaterEqual(self.ab.metric("alertbridge_classify_alerts_total",
                                               rule="customer"), 1)

    def test_the_alerts_api_shows_the_enriched_labels_from_a_snapshot(self):
        self.post(alert("ApiViewDown", "10.8.1.21:9100"), alert("ApiViewDown", "10.8.4.21:9100"))

        def view(flt):
            status, body = http("GET", self.ab.url + "/api/v1/alerts?filter=" +
                                urllib.parse.quote(flt))[:2]
            self.assertEqual(status, 200, body)
            return json.loads(body)

        # Acknowledged means journaled; the engine applies it a moment later.
        wait_for(lambda: view('alertname="ApiViewDown"')["count"] == 2, what="both alerts")
        view = view('{alertname="ApiViewDown",whitelist="Y"}')
        self.assertEqual(view["count"], 1)
        a = view["alerts"][0]
        self.assertEqual(a["labels"]["owner"], "zhang.wei")
        self.assertEqual(a["labels"]["alert_class"], "business")
        # Firing, with the end the sender announced (minutes ahead), as Alertmanager shows it.
        self.assertGreater(a["endsAt"], view["at"])
        self.assertEqual(a["status"], "firing")
        self.assertEqual(a["suppressedBy"], [])
        self.assertEqual(len(a["fingerprint"]), 16)
        status, body = http("GET", self.ab.url + "/api/v1/alerts?filter=" +
                            urllib.parse.quote('alertname=~"("'))[:2]
        self.assertEqual(status, 400)
        self.assertIn("filter", body)
        self.assertEqual(http("POST", self.ab.url + "/api/v1/alerts", [])[0], 405)

    def test_tables_reload_under_load_and_keep_the_last_good_copy(self):
        path = os.path.join(self.tables, "cmdb.csv")
        with open(path) as f:
            original = f.read()
        stop = threading.Event()
        sent = [0]

        def load():
            n = 0
            while not stop.is_set():
                n += 1
                batch = [alert(f"Load{n % 50}", f"10.8.7.{i}:9100") for i in range(1, 21)]
                status, _, _ = self.ab.post_alerts(batch)
                if status == 200:
                    sent[0] += len(batch)
        # An alert that is active before the change: its copy in Alertmanager moves owner.
        self.post(alert("OwnerMoves", "10.8.2.11:9100"))
        self.assertEqual(self.in_am("OwnerMoves")["owner"], "li.na")
        loader = threading.Thread(target=load)
        loader.start()
        try:
            ok = self.ab.metric("alertbridge_enrich_table_reloads_total", table="cmdb",
                                result="ok")
            write_atomically(path, original.replace(
                "10.8.2.11,ctp-front-01,li.na", "10.8.2.11,ctp-front-01,zhou.xin"))
            t0 = time.monotonic()
            wait_for(lambda: self.ab.metric("alertbridge_enrich_table_reloads_total",
                                            table="cmdb", result="ok") == ok + 1,
                     timeout=5, interval=0.05, what="the changed CMDB to load within 5 s")
            took = time.monotonic() - t0
            self.post(alert("FrontLatency", "10.8.2.11:9100"))
            self.assertEqual(self.in_am("FrontLatency")["owner"], "zhou.xin")
            # Sent again, the active alert is re-enriched: Alertmanager ends up with the
            # new owner's copy only (the old label set is resolved in the same push).
            self.post(alert("OwnerMoves", "10.8.2.11:9100"))
            wait_for(lambda: [a["labels"]["owner"] for a in
                              self.am.from_alertbridge({"alertname": "OwnerMoves"})] == ["zhou.xin"],
                     timeout=4, interval=0.05,  # the old copy's own endsAt is 6-8 s away
                     what="one OwnerMoves copy in Alertmanager, with the new owner")

            # A broken file: the last good table stays, the error names file:line.
            failed = self.ab.metric("alertbridge_enrich_table_reloads_total", table="cmdb",
                                    result="error")
            broken = original.replace("10.8.2.12,ctp-front-02,li.na,",
                                      '10.8.2.12,ctp-front-02,"li.na,')
            write_atomically(path, broken)
            wait_for(lambda: self.ab.metric("alertbridge_enrich_table_reloads_total",
                                            table="cmdb", result="error") == failed + 1,
                     timeout=5, what="the broken CMDB to be refused")
            line = broken.splitlines().index(
                next(x for x in broken.splitlines() if x.startswith("10.8.2.12,"))) + 1
            with open(self.ab.log_path) as f:
                log = f.read()
            self.assertIn(f"cmdb.csv:{line}:", log)
            self.post(alert("FrontLatency2", "10.8.2.11:9100"))
            self.assertEqual(self.in_am("FrontLatency2")["owner"], "zhou.xin")
        finally:
            stop.set()
            loader.join()
            write_atomically(path, original)
        self.assertGreater(sent[0], 0)
        print(f"\n  cmdb reload seen {took:.2f}s after the rename, "
              f"{sent[0]} alerts posted meanwhile")

    def test_an_http_source_down_at_start_up(self):
        # The daemon is up (setUpClass) with the source down, and said so.
        with open(self.ab.log_path) as f:
            self.assertIn("Lookup table is not loaded yet", f.read())
        self.assertEqual(self.ab.metric("alertbridge_enrich_table_loaded", table="hosts"), 0)
        self.post(alert("BeforeHosts", "10.8.2.11:9100", hostname="ctp-front-01"))
        self.assertEqual(self.in_am("BeforeHosts")["rack"], "unknown")
        self.assertGreaterEqual(self.ab.metric("alertbridge_enrich_table_reloads_total",
                                               table="hosts", result="error"), 1)
        # The source comes up: the next sync loads it, with the bearer token.
        self.remote.start()
        wait_for(lambda: self.ab.metric("alertbridge_enrich_table_loaded", table="hosts") == 1,
                 timeout=10, what="the hosts table to load once its source is up")
        self.post(alert("AfterHosts", "10.8.2.11:9100", hostname="ctp-front-01"))
        self.assertEqual(self.in_am("AfterHosts")["rack"], "A3-07")
        cache = os.path.join(self.ab.data_dir, "tables", "hosts.json")
        self.assertTrue(os.path.exists(cache), "the good copy was not kept")

    def test_enrich_test_and_check_config(self):
        out = subprocess.run([BINARY, "enrich-test", "--config", self.ab.config,
                              "instance=10.8.1.23:9100", "alertname=NodeDown"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('relabel 0 (replace, line', out.stdout)
        self.assertIn('+ip="10.8.1.23"', out.stdout)
        self.assertIn('table customer_whitelist (cidr): hit on ip="10.8.1.23": '
                      'row "10.8.1.23/32"', out.stdout)
        # Whether the url source is up depends on the test order; it runs either way.
        self.assertRegex(out.stdout, r"table hosts: (NOT LOADED \(GET .*\)|1 rows from http)")
        self.assertIn('alert_class="business"', out.stdout)
        # check-config names the broken row of a table file.
        bad_dir = os.path.join(self.work.path, "bad")
        os.makedirs(bad_dir, exist_ok=True)
        with open(os.path.join(bad_dir, "wl.csv"), "w") as f:
            f.write("cidr\n10.0.0.0/8\n10.8.1.1/16\n")
        with open(os.path.join(bad_dir, "ab.yml"), "w") as f:
            f.write("enrich:\n  tables:\n    - name: wl\n      source: {file: wl.csv}\n"
                    "      key_label: ip\n      match: cidr\n      set: {whitelist: 'Y'}\n")
        out = subprocess.run([BINARY, "check-config", os.path.join(bad_dir, "ab.yml")],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("wl.csv:3: ", out.stderr)
        self.assertIn("10.8.0.0/16", out.stderr)


class CachedCopy(unittest.TestCase):
    def test_a_restart_while_the_source_is_down_uses_the_cached_copy(self):
        work = Workdir("enrich-cache")
        tables = os.path.join(work.path, "tables")
        shutil.copytree(os.path.join(SOURCE, "config-examples", "tables"), tables)
        remote = RemoteCmdb(free_port(), [{"hostname": "md-01", "rack": "B1-02"}]).start()
        with open(os.path.join(work.path, "cmdb.pass"), "w") as f:
            f.write("s3cret\n")
        basic = "basic_auth: {username: cmdb-reader, password_file: cmdb.pass}"
        ab = Alertbridge(work.path, extra=enrich_config(tables, remote.port, basic)).start()
        try:
            wait_for(lambda: ab.metric("alertbridge_enrich_table_loaded", table="hosts") == 1,
                     timeout=10, what="the first sync, with basic auth")
            ab.stop()
            remote.stop()
            ab.start()
            # Loaded at start from the copy, before any fetch could succeed.
            self.assertEqual(ab.metric("alertbridge_enrich_table_loaded", table="hosts"), 1)
            self.assertEqual(ab.metric("alertbridge_enrich_table_rows", table="hosts"), 1)
            with open(ab.log_path) as f:
                self.assertIn("starts from its cached copy", f.read())
        finally:
            ab.stop()
            remote.stop()
            work.cleanup()


if __name__ == "__main__":
    unittest.main()
