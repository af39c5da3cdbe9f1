"""Email intake over real SMTP (swaks) into the real Alertmanager: every fixture becomes an
alert (the generic rule until vendor packs exist), recipients and size are enforced, and a
message acknowledged with 250 survives kill -9."""

import glob
import json
import os
import subprocess
import time
import unittest

from harness import SOURCE, Alertbridge, Alertmanager, Sink, Workdir, free_port, wait_for

FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "email")
MARKER = "alertbridge_origin"


def swaks(port, *args):
    out = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--timeout", "20", *args],
                         capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout + out.stderr


class Email(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("email")
        cls.sink = Sink()
        am_port = free_port()
        cls.smtp_port = free_port()
        cls.ab = Alertbridge(cls.work.path, am_url=f"http://127.0.0.1:{am_port}",
                             smtp_port=cls.smtp_port, extra="""
email:
  limits: {max_message_bytes: 200000}
  accept_recipients: ["@alerts.example", "noc@hxfutures.example"]
""").start()
        cls.am = Alertmanager(cls.work.path, cls.ab.port, cls.sink.port, port=am_port).start()

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.am.stop()
        cls.sink.stop()
        cls.work.cleanup()

    def in_am(self, subject):
        return [a for a in self.am.alerts()
                if a["labels"].get("alertname") == subject and a["labels"].get(MARKER)]

    def test_every_fixture_reaches_alertmanager_within_a_second(self):
        latencies = []
        for eml in sorted(glob.glob(os.path.join(FIXTURES, "*.eml"))):
            with open(eml.replace(".eml", ".expected.json")) as f:
                subject = json.load(f)["subject"]
            started = time.monotonic()
            rc, out = swaks(self.smtp_port, "--from", "appliance@dc.example",
                            "--to", "ops@alerts.example", "--data", eml)
            self.assertEqual(rc, 0, out)
            self.assertIn("250 2.0.0 OK: queued as", out)
            shown = wait_for(lambda: self.in_am(subject), timeout=10, interval=0.02,
                             what=f"{os.path.basename(eml)} in Alertmanager")
            latencies.append(time.monotonic() - started)
            labels = shown[0]["labels"]
            self.assertEqual(labels["email_rule"], "generic")
            self.assertEqual(labels["source_kind"], "email")
            self.assertIn(labels["severity"], ("critical", "warning", "info"))
        latencies.sort()
        print(f"email -> Alertmanager, {len(latencies)} fixtures: median "
              f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        self.assertLess(latencies[-1], 1.0, "end to end over 1 s")

    def test_unknown_recipient_is_550(self):
        rc, out = swaks(self.smtp_port, "--from", "a@dc.example", "--to", "ceo@elsewhere.example",
                        "--body", "hello")
        self.assertNotEqual(rc, 0)
        self.assertIn("550 5.1.1", out)

    def test_oversize_is_552(self):
        big = os.path.join(self.work.path, "big.eml")
        with open(big, "w") as f:
            f.write("Subject: big\r\n\r\n" + ("x" * 998 + "\r\n") * 300)
        rc, out = swaks(self.smtp_port, "--from", "a@dc.example", "--to", "ops@alerts.example",
                        "--data", big)
        self.assertNotEqual(rc, 0)
        self.assertIn("552 5.3.4", out)
        self.assertEqual(swaks(self.smtp_port, "--quit-after", "EHLO")[0], 0, "still serving")


class EmailTest(unittest.TestCase):
    """alertbridge email-test, the command users write rules with."""

    def test_prints_the_alert_and_the_rule(self):
        from harness import BINARY
        eml = os.path.join(FIXTURES, "12-veeam-job-failed-html-only.eml")
        cfg = os.path.join(SOURCE, "config-examples", "alertbridge.yml")
        out = subprocess.run([BINARY, "email-test", "--config", cfg, eml],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        alert_json, _, explanation = out.stdout.partition("\n\n")
        alert = json.loads(alert_json)
        with open(eml.replace(".eml", ".expected.json")) as f:
            want = json.load(f)
        self.assertEqual(alert["summary"], want["subject"])
        self.assertEqual(alert["rule"], "generic")
        self.assertEqual(alert["status"], "firing")
        self.assertRegex(alert["fingerprint"], r"^[0-9a-f]{16}$")
        for text in want["body_must_contain"]:
            self.assertIn(text, alert["annotations"]["description"])
        self.assertIn("generic rule", explanation)
        bad = subprocess.run([BINARY, "email-test", "--config", cfg, "/nonexistent.eml"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("cannot read", bad.stderr)


class EmailDurability(unittest.TestCase):
    def test_kill9_after_250_loses_nothing(self):
        work = Workdir("email-kill")
        sink = Sink()
        am_port = free_port()
        smtp_port = free_port()
        # Alertmanager is down while the mail arrives: nothing can leave before the kill.
        ab = Alertbridge(work.path, am_url=f"http://127.0.0.1:{am_port}", smtp_port=smtp_port)
        am = None
        try:
            ab.start()
            eml = os.path.join(FIXTURES, "09-zabbix-problem.eml")
            rc, out = swaks(smtp_port, "--from", "zabbix@dc.example", "--to", "noc@x.example",
                            "--data", eml)
            self.assertEqual(rc, 0, out)
            self.assertIn("250 2.0.0", out)
            ab.kill9()
            am = Alertmanager(work.path, ab.port, sink.port, port=am_port).start()
            ab.start()
            wait_for(lambda: [a for a in am.alerts() if a["labels"].get("email_rule")],
                     timeout=20, what="the acknowledged email in Alertmanager after kill -9")
        finally:
            ab.stop()
            if am:
                am.stop()
            sink.stop()
            work.cleanup()


if __name__ == "__main__":
    unittest.main()
