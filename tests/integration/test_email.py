"""Email intake over real SMTP (swaks) into the real Alertmanager: every fixture becomes the
alert its vendor pack describes, recovery mails resolve the alerts their problem mails
opened, recipients and size are enforced, and a message acknowledged with 250 survives
kill -9."""

import glob
import json
import os
import subprocess
import time
import unittest

from harness import SOURCE, Alertbridge, Alertmanager, Sink, Workdir, free_port, http, wait_for

FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "email")
EXTRA = os.path.join(SOURCE, "tests", "fixtures", "email_extra")
VARIANTS = os.path.join(SOURCE, "tests", "fixtures", "email_variants")


def swaks(port, *args):
    # Bytes: swaks echoes the message, and an 8-bit body need not be UTF-8.
    out = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--timeout", "20", *args],
                         capture_output=True, timeout=60)
    return out.returncode, (out.stdout + out.stderr).decode("utf-8", errors="replace")


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
  allowed_clients: ["127.0.0.0/8", "::1"]
""").start()
        cls.am = Alertmanager(cls.work.path, cls.ab.port, cls.sink.port, port=am_port).start()

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.am.stop()
        cls.sink.stop()
        cls.work.cleanup()

    def in_am(self, labels):
        return self.am.from_alertbridge(labels)

    def test_every_fixture_reaches_alertmanager_within_a_second(self):
        """Problem mails appear with their pack's labels; recovery mails (SmartX, OCP,
        Zabbix, Nagios) make their alerts disappear. Each within 1 s of the 250."""
        latencies = []
        resolved = 0
        files = sorted(glob.glob(os.path.join(FIXTURES, "*.eml"))) + \
            sorted(glob.glob(os.path.join(EXTRA, "*.eml")))
        for eml in files:
            with open(eml.replace(".eml", ".expected.json")) as f:
                want = json.load(f)
            started = time.monotonic()
            rc, out = swaks(self.smtp_port, "--from", "appliance@dc.example",
                            "--to", "ops@alerts.example", "--data", eml)
            self.assertEqual(rc, 0, out)
            self.assertIn("250 2.0.0 OK: queued as", out)
            name = os.path.basename(eml)
            if want["status"] == "resolved":
                wait_for(lambda: not self.in_am(want["labels"]), timeout=10, interval=0.02,
                         what=f"{name} to resolve its alert in Alertmanager")
                latencies.append(time.monotonic() - started)
                resolved += 1
                continue
            shown = wait_for(lambda: self.in_am(want["labels"]), timeout=10, interval=0.02,
                             what=f"{name} in Alertmanager")
            latencies.append(time.monotonic() - started)
            labels = shown[0]["labels"]
            self.assertEqual(labels["email_rule"], want["vendor"], name)
            self.assertEqual(labels["source_kind"], "email")
            self.assertEqual(labels["severity"], want["severity"], name)
            self.assertEqual(shown[0]["annotations"]["summary"], want["summary"], name)
        self.assertEqual(resolved, 4, "SmartX, OCP, Zabbix and Nagios recoveries")
        latencies.sort()
        print(f"email -> Alertmanager, {len(latencies)} fixtures: median "
              f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        self.assertLess(latencies[-1], 1.0, "end to end over 1 s")
        self.assertEqual(self.ab.metric("alertbridge_email_messages_total", rule="zabbix"), 2)

    def send(self, eml):
        rc, out = swaks(self.smtp_port, "--from", "appliance@dc.example",
                        "--to", "ops@alerts.example", "--data", eml)
        self.assertEqual(rc, 0, out)
        self.assertIn("250 2.0.0 OK: queued as", out)

    def test_every_variant_and_every_recovery_over_smtp(self):
        """The variant corpus (every pack's layouts): a problem mail shows in Alertmanager
        with its pack and severity; each recovery, in whatever layout, then takes its
        partner's alert out of Alertmanager."""
        files = sorted(glob.glob(os.path.join(VARIANTS, "*", "*.eml")))
        self.assertGreaterEqual(len(files), 40)
        recoveries = 0
        for eml in files:
            with open(eml.replace(".eml", ".expected.json")) as f:
                want = json.load(f)
            name = os.path.relpath(eml, VARIANTS)
            if want["status"] == "resolved":
                continue
            self.send(eml)
            shown = wait_for(lambda: self.in_am(want["labels"]), timeout=10, interval=0.02,
                             what=f"{name} in Alertmanager")
            labels = shown[0]["labels"]
            self.assertEqual(labels["email_rule"], want["vendor"], name)
            self.assertEqual(labels["severity"], want["severity"], name)
            self.assertEqual(labels[want["resource_label"]], want["resource"], name)
        for eml in files:
            with open(eml.replace(".eml", ".expected.json")) as f:
                want = json.load(f)
            if want["status"] != "resolved":
                continue
            name = os.path.relpath(eml, VARIANTS)
            # "../email/x.eml" names another corpus (relative to this one), "x.eml" a neighbour.
            base = VARIANTS if want["pairs_with"].startswith("../") else os.path.dirname(eml)
            partner = os.path.normpath(os.path.join(base, want["pairs_with"]))
            self.send(partner)  # again, or for the first time if it is in another corpus
            wait_for(lambda: self.in_am(want["labels"]), timeout=10, interval=0.02,
                     what=f"{want['pairs_with']} (the partner of {name}) in Alertmanager")
            self.send(eml)
            wait_for(lambda: not self.in_am(want["labels"]), timeout=10, interval=0.02,
                     what=f"{name} to resolve its partner's alert in Alertmanager")
            recoveries += 1
        self.assertGreaterEqual(recoveries, 15)
        print(f"email variants over SMTP: {len(files)} messages, {recoveries} recoveries "
              "resolved their partners in Alertmanager")

    def test_unknown_recipient_is_550(self):
        rc, out = swaks(self.smtp_port, "--from", "a@dc.example", "--to", "ceo@elsewhere.example",
                        "--body", "hello")
        self.assertNotEqual(rc, 0)
        self.assertIn("550 5.1.1", out)

    def test_archive_finds_the_email_behind_an_alert_and_parses_it_again(self):
        eml = os.path.join(EXTRA, "nagios-service-problem.eml")
        with open(eml.replace(".eml", ".expected.json")) as f:
            want = json.load(f)
        rc, out = swaks(self.smtp_port, "--from", "nagios@dc.example", "--to",
                        "ops@alerts.example", "--data", eml)
        self.assertEqual(rc, 0, out)
        url = f"{self.ab.url}/api/v1/emails"
        listed = wait_for(lambda: json.loads(http("GET", f"{url}?fingerprint={want['fingerprint']}")[1])["emails"],
                          timeout=5, what="the archived email")
        first = listed[0]
        self.assertEqual(first["rule"], "nagios")
        self.assertEqual(first["subject"], want["subject"])
        self.assertEqual(first["fingerprint"], want["fingerprint"])
        status, body, _ = http("GET", f"{url}/{first['id']}")
        self.assertEqual(status, 200, body)
        one = json.loads(body)
        self.assertEqual(one["result"]["summary"], want["summary"])
        self.assertEqual(one["result"]["labels"]["resource"], "md-gw-02")
        status, raw, _ = http("GET", f"{url}/{first['id']}/raw")
        self.assertEqual(status, 200)
        with open(eml, "rb") as f:
            self.assertIn(f.read().split(b"\r\n\r\n", 1)[1].strip(), raw if isinstance(raw, bytes) else raw.encode())
        status, body, _ = http("POST", f"{url}/{first['id']}/reparse", b"")
        self.assertEqual(status, 200, body)
        again = json.loads(body)
        self.assertEqual(again["reparsed_from"], first["id"])
        self.assertGreater(again["email"]["id"], first["id"])
        self.assertEqual(again["email"]["result"]["fingerprint"], want["fingerprint"])
        self.assertEqual(http("GET", f"{url}/999999")[0], 404)
        self.assertEqual(http("GET", f"{url}/x")[0], 404)
        self.assertEqual(http("GET", f"{url}?limit=0")[0], 400)
        self.assertEqual(http("DELETE", f"{url}/{first['id']}")[0], 405)

    def test_client_outside_allowed_cidrs_is_554(self):
        work = Workdir("email-cidr")
        port = free_port()
        ab = Alertbridge(work.path, am_url="http://127.0.0.1:9", smtp_port=port, extra="""
email:
  allowed_clients: ["10.0.0.0/8", "2001:db8::/32"]
""")
        try:
            ab.start()
            rc, out = swaks(port, "--from", "a@dc.example", "--to", "ops@alerts.example",
                            "--body", "hello")
            self.assertNotEqual(rc, 0)
            self.assertIn("554 5.7.1 127.0.0.1 is not allowed to send mail here", out)
            self.assertEqual(ab.metric("alertbridge_input_requests_rejected_total", input="email",
                                       reason="client_not_allowed"), 1)
        finally:
            ab.stop()
            work.cleanup()

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

    def run_test(self, cfg, eml):
        from harness import BINARY
        out = subprocess.run([BINARY, "email-test", "--config", cfg, eml],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        alert_json, _, explanation = out.stdout.partition("\n\n")
        return json.loads(alert_json), explanation

    def test_prints_the_alert_and_the_rule(self):
        from harness import BINARY
        eml = os.path.join(FIXTURES, "12-veeam-job-failed-html-only.eml")
        cfg = os.path.join(SOURCE, "config-examples", "alertbridge.yml")
        alert, explanation = self.run_test(cfg, eml)
        with open(eml.replace(".eml", ".expected.json")) as f:
            want = json.load(f)
        self.assertEqual(alert["summary"], want["summary"])
        self.assertEqual(alert["rule"], "veeam")
        self.assertEqual(alert["status"], "firing")
        self.assertEqual(alert["severity"], "critical")
        self.assertEqual(alert["fingerprint"], want["fingerprint"])
        self.assertIsNone(alert["ends_at"])
        for text in want["body_must_contain"]:
            self.assertIn(text, alert["annotations"]["description"])
        self.assertIn("Rule: veeam (adapters/email/rules/veeam.yml)", explanation)
        self.assertIn("zabbix: body does not match /(?:Original (?:problem|event) ID|",
                      explanation)
        bad = subprocess.run([BINARY, "email-test", "--config", cfg, "/nonexistent.eml"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("cannot read", bad.stderr)

    def test_resolution_and_generic_fallback(self):
        cfg = os.path.join(SOURCE, "config-examples", "alertbridge.yml")
        alert, _ = self.run_test(cfg, os.path.join(FIXTURES, "10-zabbix-resolved.eml"))
        self.assertEqual(alert["status"], "resolved")
        self.assertEqual(alert["ends_at"], "2024-07-23T12:20:14.000Z")
        self.assertEqual(alert["starts_at"], "2024-07-23T12:15:02.000Z")
        work = Workdir("email-test")
        try:
            eml = os.path.join(work.path, "unknown.eml")
            with open(eml, "w") as f:
                f.write("From: ups@dc.example\r\nSubject: UPS on battery\r\n\r\nInput lost.\r\n")
            alert, explanation = self.run_test(cfg, eml)
            self.assertEqual(alert["rule"], "generic")
            self.assertEqual(alert["summary"], "UPS on battery")
            self.assertIn("No rule pack took this message", explanation)
            self.assertIn("smartx: subject does not match", explanation)
        finally:
            work.cleanup()

    def test_users_pack_first_and_check_config_names_its_line(self):
        from harness import BINARY
        work = Workdir("email-pack")
        try:
            with open(os.path.join(work.path, "ups.yml"), "w") as f:
                f.write("""name: ups
match: {subject: '^UPS '}
extract:
  - {in: subject, regex: '^UPS (?P<state>on battery|on mains)'}
  - {regex: '(?m)^Unit: (?P<unit>\\S+)'}
severity: {from: '{{state}}', map: {on battery: critical, on mains: info}}
status: {from: '{{state}}', resolved: [on mains]}
labels: {alertname: UpsPower, resource: '{{unit}}'}
identity: [source, alertname, resource]
summary: 'UPS {{unit}} {{state}}'
""")
            cfg = os.path.join(work.path, "ab.yml")
            with open(cfg, "w") as f:
                f.write("email:\n  rules: [ups.yml]\n  disable_builtin_rules: [nagios]\n")
            eml = os.path.join(work.path, "ups.eml")
            with open(eml, "w") as f:
                f.write("Subject: UPS on battery\r\n\r\nUnit: ups-a1\r\n")
            alert, explanation = self.run_test(cfg, eml)
            self.assertEqual(alert["rule"], "ups")
            self.assertEqual(alert["severity"], "critical")
            self.assertEqual(alert["summary"], "UPS ups-a1 on battery")
            self.assertNotIn("nagios", explanation)
            # A typo in a template is caught with the pack's file and line.
            with open(os.path.join(work.path, "ups.yml"), "a") as f:
                f.write("annotations: {note: '{{unti}}'}\n")
            out = subprocess.run([BINARY, "check-config", cfg], capture_output=True, text=True,
                                 timeout=30)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('ups.yml:11: annotations.note: unknown field "unti" '
                          '(did you mean "unit"?)', out.stderr)
        finally:
            work.cleanup()


class EmailTls(unittest.TestCase):
    """STARTTLS with a certificate from openssl, and AUTH only over it (Python's smtplib)."""

    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("email-tls")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(cls.work.path, "key.pem"),
                        "-out", os.path.join(cls.work.path, "cert.pem")],
                       check=True, capture_output=True, timeout=60)
        cls.smtp_port = free_port()
        cls.ab = Alertbridge(cls.work.path, am_url="http://127.0.0.1:9", smtp_port=cls.smtp_port,
                             extra="""
email:
  tls: {cert_file: cert.pem, key_file: key.pem}
  auth:
    required: true
    users: [{username: smartx, password: pa55}]
""").start()

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.work.cleanup()

    def connect(self):
        import smtplib
        return smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=20)

    def tls(self):
        import ssl
        ctx = ssl.create_default_context(cafile=os.path.join(self.work.path, "cert.pem"))
        ctx.check_hostname = False
        return ctx

    def test_starttls_then_auth_then_mail(self):
        with self.connect() as s:
            s.ehlo("appliance")
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"), "no AUTH in clear")
            code, _ = s.mail("a@dc.example")
            self.assertEqual(code, 530)
            s.rset()
            s.starttls(context=self.tls())
            s.ehlo("appliance")
            self.assertIn("PLAIN", s.esmtp_features.get("auth", "").upper())
            with open(os.path.join(FIXTURES, "09-zabbix-problem.eml"), "rb") as f:
                msg = f.read()
            code, _ = s.mail("a@dc.example")
            self.assertEqual(code, 530, "authentication required")
            s.rset()
            s.login("smartx", "pa55")
            refused = s.sendmail("zabbix@dc.example", ["ops@alerts.example"], msg)
            self.assertEqual(refused, {})
        self.assertEqual(self.ab.metric("alertbridge_email_messages_total", rule="zabbix"), 1)

    def test_wrong_password_is_535_and_counted(self):
        import smtplib
        before = self.ab.metric("alertbridge_input_requests_rejected_total", input="email",
                                reason="unauthorized")
        with self.connect() as s:
            s.starttls(context=self.tls())
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.login("smartx", "nope")
            self.assertEqual(e.exception.smtp_code, 535)
        self.assertGreater(self.ab.metric("alertbridge_input_requests_rejected_total",
                                          input="email", reason="unauthorized"), before)

    def test_auth_in_clear_is_refused(self):
        with self.connect() as s:
            s.ehlo("appliance")
            code, text = s.docmd("AUTH", "PLAIN AHNtYXJ0eABwYTU1")
            self.assertEqual(code, 538, text)


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
            archived = json.loads(http("GET", ab.url + "/api/v1/emails")[1])["emails"]
            self.assertEqual([e["rule"] for e in archived], ["zabbix"], "archived exactly once")
        finally:
            ab.stop()
            if am:
                am.stop()
            sink.stop()
            work.cleanup()


if __name__ == "__main__":
    unittest.main()
