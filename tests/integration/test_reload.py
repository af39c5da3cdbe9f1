"""Live reload (POST /-/reload and SIGHUP) under load: the new stages and outputs apply to
what arrives after the swap, every active alert and every acknowledged alert survives, an
unchanged output keeps its worker, a new output gets the firing set, and a broken file is
refused while the running configuration carries on. Real processes on loopback."""

import json
import os
import signal
import threading
import time
import unittest

from harness import Alertbridge, Workdir, alert, http, wait_for
from recording_peer import RecordingPeer

RELABEL = """enrich:
  relabel_configs:
    - target_label: tier
      replacement: reloaded
"""


class Reload(unittest.TestCase):
    def setUp(self):
        self.work = Workdir(self.id().rsplit(".", 1)[-1])
        self.peers = [RecordingPeer(), RecordingPeer()]
        self.ab = Alertbridge(self.work.path, am_url=self.peers[0].url, resend_interval="2s")
        with open(self.ab.config) as f:
            self.base = f.read()
        self.ab.start()

    def tearDown(self):
        try:
            self.ab.stop()
        finally:
            for p in self.peers:
                p.stop()
            self.work.cleanup()

    def write_config(self, text):
        with open(self.ab.config, "w") as f:
            f.write(text)

    def reload(self):
        status, body, _ = http("POST", self.ab.url + "/-/reload", b"")
        return status, json.loads(body)

    def second_output(self):
        return (f"    - name: am2\n      endpoint: \"{self.peers[1].url}\"\n"
                f"      resend_interval: 2s\n      backoff: {{initial: 100ms, max: 1s}}\n")

    def test_a_reload_under_load_keeps_every_alert_and_applies_the_new_config(self):
        first, second = self.peers
        before = [f"10.60.0.{i}:9100" for i in range(200)]
        self.assertEqual(self.ab.post_alerts([alert("Before", n, minutes_left=30)
                                              for n in before])[0], 200)
        wait_for(lambda: first.instances("Before") == set(before), what="the first 200")

        acked, stop = [], threading.Event()

        def load():
            i = 0
            while not stop.is_set():
                batch = [f"10.61.{i // 250}.{i % 250 + j}:9100" for j in range(5)]
                i += 5
                status, _, _ = self.ab.post_alerts([alert("Load", n, minutes_left=30)
                                                    for n in batch])
                if status == 200:
                    acked.extend(batch)
                time.sleep(0.01)

        loader = threading.Thread(target=load)
        loader.start()
        try:
            time.sleep(1)
            # A relabel rule, a second output, and a listener change (restart only).
            text = self.base.replace("outputs:\n", RELABEL + "outputs:\n")
            text = text.replace("      backoff: {initial: 100ms, max: 1s}\n",
                                "      backoff: {initial: 100ms, max: 1s}\n"
                                + self.second_output(), 1)
            text = text.replace("  timezone: Asia/Shanghai", "  timezone: Europe/London")
            self.write_config(text)
            status, answer = self.reload()
            self.assertEqual(status, 200, answer)
            self.assertEqual(answer["status"], "applied")
            self.assertTrue(any("global section changed" in w for w in answer["warnings"]),
                            answer)
            reloaded_at = len(acked)
            time.sleep(1)
            # A broken file is refused (SIGHUP) and the running configuration carries on.
            self.write_config(text.replace("resend_interval: 2s", "resend_interval: often", 1))
            self.ab.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: self.ab.metric("alertbridge_config_reloads_total",
                                            outcome="refused") == 1, what="the refusal")
            self.assertEqual(self.ab.metric("alertbridge_config_last_reload_successful"), 0)
            self.assertEqual(self.ab.metric("alertbridge_config_reloads_total",
                                            outcome="applied"), 1)
            time.sleep(1)
        finally:
            stop.set()
            loader.join()

        print(f"\nreload under load: {reloaded_at} alerts acknowledged before the reload, "
              f"{len(acked) - reloaded_at} after it and the refused SIGHUP", flush=True)
        self.assertGreater(reloaded_at, 50, "load ran before the reload")
        self.assertGreater(len(acked) - reloaded_at, 50, "and after it")
        # Nothing acknowledged is lost across the swaps, on the output that stayed.
        wait_for(lambda: first.instances("Load") == set(acked), timeout=30,
                 what=f"all {len(acked)} acknowledged alerts on the kept output")
        # What arrived after the reload went through the new relabel rule.
        self.assertEqual(first.labels_of("Load", acked[-1]).get("tier"), "reloaded")
        self.assertNotIn("tier", first.labels_of("Before", before[0]))
        # The new output gets the whole firing set from the state (re-send rounds).
        wait_for(lambda: second.instances("Before") == set(before), timeout=15,
                 what="the alerts active before the reload on the new output")
        wait_for(lambda: second.instances("Load") == set(acked), timeout=15,
                 what="every acknowledged alert on the new output")
        # Every active alert is still held.
        status, body, _ = http("GET", self.ab.url + "/api/v1/alerts")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["count"], len(before) + len(set(acked)))
        with open(self.ab.log_path) as f:
            log = f.read()
        self.assertIn("The configuration was reloaded. trigger=http", log)
        self.assertIn("The configuration was not reloaded; the running one stays. "
                      "trigger=SIGHUP", log)
        self.assertIn("resend_interval", log)
        # Fixed again, the next reload applies and the gauge recovers.
        self.write_config(text)
        self.assertEqual(self.reload()[0], 200)
        self.assertEqual(self.ab.metric("alertbridge_config_last_reload_successful"), 1)

    def test_a_removed_output_stops_and_its_rows_wait_in_the_store(self):
        first, _ = self.peers
        first.status = 503
        self.assertEqual(self.ab.post_alerts([alert("Held", "10.62.0.1:9100")])[0], 200)
        wait_for(lambda: self.ab.metric("alertbridge_output_results_total", output="am",
                                        result="retry") >= 1, what="a failed attempt")
        self.write_config(self.base.replace("outputs:\n", "outputs: {}\nx_outputs:\n"))
        status, answer = self.reload()
        self.assertEqual(status, 400, "an unknown key is an error at file:line")
        self.assertIn("x_outputs", answer["errors"][0])
        self.write_config(self.base.split("outputs:\n")[0])
        status, answer = self.reload()
        self.assertEqual(status, 200, answer)
        self.assertTrue(any("output am was removed" in w for w in answer["warnings"]), answer)
        first.status = 200
        time.sleep(1.5)
        self.assertEqual(first.instances("Held"), set(), "a removed output sends nothing")
        # Configured again, it sends what it had not sent.
        self.write_config(self.base)
        self.assertEqual(self.reload()[0], 200)
        wait_for(lambda: first.instances("Held") == {"10.62.0.1:9100"},
                 what="the held row after the output came back")

    def test_reload_is_a_post(self):
        self.assertEqual(http("GET", self.ab.url + "/-/reload")[0], 405)


if __name__ == "__main__":
    unittest.main()
