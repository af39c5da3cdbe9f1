"""Silences through alertbridge's Alertmanager-compatible API v2, driven by the real amtool
(Debian's prometheus-alertmanager package): a silence made with `amtool silence add` mutes
what it matches (the page goes out without it), `amtool silence query` lists it, it survives
kill -9 (the change is journaled before it is answered), and `amtool silence expire` releases
the muted alert, which is then notified. People get messages through the webhook receiver of
test_webhook."""

import json
import shutil
import subprocess
import time
import unittest

from harness import Alertbridge, Workdir, alert, http, wait_for
from test_webhook import Receiver

AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"

NOISE = """storage:
  checkpoint_interval: 1h
noise:
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  release_wait: 1s
  resolve_wait: 1s
  policy:
    - {name: critical, matchers: ['severity="critical"'], action: page}
"""


class Silences(unittest.TestCase):
    def setUp(self):
        self.work = Workdir("silences")
        self.rx = Receiver()
        self.ab = Alertbridge(self.work.path, extra=f"""outputs:
  webhook:
    - name: oncall
      endpoint: "{self.rx.url}"
      backoff: {{initial: 100ms, max: 500ms}}
{NOISE}""")
        self.ab.start()

    def tearDown(self):
        if self.ab.proc:
            self.ab.stop()
        self.rx.stop()
        self.work.cleanup()

    def amtool(self, *args):
        r = subprocess.run([AMTOOL, f"--alertmanager.url={self.ab.url}", *args],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_amtool_silences_mute_survive_kill9_and_release_on_expiry(self):
        sid = self.amtool("silence", "add", "alertname=FrontDown", "instance=10.66.0.1:9100",
                          "--comment=patching front 1", "--duration=30m").strip()
        self.assertRegex(sid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        listed = json.loads(self.amtool("silence", "query", "-o", "json"))
        self.assertEqual([(s["id"], s["status"]["state"], s["comment"]) for s in listed],
                         [(sid, "active", "patching front 1")])
        self.assertEqual(json.loads(self.amtool("silence", "query", "-o", "json",
                                                "instance=10.66.0.2:9100")), [])

        a = alert("FrontDown", "10.66.0.1:9100", minutes_left=30)
        b = alert("FrontDown", "10.66.0.2:9100", minutes_left=30)
        self.assertEqual(self.ab.post_alerts([a, b])[0], 200)
        wait_for(lambda: len(self.rx.delivered()) == 1, what="the page")
        page = self.rx.delivered()[0]
        self.assertEqual([x["labels"]["instance"] for x in page["alerts"]], ["10.66.0.2:9100"])
        self.assertEqual(self.ab.metric("alertbridge_noise_alerts_total", rule="silence"), 1)
        self.assertEqual(self.ab.metric("alertbridge_silence_changes_total", op="set",
                                        result="ok"), 1)
        # Why the first was not told: the silence, by id.
        status, body, _ = http("GET", self.ab.url +
                               "/api/v1/alerts?filter=instance%3D%2210.66.0.1:9100%22")
        self.assertEqual(json.loads(body)["alerts"][0]["suppressedBy"], [f"silence:{sid}"])

        # No checkpoint has run (1h): the silence comes back from the journal.
        self.ab.kill9()
        self.ab.start()
        listed = json.loads(self.amtool("silence", "query", "-o", "json"))
        self.assertEqual([(s["id"], s["status"]["state"]) for s in listed], [(sid, "active")])
        time.sleep(2)
        self.assertEqual(len(self.rx.delivered()), 1, json.dumps(self.rx.delivered()[1:])[:1500])

        self.amtool("silence", "expire", sid)
        wait_for(lambda: len(self.rx.delivered()) == 2, what="the released alert")
        update = self.rx.delivered()[1]
        self.assertEqual((update["groupKey"], update["alertbridge"]["reason"]),
                         ("incident/1", "update"))
        self.assertIn("10.66.0.1:9100", [x["labels"]["instance"] for x in update["alerts"]])
        listed = json.loads(self.amtool("silence", "query", "-o", "json", "--expired"))
        self.assertEqual([(s["id"], s["status"]["state"]) for s in listed], [(sid, "expired")])
        # Expired is kept, and expiring it again is refused with a reason.
        r = subprocess.run([AMTOOL, f"--alertmanager.url={self.ab.url}", "silence", "expire",
                            sid], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)

    def test_bad_silences_are_refused_like_alertmanager(self):
        base = {"matchers": [{"name": "alertname", "value": "X", "isRegex": False}],
                "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
                "createdBy": "ops", "comment": "c"}
        url = self.ab.url + "/api/v2/silences"
        status, body, _ = http("POST", url, dict(base, comment=None))
        self.assertEqual((status, json.loads(body)["code"]), (422, 602))
        status, body, _ = http("POST", url, dict(base, matchers=[]))
        self.assertEqual((status, json.loads(body)["code"]), (422, 612))
        status, body, _ = http("POST", url, dict(base, endsAt="2026-01-01T00:00:01Z"))
        self.assertEqual((status, body), (400, '"Failed to create silence: end time can\'t be in the past"\n'))
        status, body, _ = http("POST", url, dict(base, id="00000000-0000-0000-0000-000000000000"))
        self.assertEqual((status, json.loads(body)), (404, "silence not found"))
        status, body, _ = http("POST", url, "{not json")
        self.assertEqual(status, 400)
        self.assertEqual(http("DELETE", self.ab.url + "/api/v2/silence/nope")[0], 404)
        self.assertEqual(http("GET", self.ab.url + "/api/v2/silence/nope")[0], 404)
        self.assertEqual(http("PUT", url, base)[0], 405)
        self.assertEqual(http("GET", url + "?filter=%7Bbad")[0], 400)
        self.assertEqual(self.ab.metric("alertbridge_silence_changes_total", op="set",
                                        result="refused"), 5)
        # A good one: its id reads back, updated in place when only the end moves.
        status, body, _ = http("POST", url, base)
        self.assertEqual(status, 200, body)
        sid = json.loads(body)["silenceID"]
        status, body, _ = http("GET", self.ab.url + "/api/v2/silence/" + sid)
        got = json.loads(body)
        self.assertEqual((status, got["status"]["state"], got["createdBy"]), (200, "active", "ops"))
        status, body, _ = http("POST", url, dict(base, id=sid, startsAt=got["startsAt"],
                                                 endsAt="2098-01-01T00:00:00Z"))
        self.assertEqual((status, json.loads(body)["silenceID"]), (200, sid))


if __name__ == "__main__":
    unittest.main()
