"""Nothing acknowledged is lost: kill -9 right after the acks, and an Alertmanager that is
down while alerts arrive. Both against the real Alertmanager."""

import os
import sqlite3
import threading
import time
import unittest

from harness import (Alertbridge, Alertmanager, Sink, Workdir, alert, free_port, marked,
                     stop_all, wait_for)


class Durability(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("durability")
        self.sink = Sink()
        self.am_port = free_port()
        self.procs = []

    def tearDown(self):
        try:
            stop_all(self.procs)
        finally:
            self.sink.stop()
            self.work.cleanup()

    def started(self, proc):
        self.procs.append(proc)
        return proc.start()

    def send(self, ab, name, n, per_request):
        sent = set()
        for start in range(0, n, per_request):
            batch = [alert(name, f"10.20.{i // 250}.{i % 250}:9100", minutes_left=30)
                     for i in range(start, min(n, start + per_request))]
            status, body, _ = ab.post_alerts(batch)
            self.assertEqual(status, 200, body)
            sent.update(a["labels"]["instance"] for a in batch)
        return sent

    def test_kill9_right_after_acks_loses_nothing(self):
        am = self.started(Alertmanager(self.work.path, free_port(), self.sink.port,
                                       port=self.am_port))
        ab = self.started(Alertbridge(self.work.path, am_url=am.url, resend_interval="1m"))
        sent = self.send(ab, "KillNine", 500, 50)
        ab.kill9()  # at once: most of it has not reached Alertmanager yet
        delivered_before = marked(am, "KillNine")
        ab.start()
        got = wait_for(lambda: (lambda s: s if s == sent else None)(marked(am, "KillNine")),
                       timeout=30, what="all 500 acknowledged alerts in Alertmanager")
        self.assertEqual(got, sent)
        print(f"kill -9: {len(delivered_before)} of 500 had reached Alertmanager before the "
              f"kill; all 500 after the restart")

    def test_kill9_under_load_loses_nothing_acknowledged(self):
        am = self.started(Alertmanager(self.work.path, free_port(), self.sink.port,
                                       port=self.am_port))
        ab = self.started(Alertbridge(self.work.path, am_url=am.url, resend_interval="1m"))
        acked, stop = set(), threading.Event()

        def sender(worker):
            seq = 0
            while not stop.is_set():
                batch = [alert("UnderLoad", f"w{worker}-{seq + i}", minutes_left=30)
                         for i in range(20)]
                seq += 20
                try:
                    status, _, _ = ab.post_alerts(batch)
                except OSError:
                    return  # the daemon is gone: whatever was not answered was not promised
                if status == 200:
                    acked.update(a["labels"]["instance"] for a in batch)

        threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        wait_for(lambda: len(acked) >= 2000, timeout=30, what="2000 acknowledged alerts")
        ab.kill9()
        stop.set()
        for t in threads:
            t.join()
        ab.start()
        got = wait_for(lambda: (lambda s: s if acked <= s else None)(marked(am, "UnderLoad")),
                       timeout=60, what=f"all {len(acked)} acknowledged alerts in Alertmanager")
        self.assertTrue(acked <= got)
        print(f"kill -9 under load: {len(acked)} acknowledged, all in Alertmanager after restart")

    def test_kill9_while_alertmanager_is_down(self):
        ab = self.started(Alertbridge(self.work.path,
                                      am_url=f"http://127.0.0.1:{self.am_port}",
                                      resend_interval="1m"))
        sent = self.send(ab, "DownAndKilled", 300, 1)
        wait_for(lambda: (ab.metric("alertbridge_output_results_total", result="retry") or 0) > 0,
                 what="a failed delivery attempt")
        ab.kill9()
        am = self.started(Alertmanager(self.work.path, ab.port, self.sink.port,
                                       port=self.am_port))
        ab.start()
        wait_for(lambda: marked(am, "DownAndKilled") == sent, timeout=30,
                 what="all 300 alerts after Alertmanager came up and alertbridge restarted")

    def test_outbox_delivers_after_alertmanager_restart(self):
        am = self.started(Alertmanager(self.work.path, free_port(), self.sink.port,
                                       port=self.am_port))
        ab = self.started(Alertbridge(self.work.path, am_url=am.url, resend_interval="2s"))
        before = self.send(ab, "BeforeOutage", 20, 10)
        wait_for(lambda: marked(am, "BeforeOutage") == before, what="alerts before the outage")
        am.stop()
        during = self.send(ab, "DuringOutage", 200, 20)
        wait_for(lambda: (ab.metric("alertbridge_outbox_pending_rows", output="am") or 0) > 0,
                 what="rows pending in the outbox")
        time.sleep(2)
        am.start()  # a fresh Alertmanager: it lost everything it had in memory
        wait_for(lambda: marked(am, "DuringOutage") == during, timeout=30,
                 what="every alert sent during the outage")
        # Re-sends restore what Alertmanager lost across its restart.
        wait_for(lambda: marked(am, "BeforeOutage") == before, timeout=30,
                 what="alerts from before the outage to be re-sent")
        self.assertGreater(ab.metric("alertbridge_output_results_total", result="retry"), 0)
        self.assertEqual(ab.metric("alertbridge_output_results_total", result="drop"), 0)
        wait_for(lambda: ab.metric("alertbridge_outbox_pending_rows", output="am") == 0,
                 what="an empty outbox")

    def test_packed_records_restore_after_kill9(self):
        """Past its first 2,000 records the store packs them with a dictionary trained on
        them; a restart reads every packed record back (a record it could not unpack would
        be skipped, and its alert lost, since the journal replays only what came after the
        checkpoint)."""
        ab = self.started(Alertbridge(self.work.path,
                                      extra="storage: {checkpoint_interval: 1s}\n"))
        # The first records are stored as they are and sampled; the dictionary is trained
        # off the engine's thread and packs from the next checkpoint step on.
        self.send(ab, "Unpacked", 3000, 100)
        wait_for(lambda: ab.metric("alertbridge_store_record_dictionary") == 1, timeout=30,
                 what="a record dictionary")
        self.send(ab, "Packed", 3000, 100)
        total = 6000
        db = os.path.join(ab.data_dir, "alertbridge.db")

        def packed():
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                return c.execute("SELECT count(*) FROM alerts "
                                 "WHERE substr(record, 1, 1) = x'D7'").fetchone()[0]

        wait_for(lambda: packed() >= 3000, timeout=30, what="3,000 packed records")
        self.assertEqual(ab.metric("alertbridge_store_record_dictionary"), 1)
        raw = ab.metric("alertbridge_store_record_bytes_total", form="raw")
        stored = ab.metric("alertbridge_store_record_bytes_total", form="stored")
        self.assertLess(stored, raw * 0.75)
        ab.kill9()
        ab.start()
        self.assertEqual(ab.metric("alertbridge_active_alerts"), total)
        self.assertEqual(ab.metric("alertbridge_store_record_dictionary"), 1)
        with open(ab.log_path) as f:
            self.assertNotIn("could not be read", f.read())
        print(f"packed records: {packed()} of {total} stored packed, {raw / max(stored, 1):.1f}x "
              f"smaller in all; all {total} active after kill -9")


if __name__ == "__main__":
    unittest.main()
