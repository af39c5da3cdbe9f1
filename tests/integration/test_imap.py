"""IMAP intake against a real Dovecot (Debian's dovecot-imapd), configured by the test on a
high loopback port with a temporary maildir: mail dropped into a mailbox becomes alerts in
the real Alertmanager, over imap:// and over imaps:// with a private CA; mark_seen leaves
the messages seen and tagged, move:<folder> moves
them; a mailbox that cannot be reached is counted and retried without stopping anything."""

import imaplib
import os
import pwd
import shutil
import subprocess
import time
import unittest

from harness import SOURCE, Alertbridge, Alertmanager, Sink, Workdir, free_port, wait_for

FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "email")
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


class Dovecot:
    """A private Dovecot: its own config, run and state dirs, users and maildirs."""

    def __init__(self, work, users, cert=None, key=None):
        self.users = users  # name -> password
        self.dir = os.path.join(work, "dovecot")
        self.port = free_port()
        self.imaps_port = free_port() if cert else 0
        ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n" if cert else "ssl = no\n"
        os.makedirs(os.path.join(self.dir, "run"))
        os.makedirs(os.path.join(self.dir, "state"))
        # Dovecot refuses uid 0 for mail, and its auth process (user dovecot) must read the
        # users file: as root, mail belongs to nobody and the folders are world-readable.
        if os.getuid() == 0:
            self.uid = self.gid = pwd.getpwnam("nobody").pw_uid
            extra = ""
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
            me = pwd.getpwuid(self.uid).pw_name
            extra = f"default_login_user = {me}\ndefault_internal_user = {me}\n"
        for d in (work, self.dir):
            os.chmod(d, 0o755)
        users_file = os.path.join(self.dir, "users")
        with open(users_file, "w") as f:
            for name, password in self.users.items():
                f.write(f"{name}:{{PLAIN}}{password}::::::\n")
        os.chmod(users_file, 0o644)
        self.home = os.path.join(self.dir, "home")
        for name in self.users:
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(self.home, name, "Maildir", sub))
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
{extra}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users_file}
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.home}/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  mailbox Processed {{
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
""")
        self._chown(self.home)

    def _chown(self, path):
        if os.getuid() == 0:
            for root, dirs, files in os.walk(path):
                for p in [root] + [os.path.join(root, x) for x in dirs + files]:
                    os.chown(p, self.uid, self.gid)

    def start(self):
        subprocess.run([DOVECOT, "-c", self.conf], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        wait_for(lambda: self._login_ok(), timeout=15, what="Dovecot to accept logins")
        return self

    def _login_ok(self):
        try:
            with imaplib.IMAP4("127.0.0.1", self.port) as m:
                m.login("noc", "s3cret")
                return True
        except (OSError, imaplib.IMAP4.error):
            return False

    def deliver(self, user, eml, name):
        dest = os.path.join(self.home, user, "Maildir", "new", name)
        shutil.copyfile(eml, dest)
        self._chown(dest)

    def mailbox(self, user, password, box="INBOX"):
        """[(uid, flags)] of the messages in `box`."""
        with imaplib.IMAP4("127.0.0.1", self.port) as m:
            m.login(user, password)
            m.select(box, readonly=True)
            typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
            out = []
            for item in data or []:
                if not item:
                    continue
                text = item.decode()
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                flags = text.split("FLAGS (")[1].split(")")[0].split()
                out.append((uid, flags))
            return out

    def stop(self):
        subprocess.run([DOVECOT, "-c", self.conf, "stop"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


USERS = {"noc": "s3cret", "mover": "m0ver", "secure": "s3cure"}


class Imap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir("imap")
        cert, key = (os.path.join(cls.work.path, n) for n in ("cert.pem", "key.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True,
                       timeout=60)
        cls.dovecot = Dovecot(cls.work.path, USERS, cert, key).start()
        cls.sink = Sink()
        am_port = free_port()
        with open(os.path.join(cls.work.path, "noc.pass"), "w") as f:
            f.write("s3cret\n")
        cls.ab = Alertbridge(cls.work.path, am_url=f"http://127.0.0.1:{am_port}", extra=f"""
email:
  imap:
    - name: noc
      endpoint: imap://127.0.0.1:{cls.dovecot.port}
      username: noc
      password_file: noc.pass
      poll_interval: 1s
    - name: mover
      endpoint: imap://127.0.0.1:{cls.dovecot.port}
      username: mover
      password: m0ver
      poll_interval: 1s
      after: move:Processed
    - name: secure
      endpoint: imaps://127.0.0.1:{cls.dovecot.imaps_port}
      username: secure
      password: s3cure
      ca_file: cert.pem
      poll_interval: 1s
    - name: unreachable
      endpoint: imap://127.0.0.1:{free_port()}
      username: nobody
      password: x
      poll_interval: 1s
""").start()
        cls.am = Alertmanager(cls.work.path, cls.ab.port, cls.sink.port, port=am_port).start()

    @classmethod
    def tearDownClass(cls):
        cls.ab.stop()
        cls.am.stop()
        cls.sink.stop()
        cls.dovecot.stop()
        cls.work.cleanup()

    def in_am(self, **labels):
        return self.am.from_alertbridge(labels)

    def test_mark_seen_mailbox(self):
        self.dovecot.deliver("noc", os.path.join(FIXTURES, "01-smartx-host-unknown-firing.eml"),
                             "1.eml")
        self.dovecot.deliver("noc", os.path.join(FIXTURES, "13-h3c-imc-linkdown-gbk-base64.eml"),
                             "2.eml")
        wait_for(lambda: self.in_am(source="smartx", resource="node3"), timeout=15,
                 what="the SmartX mail from IMAP in Alertmanager")
        wait_for(lambda: self.in_am(source="h3c_imc"), timeout=15,
                 what="the H3C mail from IMAP in Alertmanager")
        box = wait_for(lambda: [m for m in self.dovecot.mailbox("noc", "s3cret")
                                if "$AlertbridgeDone" in m[1]] or None,
                       timeout=10, what="the messages marked done")
        msgs = self.dovecot.mailbox("noc", "s3cret")
        self.assertEqual(len(msgs), 2)
        for uid, flags in msgs:
            self.assertIn("\\Seen", flags)
            self.assertIn("$AlertbridgeDone", flags)
            self.assertNotIn("$AlertbridgeFetching", flags)
        self.assertTrue(box)
        self.assertGreaterEqual(self.ab.metric("alertbridge_email_imap_messages_total",
                                               mailbox="noc"), 2)

    def test_move_mailbox_and_recovery(self):
        self.dovecot.deliver("mover", os.path.join(FIXTURES, "09-zabbix-problem.eml"), "1.eml")
        wait_for(lambda: self.in_am(source="zabbix", event_id="48213377"), timeout=15,
                 what="the Zabbix problem from IMAP in Alertmanager")
        wait_for(lambda: not self.dovecot.mailbox("mover", "m0ver"), timeout=10,
                 what="INBOX to be empty after the move")
        self.assertEqual(len(self.dovecot.mailbox("mover", "m0ver", "Processed")), 1)
        self.dovecot.deliver("mover", os.path.join(FIXTURES, "10-zabbix-resolved.eml"), "2.eml")
        wait_for(lambda: not self.in_am(source="zabbix", event_id="48213377"), timeout=15,
                 what="the Zabbix recovery from IMAP to resolve the alert")
        wait_for(lambda: len(self.dovecot.mailbox("mover", "m0ver", "Processed")) == 2 or None,
                 timeout=10, what="both messages in Processed")

    def test_imaps_with_a_private_ca(self):
        self.dovecot.deliver("secure", os.path.join(FIXTURES, "11-vcenter-host-connection-alarm.eml"),
                             "1.eml")
        wait_for(lambda: self.in_am(source="vcenter"), timeout=15,
                 what="the vCenter mail over imaps in Alertmanager")
        self.assertGreaterEqual(self.ab.metric("alertbridge_email_imap_messages_total",
                                               mailbox="secure"), 1)

    def test_unreachable_mailbox_is_counted_and_retried(self):
        wait_for(lambda: self.ab.metric("alertbridge_email_imap_polls_total",
                                        mailbox="unreachable", result="error") >= 2 or None,
                 timeout=10, what="failed polls of the unreachable mailbox to be counted")
        self.assertGreaterEqual(self.ab.metric("alertbridge_email_imap_polls_total",
                                               mailbox="noc", result="ok"), 1)


if __name__ == "__main__":
    unittest.main()
