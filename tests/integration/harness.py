"""Test harness: starts the real Debian prometheus-alertmanager and the alertbridge binary
on loopback ports, plus a recording HTTP sink standing in for a people-facing receiver.
Standard library only. Every process is stopped by the test that started it."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SOURCE = os.environ.get("ALERTBRIDGE_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ALERTBRIDGE_BIN", os.path.join(SOURCE, "build", "alertbridge"))
AM_BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rfc3339(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now():
    return datetime.now(timezone.utc)


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, body text, headers). Never raises for HTTP error statuses."""
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        data = data.encode() if isinstance(data, str) else data
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def wait_for(predicate, timeout=20.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last={last!r}")


def metric(text, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    found = False
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
            found = True
    return total if found else None


class Sink:
    """A people-facing receiver: records every webhook body it gets."""

    def __init__(self):
        self.port = free_port()
        self.requests = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.requests.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Alertmanager:
    """The real prometheus-alertmanager, configured from config-examples/alertmanager.yml
    with test ports and short group timings."""

    def __init__(self, workdir, alertbridge_port, sink_port, port=None, basic_auth=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(os.path.join(SOURCE, "config-examples", "alertmanager.yml")) as f:
            cfg = f.read()
        cfg = cfg.replace("127.0.0.1:9095", f"127.0.0.1:{alertbridge_port}")
        cfg = cfg.replace("127.0.0.1:9096", f"127.0.0.1:{sink_port}")
        cfg = cfg.replace("group_wait: 10s", "group_wait: 1s")
        cfg = cfg.replace("group_interval: 1m", "group_interval: 2s")
        if basic_auth:
            # Enable the example's commented credentials block, as an operator would.
            old = ("        # http_config:\n"
                   "        #   basic_auth: {username: alertmanager, password: change-me}")
            assert old in cfg, "the example alertmanager.yml lost its http_config block"
            cfg = cfg.replace(old, "        http_config:\n          basic_auth: "
                              f"{{username: {basic_auth[0]}, password: {basic_auth[1]}}}")
        self.config = os.path.join(workdir, "alertmanager.yml")
        with open(self.config, "w") as f:
            f.write(cfg)
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.workdir, f"alertmanager-{self.port}.log"), "ab")
        self.proc = subprocess.Popen(
            [AM_BINARY, f"--config.file={self.config}",
             f"--storage.path={os.path.join(self.workdir, 'am-data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
             "--log.level=info"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._ready(), timeout=30, what="Alertmanager ready")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("Alertmanager exited; see its log in " + self.workdir)
        try:
            return http("GET", self.url + "/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def post_alerts(self, alerts):
        return http("POST", self.url + "/api/v2/alerts", alerts)

    def alerts(self, **filters):
        q = "&".join("filter=" + urllib.request.quote(f'{k}="{v}"') for k, v in filters.items())
        status, body, _ = http("GET", self.url + "/api/v2/alerts" + ("?" + q if q else ""))
        assert status == 200, body
        return json.loads(body)

    def from_alertbridge(self, labels):
        """Active alerts that carry alertbridge's marker label and all of `labels`."""
        return [a for a in self.alerts() if a["labels"].get("alertbridge_origin")
                and all(a["labels"].get(k) == v for k, v in labels.items())]


class Alertbridge:
    """The alertbridge binary with a config written for the test."""

    def __init__(self, workdir, am_url=None, extra="", resend_interval="2s", basic_auth=None,
                 n9e=None, smtp_port=None):
        self.workdir = workdir
        self.headers = {}
        if basic_auth:
            import base64
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            self.headers = {"Authorization": "Basic " + token}
            extra += (f"http_auth:\n  basic_auth: {{username: {basic_auth[0]}, "
                      f"password: {basic_auth[1]}}}\n")
        self.data_dir = os.path.join(workdir, "ab-data")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        outputs = ""
        if am_url or n9e:
            outputs = "outputs:\n"
        if am_url:
            outputs += (f"  alertmanager:\n    - name: am\n      endpoint: \"{am_url}\"\n"
                        f"      resend_interval: {resend_interval}\n"
                        f"      backoff: {{initial: 100ms, max: 1s}}\n")
        if n9e:
            outputs += (f"  nightingale:\n    - name: n9e\n      endpoint: \"{n9e.url}\"\n"
                        f"      basic_auth: {{username: n9e-api, password: n9e-secret}}\n"
                        f"      version: v8\n      rule_id: 9001\n      notify_rule_ids: [3]\n"
                        f"      group_id: 7\n"
                        f"      backoff: {{initial: 100ms, max: 1s}}\n")
        self.config = os.path.join(workdir, "alertbridge.yml")
        with open(self.config, "w") as f:
            f.write(f"""global:
  instance: alertbridge-01
  data_dir: {self.data_dir}
  timezone: Asia/Shanghai
  marker_label: alertbridge_origin
listen:
  http: "127.0.0.1:{self.port}"
{f'  smtp: "127.0.0.1:{smtp_port}"' + chr(10) if smtp_port else ""}{outputs}{extra}""")
        self.proc = None

    def start(self):
        self.log_path = os.path.join(self.workdir, "alertbridge.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BINARY, "serve", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._ready, timeout=30, what="alertbridge ready")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            with open(self.log_path) as f:
                raise AssertionError("alertbridge exited:\n" + f.read()[-3000:])
        try:
            return http("GET", self.url + "/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            if self.proc.returncode != 0:
                raise AssertionError(f"alertbridge exited with {self.proc.returncode} on SIGTERM")
        self.proc = None
        if getattr(self, "log", None) and not self.log.closed:
            self.log.close()

    def metrics(self):
        return http("GET", self.url + "/metrics")[1]

    def metric(self, name, **labels):
        return metric(self.metrics(), name, **labels)

    def post_alerts(self, alerts, headers=None):
        return http("POST", self.url + "/api/v2/alerts", alerts,
                    self.headers if headers is None else headers)


def alert(name, instance, minutes_left=5, **labels):
    t = now()
    a = {"labels": {"alertname": name, "instance": instance, "severity": "critical", **labels},
         "annotations": {"summary": f"{name} on {instance}"},
         "startsAt": rfc3339(t - timedelta(seconds=30)),
         "endsAt": rfc3339(t + timedelta(minutes=minutes_left))}
    return a


def stop_all(procs):
    """Stops every process even when one of them fails to stop cleanly (then raises the
    first failure), so that a failed test never leaves a daemon running behind it."""
    first = None
    for p in procs:
        try:
            p.stop()
        except Exception as e:  # noqa: BLE001 - re-raised below, after the others stopped
            first = first or e
    if first is not None:
        raise first


def marked(am, name, marker="alertbridge_origin", instance="alertbridge-01"):
    """Instances of `name`'s alerts active in Alertmanager that carry alertbridge's marker."""
    return {a["labels"]["instance"] for a in am.alerts(alertname=name)
            if a["labels"].get(marker) == instance}


def rss_kib(pid):
    """Resident memory of a process, in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Workdir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix=f"alertbridge-{name}-")

    def cleanup(self, keep=False):
        if not keep:
            shutil.rmtree(self.path, ignore_errors=True)
