#!/usr/bin/env python3
"""Writes a data_dir fixture for the migration tests with the alertbridge binary given:
the same recipe for every schema version (see tests/fixtures/datadir-v3/README.md).

  ALERTBRIDGE_BIN=/path/to/old/alertbridge python3 tests/tools/make_datadir.py OUT_DIR

`serve` with an Alertmanager output whose endpoint refuses connections, a 1 s checkpoint
interval and an SMTP listener: five alerts (FixtureBefore), the webhook-firing.json capture
and the two SmartX mails (journal ids 1-4); a checkpoint at journal id 4; three alerts
(FixtureAfter, journal id 5); kill -9; the write-ahead log folded into the file.
"""
import os
import shutil
import smtplib
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Alertbridge, alert, free_port, http, wait_for  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "fixtures")


def scalar(db, sql):
    con = sqlite3.connect(db)
    try:
        row = con.execute(sql).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def make(out_dir):
    work = tempfile.mkdtemp(prefix="alertbridge-datadir-")
    try:
        smtp_port = free_port()
        refused = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        ab = Alertbridge(work, am_url=refused, resend_interval="1m", smtp_port=smtp_port,
                         extra="storage: {checkpoint_interval: 1s}\n")
        ab.start()
        db = os.path.join(ab.data_dir, "alertbridge.db")
        status, body, _ = ab.post_alerts([alert("FixtureBefore", f"10.1.0.{i}:9100")
                                          for i in range(5)])
        assert status == 200, body
        with open(os.path.join(FIXTURES, "alertmanager", "webhook-firing.json"), "rb") as f:
            status, body, _ = http("POST", ab.url + "/webhook/alertmanager", f.read(),
                                   {"Content-Type": "application/json"})
        assert status == 200, body
        for name in ("01-smartx-host-unknown-firing.eml", "02-smartx-host-unknown-resolved.eml"):
            with open(os.path.join(FIXTURES, "email", name), "rb") as f:
                raw = f.read()
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as s:
                s.sendmail("smartx@example.com", ["noc@alerts.example"], raw)
        wait_for(lambda: scalar(db, "SELECT value FROM meta WHERE key = "
                                    "'checkpoint_journal_id'") == "4",
                 timeout=20, what="a checkpoint at journal id 4")
        status, body, _ = ab.post_alerts([alert("FixtureAfter", f"10.2.0.{i}:9100")
                                          for i in range(3)])
        assert status == 200, body
        ab.kill9()
        checkpoint = scalar(db, "SELECT value FROM meta WHERE key = 'checkpoint_journal_id'")
        if checkpoint != "4":
            raise SystemExit(f"a checkpoint ran before the kill (journal id {checkpoint}); "
                             "run again")
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
        os.makedirs(out_dir, exist_ok=True)
        shutil.copy(db, os.path.join(out_dir, "alertbridge.db"))
        print(f"{out_dir}/alertbridge.db: schema "
              f"{scalar(db, 'SELECT value FROM meta WHERE key = ' + repr('schema_version'))}, "
              f"{scalar(db, 'SELECT count(*) FROM alerts')} alert records, "
              f"{scalar(db, 'SELECT count(*) FROM journal')} journal entries, "
              f"{scalar(db, 'SELECT count(*) FROM emails')} emails, "
              f"{scalar(db, 'SELECT count(*) FROM outbox')} outbox rows "
              f"({scalar(db, 'SELECT count(*) FROM outbox WHERE state = ' + repr('pending'))} "
              "pending)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    make(sys.argv[1])
