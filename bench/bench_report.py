"""The side-by-side benchmark's report: quantiles read from a /metrics page, and the
Markdown table bench.py prints and saves (its rows are what the README's table quotes)."""

import re


def server_buckets(text, name):
    """A histogram in a /metrics page as sorted (upper bound, cumulative count), summed over
    its series."""
    acc = {}
    for le, v in re.findall(name + r'_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)', text):
        acc[float(le)] = acc.get(float(le), 0.0) + float(v)
    return sorted(acc.items())


FSYNC = "alertbridge_store_wal_sync_duration_seconds"


def server_share_above(text, bound, name=FSYNC):
    """The share of a histogram's observations above `bound` (one of its bucket bounds)."""
    buckets = server_buckets(text, name)
    if not buckets or buckets[-1][1] == 0:
        return None
    return 1 - dict(buckets)[bound] / buckets[-1][1]


def server_quantile(text, q, name="alertbridge_input_request_duration_seconds"):
    """q-quantile (ms) of a histogram in a /metrics page, summed over its series,
    interpolated in its bucket as Prometheus's histogram_quantile does."""
    buckets = server_buckets(text, name)
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower * 1000
            return (lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)) * 1000
        lower, below = bound, count
    return None


def format_table(results, args):
    """The README's table: one row per measure, Alertmanager beside alertbridge."""
    t = results["throughput"]
    lines = ["| measure | Alertmanager 0.25 | alertbridge | ratio (alertbridge / AM) |",
             "|---|---|---|---|"]
    for batch in (100, 1):
        a, b = t[f"alertmanager/{batch}"], t[f"alertbridge/{batch}"]
        lines.append(f"| alerts/s, batch {batch} | {a['alerts_per_s']:,.0f} | "
                     f"{b['alerts_per_s']:,.0f} | {b['alerts_per_s'] / a['alerts_per_s']:.2f}x |")
        spread = lambda x: (f"{min(r['alerts_per_s'] for r in x['runs']):,.0f}-"
                            f"{max(r['alerts_per_s'] for r in x['runs']):,.0f}")
        lines.append(f"| runs (alerts/s), batch {batch} | {spread(a)} | {spread(b)} | |")
        pr = results["paired_ratio"][f"{batch}"]
        lines.append(f"| ratio of each alertbridge run to the Alertmanager run beside it, batch "
                     f"{batch}: median (lowest-highest) | | | {pr['median']:.2f}x "
                     f"({pr['min']:.2f}-{pr['max']:.2f}) |")
        lines.append(f"| answers other than 2xx (all runs; 503 = a bound held), batch {batch} | "
                     f"{a['non2xx']} | {b['non2xx']} | |")
        lines.append(f"| latency p50 / p99 at saturation, batch {batch} (ms) | {a['p50_ms']:.2f} / "
                     f"{a['p99_ms']:.2f} | {b['p50_ms']:.2f} / {b['p99_ms']:.2f} | |")
        lines.append(f"| machine CPU idle during the run, batch {batch} | "
                     f"{a['cpu_idle_share']:.0%} | {b['cpu_idle_share']:.0%} | |")
        ca, cb = results["capacity"].get(f"alertmanager/{batch}"), \
            results["capacity"].get(f"alertbridge/{batch}")
        if ca and cb:
            n = args.capacity_connections
            lines.append(f"| alerts/s, batch {batch}, {n} connections | {ca['alerts_per_s']:,.0f} | "
                         f"{cb['alerts_per_s']:,.0f} | "
                         f"{cb['alerts_per_s'] / ca['alerts_per_s']:.2f}x |")
            lines.append(f"| runs (alerts/s), batch {batch}, {n} connections | {spread(ca)} | "
                         f"{spread(cb)} | |")
            pc = results["paired_ratio"][f"{batch}/c{n}"]
            lines.append(f"| ratio of the runs side by side, batch {batch}, {n} connections: "
                         f"median (lowest-highest) | | | {pc['median']:.2f}x "
                         f"({pc['min']:.2f}-{pc['max']:.2f}) |")
            lines.append(f"| p50 / p99 (ms), CPU idle, answers other than 2xx, batch {batch}, "
                         f"{n} connections | {ca['p50_ms']:.2f} / {ca['p99_ms']:.2f}, "
                         f"{ca['cpu_idle_share']:.0%}, {ca['non2xx']} | {cb['p50_ms']:.2f} / "
                         f"{cb['p99_ms']:.2f}, {cb['cpu_idle_share']:.0%}, {cb['non2xx']} | |")
        oa, ob = results["open_loop"][f"alertmanager/{batch}"], \
            results["open_loop"][f"alertbridge/{batch}"]
        lines.append(f"| open loop at {ob['rate_per_s']:,.0f} req/s, batch {batch}: p50 / p99 "
                     f"(ms; p99 runs) | {oa['p50_ms']:.2f} / {oa['p99_ms']:.2f} "
                     f"({oa['p99_spread_ms'][0]:.1f}-{oa['p99_spread_ms'][1]:.1f}) | "
                     f"{ob['p50_ms']:.2f} / {ob['p99_ms']:.2f} "
                     f"({ob['p99_spread_ms'][0]:.1f}-{ob['p99_spread_ms'][1]:.1f}) | |")
        lines.append(f"| open loop, batch {batch}: p99 from send to answer / connections the "
                     f"load needed (runs) | {oa['service_p99_ms']:.2f} / "
                     f"{oa['connections'][0]}-{oa['connections'][1]} | "
                     f"{ob['service_p99_ms']:.2f} / "
                     f"{ob['connections'][0]}-{ob['connections'][1]} | |")
        lines.append(f"| open loop, batch {batch}: p99 inside alertbridge (its request "
                     f"histogram) / the load generator's late wakes p99 (ms) | - / "
                     f"{oa['oversleep_p99_ms']:.2f} | {ob['server_p99_ms']:.2f} / "
                     f"{ob['oversleep_p99_ms']:.2f} | |")
        if "fsync_p99_ms" in ob:
            lines.append(f"| open loop, batch {batch}: alertbridge's fsyncs of the log, p99 (ms) "
                         f"and share over 5 ms, in the order run | | "
                         + " / ".join(f"{p:.2f} ({s:.1%})" for p, s in
                                      zip(ob["fsync_p99_ms"], ob["fsync_over_5ms"])) + " | |")
        if args.enrich:
            e = t[f"alertbridge_enrich/{batch}"]
            lines.append(f"| alerts/s, batch {batch}, alertbridge with enrichment | "
                         f"{a['alerts_per_s']:,.0f} | {e['alerts_per_s']:,.0f} | "
                         f"{e['alerts_per_s'] / a['alerts_per_s']:.2f}x |")
    ma, mb = results["memory"]["alertmanager"], results["memory"]["alertbridge"]
    lines.append(f"| RSS per active alert at {args.alerts:,} alerts | "
                 f"{ma['bytes_per_alert']:,.0f} B | {mb['bytes_per_alert']:,.0f} B | "
                 f"{mb['bytes_per_alert'] / ma['bytes_per_alert']:.2f}x |")
    return "\n".join(lines)
