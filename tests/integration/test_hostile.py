"""A store that cannot write, a damaged store, and slow or hostile clients. Real processes on
loopback: the real Alertmanager and alertbridge; the disk fault is a file size limit set on the
running daemon with prlimit (root ignores file modes, so a read-only file is made immutable);
the damage is a page of the database overwritten while alertbridge is stopped."""

import hashlib
import json
import os
import re
import smtplib
import sqlite3
import socket
import subprocess
import time
import unittest
from http.client import HTTPResponse

from harness import (BINARY, Alertbridge, Alertmanager, Sink, Workdir, alert, free_port, http,
                     marked, stop_all, wait_for)


def prlimit_fsize(pid, limit):
    """Sets the soft file size limit of a running process (the hard one stays unlimited, so
    it can be raised again)."""
    subprocess.run(["prlimit", f"--pid={pid}", f"--fsize={limit}:unlimited"], check=True)


class StoreFails(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("store-fails")
        self.sink = Sink()
        self.am = Alertmanager(self.work.path, free_port(), self.sink.port).start()
        self.smtp_port = free_port()
        self.ab = Alertbridge(self.work.path, am_url=self.am.url, resend_interval="1m",
                              smtp_port=self.smtp_port).start()

    def tearDown(self):
        try:
            stop_all([self.ab, self.am])
        finally:
            self.sink.stop()
            self.work.cleanup()

    def test_a_full_disk_answers_503_and_451_and_recovers_by_itself(self):
        ab = self.ab
        acked = set()

        def post(i):
            a = alert("DiskFull", f"10.60.{i // 250}.{i % 250}:9100", minutes_left=30)
            status, body, headers = ab.post_alerts([a])
            if status == 200:
                acked.add(a["labels"]["instance"])
            return status, body, headers

        for i in range(20):
            self.assertEqual(post(i)[0], 200)
        # Writes past the files' current sizes now fail as on a full disk (EFBIG).
        wal = os.path.join(ab.data_dir, "alertbridge.db-wal")
        limit = max(os.path.getsize(wal), os.path.getsize(os.path.join(ab.data_dir,
                                                                       "alertbridge.db")))
        prlimit_fsize(ab.proc.pid, limit)
        i, refused = 20, None
        while refused is None and i < 5000:
            status, body, headers = post(i)
            if status == 503:
                refused = (body, headers)
            else:
                self.assertEqual(status, 200, body)
            i += 1
        self.assertIsNotNone(refused, "the store never failed")
        body, headers = refused
        # The request whose commit failed, or one refused at once because an earlier commit
        # (the outbox, the notification log) failed first.
        self.assertTrue("could not be stored" in body or "the store cannot write" in body, body)
        self.assertIn("Retry-After", headers)
        # While it cannot write: intake refuses at once, /-/ready is false, SMTP answers 451.
        status, body, _ = post(i)
        self.assertEqual(status, 503)
        self.assertIn("(full)", body)
        self.assertEqual(http("GET", ab.url + "/-/ready")[0], 503)
        self.assertEqual(http("GET", ab.url + "/-/healthy")[0], 200)
        self.assertEqual(ab.metric("alertbridge_store_writable"), 0)
        self.assertGreater(ab.metric("alertbridge_store_errors_total", **{"class": "full"}), 0)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as s:
            with self.assertRaises(smtplib.SMTPDataError) as ctx:
                s.sendmail("ups@example.com", ["noc@alerts.example"],
                           b"Subject: UPS ups-a1 on battery\r\n\r\nTime: 2024-07-23 21:04:10\r\n")
            self.assertEqual(ctx.exception.smtp_code, 451)
        with open(ab.log_path) as f:
            log = f.read()
        self.assertIn("The store cannot write", log)
        # The cause goes away: it recovers without a restart.
        prlimit_fsize(ab.proc.pid, "unlimited")
        wait_for(lambda: http("GET", ab.url + "/-/ready")[0] == 200, timeout=15,
                 what="ready again once the disk has room")
        # /metrics sets the gauge from the store's state as it is read: no later than ready.
        self.assertEqual(ab.metric("alertbridge_store_writable"), 1)
        for j in range(i + 1, i + 21):
            self.assertEqual(post(j)[0], 200)
        with open(ab.log_path) as f:
            self.assertIn("The store is writable again", f.read())
        # Every alert that was answered 200 reached Alertmanager; nothing acknowledged lost.
        wait_for(lambda: acked <= marked(self.am, "DiskFull"), timeout=20,
                 what=f"all {len(acked)} acknowledged alerts in Alertmanager")
        print(f"full disk: {len(acked)} acknowledged, all delivered; refused after "
              f"{i - 20} writes past the limit; recovered by itself")


    def test_a_stop_while_the_disk_is_full_ends_and_the_restart_delivers(self):
        # Alertmanager is down, so the worker has completions to wait for; the store fills;
        # SIGTERM must still end the process (a worker waiting for a commit that cannot come
        # gives up on stop), and after a restart with room every acknowledged alert goes out.
        ab = self.ab
        self.am.stop()
        acked = set()
        for i in range(20):
            a = alert("FullStop", f"10.63.0.{i}:9100", minutes_left=30)
            self.assertEqual(ab.post_alerts([a])[0], 200)
            acked.add(a["labels"]["instance"])
        wal = os.path.join(ab.data_dir, "alertbridge.db-wal")
        prlimit_fsize(ab.proc.pid, max(os.path.getsize(wal),
                                       os.path.getsize(os.path.join(ab.data_dir,
                                                                    "alertbridge.db"))))
        for i in range(20, 5000):
            a = alert("FullStop", f"10.63.{i // 250}.{i % 250}:9100", minutes_left=30)
            if ab.post_alerts([a])[0] != 200:
                break
            acked.add(a["labels"]["instance"])
        # Alertmanager comes back: the worker sends, and then waits for a completion the
        # full store cannot commit.
        self.am.start()
        wait_for(lambda: marked(self.am, "FullStop"), timeout=20, what="a delivery")
        self.assertEqual(ab.metric("alertbridge_store_writable"), 0)
        started = time.monotonic()
        ab.stop()  # raises if it does not exit 0 within 15 s
        stopped_in = time.monotonic() - started
        ab.start()
        wait_for(lambda: acked <= marked(self.am, "FullStop"), timeout=30,
                 what=f"all {len(acked)} acknowledged alerts after the restart")
        print(f"full disk: stopped in {stopped_in:.1f} s; {len(acked)} acknowledged, all "
              f"delivered after the restart")

    def test_a_read_only_file_is_fatal_answers_503_and_recovers_once_writable(self):
        # Root ignores file modes; the immutable attribute stops even root's writes (EPERM),
        # which is what a file made read-only under a running daemon looks like.
        probe = os.path.join(self.work.path, "chattr-probe")
        open(probe, "w").close()
        if subprocess.run(["chattr", "+i", probe], capture_output=True).returncode != 0:
            self.skipTest("this file system has no immutable attribute (chattr +i)")
        subprocess.run(["chattr", "-i", probe], check=True)
        ab = self.ab
        acked = set()

        def post(i):
            a = alert("ReadOnly", f"10.61.{i // 250}.{i % 250}:9100", minutes_left=30)
            status, body, _ = ab.post_alerts([a])
            if status == 200:
                acked.add(a["labels"]["instance"])
            return status, body

        for i in range(20):
            self.assertEqual(post(i)[0], 200)
        files = [os.path.join(ab.data_dir, f) for f in ("alertbridge.db", "alertbridge.db-wal")]
        subprocess.run(["chattr", "+i", *files], check=True)
        try:
            status, body = post(20)
            self.assertEqual(status, 503, body)
            status, body = post(21)
            self.assertEqual(status, 503)
            self.assertIn("(fatal)", body)
            self.assertEqual(http("GET", ab.url + "/-/ready")[0], 503)
            self.assertEqual(http("GET", ab.url + "/-/healthy")[0], 200)
            self.assertEqual(ab.metric("alertbridge_store_writable"), 0)
            self.assertGreater(
                ab.metric("alertbridge_store_errors_total", **{"class": "fatal"}), 0)
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as s:
                with self.assertRaises(smtplib.SMTPDataError) as ctx:
                    s.sendmail("ups@example.com", ["noc@alerts.example"],
                               b"Subject: UPS ups-a1 on battery\r\n\r\nTime: 2024-07-23 21:04:10\r\n")
                self.assertEqual(ctx.exception.smtp_code, 451)
        finally:
            subprocess.run(["chattr", "-i", *files], check=True)
        with open(ab.log_path) as f:
            self.assertIn("class=fatal", f.read())
        wait_for(lambda: http("GET", ab.url + "/-/ready")[0] == 200, timeout=20,
                 what="ready again once the file is writable")
        for j in range(22, 42):
            self.assertEqual(post(j)[0], 200)
        wait_for(lambda: acked <= marked(self.am, "ReadOnly"), timeout=20,
                 what=f"all {len(acked)} acknowledged alerts in Alertmanager")
        print(f"read-only file: {len(acked)} acknowledged, all delivered; recovered by itself")


class DamagedStore(unittest.TestCase):
    """A damaged database file (a bad sector, a torn copy) is refused at start with what to
    do, and left as it is; the salvage the message gives keeps every row of the undamaged
    pages, so what was waiting for delivery still reaches Alertmanager."""

    def setUp(self):
        self.work = Workdir("damaged")
        self.sink = Sink()
        self.am = Alertmanager(self.work.path, free_port(), self.sink.port)  # not yet started
        self.procs = [self.am]

    def tearDown(self):
        try:
            stop_all(self.procs)
        finally:
            self.sink.stop()
            self.work.cleanup()

    def fill(self, name, n):
        """n alerts acknowledged while Alertmanager is down, then a clean stop: they wait in
        the outbox."""
        ab = Alertbridge(self.work.path, am_url=self.am.url, resend_interval="1m")
        self.procs.append(ab)
        ab.start()
        acked = set()
        for i in range(n):
            a = alert(name, f"10.62.{i // 250}.{i % 250}:9100", minutes_left=30)
            self.assertEqual(ab.post_alerts([a])[0], 200)
            acked.add(a["labels"]["instance"])
        ab.stop()
        return ab, acked, os.path.join(ab.data_dir, "alertbridge.db")

    def refused(self, ab, db):
        def digest():
            with open(db, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()

        before = digest()
        p = subprocess.run([BINARY, "serve", "--config", ab.config], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout[-2000:])
        self.assertEqual(digest(), before, "a damaged file must be left as it is")
        lines = [ln for ln in p.stdout.splitlines() if "level=error" in ln]
        self.assertEqual(len(lines), 1, p.stdout[-2000:])
        self.assertIn(db, lines[0])
        self.assertIn("the file is damaged and was left as it is", lines[0])
        return lines[0]

    def test_a_damaged_page_is_refused_at_start_and_the_salvage_delivers_everything(self):
        ab, acked, db = self.fill("DamagedPage", 300)
        with sqlite3.connect(db) as con:
            root = con.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'journal'").fetchone()[0]
            page = con.execute("PRAGMA page_size").fetchone()[0]
        with open(db, "r+b") as f:  # the journal's root page, as a bad sector leaves it
            f.seek((root - 1) * page)
            f.write(b"\xaa" * page)
        line = self.refused(ab, db)
        self.assertIn("integrity check found", line)
        # The operator follows the message, word for word.
        salvage = re.search(r"`([^`]+)`", line).group(1)
        subprocess.run(salvage, shell=True, check=True, timeout=60)
        for extra in ("-wal", "-shm"):
            if os.path.exists(db + extra):
                os.remove(db + extra)
        os.replace(db + ".recovered", db)
        self.am.start()
        again = Alertbridge(self.work.path, am_url=self.am.url, resend_interval="1m")
        self.procs.append(again)
        again.start()
        wait_for(lambda: acked <= marked(self.am, "DamagedPage"), timeout=30,
                 what=f"all {len(acked)} alerts that waited in the damaged file")
        status, _, _ = again.post_alerts([alert("DamagedPage", "10.62.9.9:9100")])
        self.assertEqual(status, 200)
        print(f"damaged page: refused at start, file untouched; after the salvage all "
              f"{len(acked)} waiting alerts delivered")

    def test_a_file_that_is_not_a_database_is_refused_at_start(self):
        ab, _, db = self.fill("NotADatabase", 5)
        with open(db, "r+b") as f:  # the header, as a file copied over it would leave it
            f.write(b"this is not the store" * 5)
        line = self.refused(ab, db)
        self.assertIn("file is not a database", line)


class HostileClients(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("hostile")
        self.ab = Alertbridge(
            self.work.path, basic_auth=("alertmanager", "webhook-secret"),
            extra="intake:\n  max_connections: 300\n  request_timeout: 3s\n"
                  "  max_body_bytes: 1048576\n").start()
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        self.ab.stop()
        self.work.cleanup()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.ab.port), timeout=10)
        self.socks.append(s)
        return s

    def healthy_within(self, seconds):
        started = time.monotonic()
        status = http("GET", self.ab.url + "/-/healthy", timeout=seconds)[0]
        return status, time.monotonic() - started

    def answer(self, s, request):
        s.sendall(request)
        r = HTTPResponse(s)
        r.begin()
        return r, r.read()

    def test_answers_keep_the_connection_as_the_request_asks(self):
        body = json.dumps([alert("OneConnection", "10.70.0.2:9100")]).encode()
        auth = b"Authorization: Basic YWxlcnRtYW5hZ2VyOndlYmhvb2stc2VjcmV0\r\n"

        def post(version, extra=b""):
            return (b"POST /api/v2/alerts HTTP/" + version + b"\r\nHost: x\r\n" + auth + extra +
                    b"Content-Type: application/json\r\nContent-Length: " +
                    str(len(body)).encode() + b"\r\n\r\n" + body)

        # HTTP/1.1: the common answer (200, empty) three times on one connection.
        s = self.connect()
        for _ in range(3):
            r, data = self.answer(s, post(b"1.1"))
            self.assertEqual((r.status, r.version, data), (200, 11, b""))
            self.assertEqual(r.getheader("Content-Length"), "0")
            self.assertEqual(r.getheader("Content-Type"), "application/json")
            self.assertEqual(r.getheader("Server"), "alertbridge")
            self.assertIsNone(r.getheader("Connection"))
        # Asked to close: said so, and closed.
        r, _ = self.answer(s, post(b"1.1", b"Connection: close\r\n"))
        self.assertEqual((r.status, r.getheader("Connection")), (200, "close"))
        self.assertEqual(s.recv(16), b"")
        # HTTP/1.0 closes unless asked to keep alive, and is answered in HTTP/1.0.
        s = self.connect()
        r, _ = self.answer(s, post(b"1.0", b"Connection: keep-alive\r\n"))
        self.assertEqual((r.status, r.version), (200, 10))
        self.assertEqual(r.getheader("Connection"), "keep-alive")
        r, _ = self.answer(s, post(b"1.0"))
        self.assertEqual((r.status, r.version), (200, 10))
        self.assertEqual(s.recv(16), b"")
        # An answer with a body on a kept connection, then the common one again.
        s = self.connect()
        bad = post(b"1.1").replace(body, b"[{}]" + b" " * (len(body) - 4))
        r, data = self.answer(s, bad)
        self.assertEqual(r.status, 400, data)
        self.assertGreater(len(data), 0)
        r, data = self.answer(s, post(b"1.1"))
        self.assertEqual((r.status, data), (200, b""))

    def test_idle_slow_oversize_and_unauthorized_clients_do_not_stall_the_daemon(self):
        # Many idle connections, below the bound (300): the daemon answers at once.
        idle = [self.connect() for _ in range(250)]
        status, took = self.healthy_within(2)
        self.assertEqual(status, 200)
        self.assertLess(took, 1.0)
        # Past the bound: a new connection gets 503 at once, not a hang.
        extra = [self.connect() for _ in range(100)]
        refused = 0
        for s in extra:
            s.settimeout(2)
            try:
                if s.recv(4096).startswith(b"HTTP/1.1 503"):
                    refused += 1
            except socket.timeout:
                pass
        self.assertGreaterEqual(refused, 45)
        # Idle connections are closed after request_timeout (3 s): room comes back by itself.
        started = time.monotonic()
        wait_for(lambda: self.healthy_within(2)[0] == 200, timeout=10,
                 what="/-/healthy once the idle connections timed out")
        freed = time.monotonic() - started
        for s in idle:
            s.settimeout(5)
            try:
                self.assertEqual(s.recv(4096), b"")
            except ConnectionResetError:
                pass
        # Slowloris: a head and a body that trickle in. The daemon keeps answering, and cuts
        # them off at request_timeout.
        slow = []
        for _ in range(20):
            s = self.connect()
            s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                      b"Authorization: Basic YWxlcnRtYW5hZ2VyOndlYmhvb2stc2VjcmV0\r\n\r\n[")
            slow.append(s)
        for _ in range(2):
            time.sleep(1)
            for s in slow:
                s.sendall(b" ")
            status, took = self.healthy_within(2)
            self.assertEqual(status, 200)
            self.assertLess(took, 1.0)
        # An oversize body is refused from its head: the answer comes before any body byte.
        s = self.connect()
        s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n"
                  b"Authorization: Basic YWxlcnRtYW5hZ2VyOndlYmhvb2stc2VjcmV0\r\n"
                  b"Content-Type: application/json\r\n\r\n")
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 413"))
        # Bad credentials with a huge body: 401 before the body is read.
        s = self.connect()
        s.sendall(b"POST /webhook/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n"
                  b"Authorization: Basic d3Jvbmc6d3Jvbmc=\r\n\r\n")
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 401"))
        time.sleep(2)
        for s in slow:
            s.settimeout(5)
            try:
                data = s.recv(4096)
                self.assertEqual(data, b"", "a slow request was answered instead of closed")
            except ConnectionResetError:
                pass
        status, body, _ = self.ab.post_alerts([alert("AfterHostile", "10.70.0.1:9100")])
        self.assertEqual(status, 200, body)
        self.assertGreater(self.ab.metric("alertbridge_input_requests_rejected_total",
                                          input="alertmanager_api", reason="too_large"), 0)
        self.assertGreater(self.ab.metric("alertbridge_input_requests_rejected_total",
                                          input="alertmanager_webhook", reason="unauthorized"), 0)
        print(f"hostile clients: {refused} of 100 connections over the bound of 300 refused with "
              f"503; room back {freed:.1f} s later; 20 slowloris requests cut off at 3 s; 413 "
              f"and 401 before the body")


if __name__ == "__main__":
    unittest.main()
