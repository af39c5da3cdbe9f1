#!/usr/bin/env python3
"""Soak test, on demand (not in the test command): an hour (or --minutes) of the fault mix
the integration tests check one at a time, against one alertbridge:

  - continuous intake from several senders: each request fires new alerts (each a new label
    set) and resolves those of the request 50 before, answered 200 or not;
  - kill -9 of alertbridge at random moments, then a restart;
  - output outages: the recording peer answers 503 for a while;
  - a full disk: a file size limit set on the running daemon, lifted a little later.

The output is a recording peer standing in for Alertmanager (it counts every push exactly;
the real Alertmanager merges repeats, so it cannot tell a duplicate). At the end every
acknowledged alert must have reached the peer. Prints a table: alerts acknowledged,
delivered, lost, duplicated, kills, outages, full-disk spells, peak RSS.

Usage: python3 bench/soak.py [--minutes 60] [--binary build/alertbridge]
Loopback only; every process it starts is stopped when it ends."""

import argparse
import os
import random
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from harness import Alertbridge, Workdir, alert, now, rfc3339, rss_kib, wait_for  # noqa: E402
from recording_peer import RecordingPeer  # noqa: E402



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "alertbridge"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.environ["ALERTBRIDGE_BIN"] = os.path.abspath(args.binary)
    import harness
    harness.BINARY = os.environ["ALERTBRIDGE_BIN"]

    rng = random.Random(args.seed)
    work = Workdir("soak")
    peer = RecordingPeer()
    ab = Alertbridge(work.path, am_url=peer.url, resend_interval="1h",
                     extra="storage:\n  checkpoint_interval: 2s\n")
    ab.start()
    acked, lock, stop = set(), threading.Lock(), threading.Event()
    counts = {"kills": 0, "outages": 0, "full": 0, "refused": 0}
    peak = [0]

    def sender(worker):
        # An estate where alerts fire and resolve: each request fires new alerts and resolves
        # those of the request 50 before, so the active set stays in the thousands.
        seq, history = 0, []
        while not stop.is_set():
            n = rng.choice([1, 10, 100])
            names = [f"s{worker}-{seq + i}" for i in range(n)]
            seq += n
            batch = [alert("Soak", name, minutes_left=24 * 60) for name in names]
            history.append(names)
            if len(history) > 50:
                ended = rfc3339(now())
                for name in history.pop(0):
                    a = alert("Soak", name)
                    a["endsAt"] = ended
                    batch.append(a)
            try:
                status, _, _ = ab.post_alerts(batch)
            except OSError:
                time.sleep(0.1)
                continue
            if status == 200:
                with lock:
                    acked.update(names)
                time.sleep(rng.uniform(0.005, 0.05))  # a busy estate, not a benchmark
            else:
                counts["refused"] += 1
                time.sleep(0.2)

    def watch_rss():
        while not stop.is_set():
            if ab.proc is not None:
                peak[0] = max(peak[0], rss_kib(ab.proc.pid))
            time.sleep(0.5)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(3)]
    threads.append(threading.Thread(target=watch_rss))
    for t in threads:
        t.start()
    deadline = time.monotonic() + args.minutes * 60
    try:
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(5, 20))
            fault = rng.choice(["kill", "kill", "outage", "full"])
            if fault == "kill":
                ab.kill9()
                counts["kills"] += 1
                ab.start()
            elif fault == "outage":
                peer.status = 503
                counts["outages"] += 1
                time.sleep(rng.uniform(5, 30))
                peer.status = 200
            else:
                # Writes past 1 MiB into the database or its WAL fail as on a full disk.
                subprocess.run(["prlimit", f"--pid={ab.proc.pid}", "--fsize=1048576:unlimited"],
                               check=True)
                counts["full"] += 1
                time.sleep(rng.uniform(3, 10))
                subprocess.run(["prlimit", f"--pid={ab.proc.pid}",
                                "--fsize=unlimited:unlimited"], check=True)
    finally:
        stop.set()
        for t in threads:
            t.join()
    peer.status = 200
    with lock:
        expected = set(acked)
    try:
        wait_for(lambda: expected <= peer.instances("Soak"), timeout=300, interval=1,
                 what="every acknowledged alert at the peer")
    except AssertionError:
        pass
    delivered = peer.instances("Soak")
    lost = expected - delivered
    rows = [
        ("minutes", f"{args.minutes:g}"),
        ("alerts acknowledged (200)", f"{len(expected):,}"),
        ("alerts delivered", f"{len(delivered & expected):,}"),
        ("alerts lost", f"{len(lost):,}"),
        ("alerts sent again in the same state (re-sends included)", f"{peer.duplicate_alerts('Soak'):,}"),
        ("pushes taken by the peer", f"{peer.requests_count():,}"),
        ("requests refused (503) and retried", f"{counts['refused']:,}"),
        ("kill -9", counts["kills"]),
        ("output outages (503 for 5-30 s)", counts["outages"]),
        ("full-disk spells (3-10 s)", counts["full"]),
        ("peak RSS", f"{peak[0] // 1024} MiB"),
    ]
    print("\n| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    ab.stop()
    peer.stop()
    work.cleanup()
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
