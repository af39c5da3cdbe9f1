"""Fault tests for the promise that an acknowledged alert reaches the hosts: quiet periods
longer than every retention, kill -9 under load, an Alertmanager outage long enough for
endsAt to pass, sustained load across re-send intervals. Real processes on loopback: the
real Alertmanager, alertbridge, and a recording peer where exact request counts matter."""

import base64
import os
import random
import shutil
import smtplib
import threading
import time
import unittest

from harness import (SOURCE, Alertbridge, Alertmanager, Sink, Workdir, alert, free_port, marked,
                     now, rfc3339, rss_kib, stop_all, wait_for)
from recording_peer import RecordingPeer



class FaultTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir(self.id().rsplit(".", 1)[-1])
        self.sink = Sink()
        self.procs = []

    def tearDown(self):
        try:
            stop_all(reversed(self.procs))
        finally:
            self.sink.stop()
            self.work.cleanup()

    def started(self, proc):
        self.procs.append(proc)
        return proc.start()

    def alertmanager(self, port=None):
        return self.started(Alertmanager(self.work.path, free_port(), self.sink.port, port=port))


class QuietPeriod(FaultTest):
    def test_alerts_after_a_quiet_period_longer_than_every_retention_are_delivered(self):
        am = self.alertmanager()
        ab = self.started(Alertbridge(
            self.work.path, am_url=am.url, resend_interval="1m",
            extra="storage:\n  journal_retention: 2s\n  outbox_retention: 2s\n"
                  "  checkpoint_interval: 1s\n"))
        first = {f"10.30.0.{i}:9100" for i in range(5)}
        status, body, _ = ab.post_alerts([alert("BeforeQuiet", i, minutes_left=30) for i in first])
        self.assertEqual(status, 200, body)
        wait_for(lambda: marked(am, "BeforeQuiet") == first, what="the first five alerts")
        # Longer than both retentions plus the 10 s prune interval: every delivered outbox
        # row and every checkpointed journal entry is pruned, leaving the tables empty.
        time.sleep(25)
        status, body, _ = ab.post_alerts([alert("AfterQuiet", "10.30.1.1:9100", minutes_left=30)])
        self.assertEqual(status, 200, body)
        wait_for(lambda: marked(am, "AfterQuiet") == {"10.30.1.1:9100"}, timeout=15,
                 what="the alert posted after the quiet period")
        # And a kill -9 right after new acknowledgements loses none of them: their journal
        # entries must sit above the checkpoint, not at reused ids below it.
        more = {f"10.30.2.{i}:9100" for i in range(20)}
        status, body, _ = ab.post_alerts([alert("AfterQuietKilled", i, minutes_left=30)
                                          for i in more])
        self.assertEqual(status, 200, body)
        ab.kill9()
        ab.start()
        wait_for(lambda: marked(am, "AfterQuietKilled") == more, timeout=20,
                 what="all 20 alerts acknowledged just before kill -9")


class Migration(FaultTest):
    def opens_and_delivers_what_it_held(self, fixture):
        peer = RecordingPeer()
        self.addCleanup(peer.stop)
        ab = Alertbridge(self.work.path, am_url=peer.url, resend_interval="1m")
        os.makedirs(ab.data_dir)
        shutil.copy(os.path.join(SOURCE, "tests", "fixtures", fixture, "alertbridge.db"),
                    ab.data_dir)
        self.started(ab)
        # Its pending rows (sent before the kill that left it) and its journal entry after
        # the checkpoint (replayed now) all reach the output, firing or, once their endsAt
        # has passed, resolved.
        wait_for(lambda: peer.instances("FixtureBefore") == {f"10.1.0.{i}:9100"
                                                             for i in range(5)},
                 what="the five alerts of the pending outbox rows")
        wait_for(lambda: peer.instances("FixtureAfter") == {f"10.2.0.{i}:9100"
                                                            for i in range(3)},
                 what="the three alerts of the journal entry after the checkpoint")
        with open(ab.log_path) as f:
            self.assertIn("The store was migrated to the current schema", f.read())
        # And it carries on: a new alert gets through.
        self.assertEqual(ab.post_alerts([alert("AfterMigration", "10.2.9.9:9100")])[0], 200)
        wait_for(lambda: peer.instances("AfterMigration") == {"10.2.9.9:9100"},
                 what="a new alert after the migration")

    def test_a_data_dir_from_schema_one_opens_and_delivers_what_it_held(self):
        self.opens_and_delivers_what_it_held("datadir-v1")

    def test_a_data_dir_from_schema_two_opens_and_delivers_what_it_held(self):
        self.opens_and_delivers_what_it_held("datadir-v2")

    def test_a_data_dir_from_schema_three_opens_and_delivers_what_it_held(self):
        self.opens_and_delivers_what_it_held("datadir-v3")

    def test_a_data_dir_from_schema_four_opens_and_delivers_what_it_held(self):
        self.opens_and_delivers_what_it_held("datadir-v4")

    def test_a_data_dir_from_schema_five_opens_and_delivers_what_it_held(self):
        self.opens_and_delivers_what_it_held("datadir-v5")


class Coalescing(FaultTest):
    def test_after_an_outage_only_the_newest_state_of_each_alert_goes_out(self):
        peer = RecordingPeer()
        self.addCleanup(peer.stop)
        peer.status = 503
        ab = self.started(Alertbridge(self.work.path, am_url=peer.url, resend_interval="1h"))
        names = [f"10.45.0.{i}:9100" for i in range(100)]
        # Nine genuine changes of each of 100 alerts while the host is down: fire, resolve,
        # fire again, ... ending firing. Each change is its own row in the backlog.
        for change in range(9):
            t = now()
            batch = []
            for n in names:
                a = alert("Flap", n, minutes_left=60)
                if change % 2 == 1:
                    a["endsAt"] = rfc3339(t)
                batch.append(a)
            self.assertEqual(ab.post_alerts(batch)[0], 200)
            time.sleep(0.3)
        # The stale rows are completed unsent while the host is still down, so the backlog
        # shrinks to the newest state (and its bytes to what must go out).
        wait_for(lambda: ab.metric("alertbridge_output_alerts_total", outcome="superseded") == 800,
                 timeout=15, what="eight stale states of each of 100 alerts left out")
        wait_for(lambda: ab.metric("alertbridge_outbox_pending_rows") == 1, timeout=5,
                 what="one row left in the backlog")
        peer.status = 200
        wait_for(lambda: peer.instances("Flap") == set(names), what="every alert after the outage")
        time.sleep(1)
        # A re-send slice (one 3600th of the firing alerts each second) may also carry one
        # of them: those copies are counted apart, and are never a stale state.
        for _ in range(20):
            sent = peer._sent("Flap")
            resent = ab.metric("alertbridge_output_alerts_total", outcome="resent")
            if peer._sent("Flap") == sent:
                break
        self.assertEqual(set(sent), {(n, False) for n in names},
                         "only the newest state of each alert (firing), never a stale one")
        self.assertEqual(sum(sent.values()), len(names) + resent,
                         "each alert once from the backlog; anything more is a counted re-send")
        print(f"after an outage: 900 queued changes of 100 alerts went out as "
              f"{sum(sent.values())} alerts in {peer.requests_count()} requests")


class KillUnderLoad(FaultTest):
    KILLS = 20

    def test_twenty_kills_under_load_lose_nothing_and_repeat_only_what_was_in_flight(self):
        peer = RecordingPeer()
        self.addCleanup(peer.stop)
        ab = Alertbridge(self.work.path, am_url=peer.url, resend_interval="1h",
                         extra="storage:\n  checkpoint_interval: 1s\n")
        with open(ab.config) as f:
            cfg = f.read()
        with open(ab.config, "w") as f:  # small pushes, so one in flight is a small number
            f.write(cfg.replace("      resend_interval: 1h\n",
                                "      resend_interval: 1h\n      max_alerts_per_push: 200\n"))
        self.started(ab)
        began = time.monotonic()
        acked, lock, stop = set(), threading.Lock(), threading.Event()
        rng = random.Random(7)

        def sender(worker):
            seq = 0
            while not stop.is_set():
                batch = [alert("Kill", f"w{worker}-{seq + i}", minutes_left=60) for i in range(10)]
                seq += 10
                try:
                    status, _, _ = ab.post_alerts(batch)
                except OSError:
                    time.sleep(0.05)  # down: nothing unanswered was promised; try the next
                    continue
                if status == 200:
                    with lock:
                        acked.update(a["labels"]["instance"] for a in batch)

        threads = [threading.Thread(target=sender, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        in_flight_bound = 0
        try:
            for _ in range(self.KILLS):
                time.sleep(rng.uniform(0.2, 1.0))
                # What alertbridge may repeat after this kill: the requests the peer had
                # received but whose completion may not have been committed yet.
                ab.kill9()
                in_flight_bound += 1
                ab.start()
        finally:
            stop.set()
            for t in threads:
                t.join()
        with lock:
            expected = set(acked)
        wait_for(lambda: expected <= peer.instances("Kill"), timeout=60,
                 what=f"all {len(expected)} acknowledged alerts at the peer")
        time.sleep(2)  # let the last completions settle
        dup = peer.duplicate_alerts("Kill")
        sent = peer.alert_count("Kill")
        print(f"kill -9 x{self.KILLS} under load: {len(expected)} acknowledged, all delivered; "
              f"{sent} alerts sent in {peer.requests_count()} requests, {dup} sent more than "
              f"once")
        self.assertTrue(expected <= peer.instances("Kill"))
        # At-least-once: a repeat comes only from the pushes in flight at a kill (the peer
        # took them, their completions were not durable yet: a state sink sends the next
        # push while the last completion commits, so two), at most max_alerts_per_push
        # (200) alerts each, and from the re-sends that keep alerts alive (one 3600th of
        # the firing alerts per second, each restart starting a new round).
        elapsed = time.monotonic() - began
        resends = len(expected) * elapsed / 3600 * 2
        self.assertLessEqual(dup, in_flight_bound * 2 * 200 + resends)


class OutageAndResends(FaultTest):
    def test_alertmanager_down_past_endsat_then_back_gets_every_firing_alert_again(self):
        am_port = free_port()
        am = self.alertmanager(port=am_port)
        ab = self.started(Alertbridge(self.work.path, am_url=am.url, resend_interval="2s"))
        firing = {f"10.40.0.{i}:9100" for i in range(300)}
        status, body, _ = ab.post_alerts([alert("Outage", i, minutes_left=60) for i in firing])
        self.assertEqual(status, 200, body)
        wait_for(lambda: marked(am, "Outage") == firing, what="300 alerts before the outage")
        am.stop()
        # During the outage: 200 more fire, 100 of the first resolve, and more than one
        # send's worth of rows piles up (max_alerts_per_push is 1000; 1,200 changes).
        later = {f"10.40.1.{i}:9100" for i in range(200)}
        resolved = set(sorted(firing)[:100])
        t = now()
        for chunk in range(0, 200, 20):
            names = sorted(later)[chunk:chunk + 20]
            self.assertEqual(ab.post_alerts([alert("Outage", i, minutes_left=60)
                                             for i in names])[0], 200)
        res = []
        for i in sorted(resolved):
            a = alert("Outage", i)
            a["endsAt"] = rfc3339(t)
            res.append(a)
        self.assertEqual(ab.post_alerts(res)[0], 200)
        for _ in range(50):  # repeats of the same alerts: they must coalesce, not pile up
            self.assertEqual(ab.post_alerts([alert("Outage", i, minutes_left=60)
                                             for i in sorted(later)[:50]])[0], 200)
        # Longer than 4 x resend_interval: every endsAt Alertmanager was given has passed.
        time.sleep(10)
        rss = rss_kib(ab.proc.pid)
        # It comes back while changes keep arriving, so the outbox never runs dry.
        stop, posted = threading.Event(), [0]
        threads = [threading.Thread(target=churn, args=(ab, w, stop, posted)) for w in range(2)]
        for t in threads:
            t.start()
        try:
            am.start()  # a fresh one that lost its memory, too
            still = (firing - resolved) | later
            started = time.monotonic()
            wait_for(lambda: marked(am, "Outage") == still, timeout=10,
                     what="every alert that still fires, active in Alertmanager")
            took = time.monotonic() - started
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertLess(rss, 200 * 1024, "memory during the outage (KiB)")
        print(f"after a 10 s outage: {len(still)} firing alerts active again in {took:.1f} s "
              f"under {posted[0]} alert changes; RSS during the outage {rss // 1024} MiB")
        self.assertLess(took, 2 + 2)  # one resend_interval, plus Alertmanager's own start
        # The resolved ones are not active there.
        self.assertEqual(marked(am, "Outage") & resolved, set())


class BacklogBound(FaultTest):
    def test_a_long_outage_ends_in_503_and_452_at_the_backlog_bound_and_nothing_is_lost(self):
        am_port, smtp_port = free_port(), free_port()
        ab = Alertbridge(self.work.path, am_url=f"http://127.0.0.1:{am_port}",
                         resend_interval="1m", smtp_port=smtp_port)
        with open(ab.config) as f:
            cfg = f.read()
        with open(ab.config, "w") as f:  # the smallest backlog bound: 1 MiB
            f.write(cfg.replace("      resend_interval: 1m\n",
                                "      resend_interval: 1m\n      max_backlog_bytes: 1048576\n"))
        self.started(ab)
        acked, refused, i = set(), None, 0
        while refused is None and i < 400:
            batch = [alert("Backlog", f"10.80.{i}.{j}:9100", minutes_left=60) for j in range(50)]
            for a in batch:  # text that does not compress, so the stored bytes add up
                a["annotations"]["description"] = base64.b64encode(os.urandom(150)).decode()
            status, body, headers = ab.post_alerts(batch)
            if status == 200:
                acked.update(a["labels"]["instance"] for a in batch)
                if i % 20 == 19:
                    time.sleep(1.2)  # let the worker count its backlog
            else:
                refused = (status, body, headers)
            i += 1
        self.assertIsNotNone(refused, "the backlog bound was never reached")
        status, body, headers = refused
        self.assertEqual(status, 503, body)
        self.assertIn("max_backlog_bytes", body)
        self.assertIn("Retry-After", headers)
        self.assertGreaterEqual(ab.metric("alertbridge_outbox_pending_bytes", output="am"),
                                1048576)
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as s:
            with self.assertRaises(smtplib.SMTPDataError) as ctx:
                s.sendmail("ups@example.com", ["noc@alerts.example"],
                           b"Subject: UPS ups-a1 on battery\r\n\r\nTime: 2024-07-23 21:04:10\r\n")
            self.assertEqual(ctx.exception.smtp_code, 452)
        # The host comes back: the backlog drains, intake takes alerts again, and every
        # alert that was acknowledged arrives.
        am = self.alertmanager(port=am_port)
        wait_for(lambda: ab.post_alerts([alert("BacklogAfter", "10.81.0.1:9100")])[0] == 200,
                 timeout=30, what="intake open again once the backlog drained")
        wait_for(lambda: acked <= marked(am, "Backlog"), timeout=30,
                 what=f"all {len(acked)} acknowledged alerts in Alertmanager")
        print(f"backlog bound: 503 after {len(acked)} alerts were acknowledged during the "
              f"outage, SMTP 452; all delivered once the host was back")


def churn(ab, worker, stop, counter):
    """Posts changes as fast as alertbridge takes them: each request fires 50 new alerts and
    resolves the 50 of the request before, so the set of active alerts stays small while
    the outbox never runs dry."""
    seq, previous = 0, []
    while not stop.is_set():
        names = [f"c{worker}-{seq + i}" for i in range(50)]
        seq += 50
        batch = [alert("Churn", n, minutes_left=60) for n in names]
        t = rfc3339(now())
        for n in previous:
            a = alert("Churn", n)
            a["endsAt"] = t
            batch.append(a)
        try:
            if ab.post_alerts(batch)[0] == 200:
                counter[0] += len(batch)
                previous = names
        except OSError:
            return


class SustainedLoad(FaultTest):
    def test_no_firing_alert_disappears_from_alertmanager_under_sustained_load(self):
        am = self.alertmanager()
        ab = self.started(Alertbridge(self.work.path, am_url=am.url, resend_interval="2s"))
        steady = {f"10.50.0.{i}:9100" for i in range(200)}
        self.assertEqual(ab.post_alerts([alert("Steady", i, minutes_left=60)
                                         for i in steady])[0], 200)
        wait_for(lambda: marked(am, "Steady") == steady, what="the steady alerts")
        stop, posted = threading.Event(), [0]
        threads = [threading.Thread(target=churn, args=(ab, w, stop, posted)) for w in range(3)]
        for t in threads:
            t.start()
        missing = []
        try:
            # 20 x resend_interval, 5 x the TTL each push gives: every endsAt the steady
            # alerts were first given has long passed; only re-sends keep them active.
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                got = marked(am, "Steady")
                if got != steady:
                    missing.append(len(steady - got))
                time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        resent = ab.metric("alertbridge_output_alerts_total", output="am", outcome="resent") or 0
        print(f"sustained load: {posted[0]} alert changes posted over 40 s, {resent:.0f} alerts "
              f"re-sent; steady alerts missing from Alertmanager in {len(missing)} of ~80 checks")
        self.assertEqual(missing, [])


if __name__ == "__main__":
    unittest.main()
