"""Benchmark 3: the webhook endpoint under 50 concurrent deliveries for 30 s.

    python3 benchmarks/bench_webhook.py [--concurrency 50] [--seconds 30] [--events 1]

A fresh database with a connected company; Odoo serves it in a subprocess (threaded mode,
no cron thread: the endpoint alone is measured, the events stay pending). A load generator
(another subprocess, so that it does not share a GIL with anyone) keeps ``--concurrency``
signed CloudEvents deliveries in flight for ``--seconds``: each delivery carries ``--events``
new events. Printed: p50 / p99 latency, deliveries and events per second, answers other than
200, and the events lost (acknowledged with a 200 but not stored).

Target: p99 under 100 ms with nothing lost.
"""

import argparse
import json
import multiprocessing
import statistics
import threading
import time
import uuid

import harness
from harness import log


def load(url, verifier, realm_id, concurrency, seconds, events_per_delivery, queue):
    """Runs in its own process: ``concurrency`` threads posting deliveries."""
    import requests

    from qbo_emulator.webhooks import sign

    latencies, statuses, sent_ids = [], {}, []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n):
        http = requests.Session()
        i = 0
        while time.monotonic() < deadline:
            i += 1
            events, ids = [], []
            for k in range(events_per_delivery):
                event_id = str(uuid.uuid4())
                entity_id = str(100000 + (n * 100000 + i * 10 + k) % 900000)
                ids.append(event_id)
                events.append(
                    {
                        "specversion": "1.0",
                        "id": event_id,
                        "source": f"//quickbooks.api.intuit.com/v3/company/{realm_id}",
                        "type": "qbo.customer.updated.v1",
                        "datacontenttype": "application/json",
                        "time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                        "intuitentityid": entity_id,
                        "intuitaccountid": realm_id,
                        "data": {
                            "alternative_ids": [{"id": entity_id, "namespace": "Intuit.sbseg.v4"}]
                        },
                    }
                )
            body = json.dumps(events, separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/cloudevents+json",
                "intuit-signature": sign(verifier, body),
            }
            started = time.perf_counter()
            try:
                status = http.post(url, data=body, headers=headers, timeout=10).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    sent_ids.extend(ids)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(
        {
            "latencies": latencies,
            "statuses": statuses,
            "acked_ids": sent_ids,
            "seconds": time.perf_counter() - started,
        }
    )


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--events", type=int, default=1, help="events per delivery")
    parser.add_argument("--db", default="bgqbo_bench_webhook")
    args = parser.parse_args()

    from odoo import SUPERUSER_ID, api

    from qbo_emulator import VERIFIER_TOKEN

    emulator = harness.EmulatorProcess()
    server = None
    try:
        registry = harness.fresh_database(args.db)
        with registry.cursor() as cr:
            conn = harness.prepare_company(api.Environment(cr, SUPERUSER_ID, {}), emulator)
            realm_id = conn.realm_id
        server = harness.OdooServer(args.db, ["--max-cron-threads=0", "--log-level=warn"])
        url = f"{server.base_url}/biller_genie_qbo/webhook"
        log(f"{args.concurrency} concurrent deliveries for {args.seconds:.0f} s on {url}")
        queue = multiprocessing.Queue()
        generator = multiprocessing.Process(
            target=load,
            args=(
                url,
                VERIFIER_TOKEN,
                realm_id,
                args.concurrency,
                args.seconds,
                args.events,
                queue,
            ),
        )
        generator.start()
        result = queue.get()
        generator.join()
        with registry.cursor() as cr:
            cr.execute(
                "SELECT event_id FROM biller_genie_qbo_webhook_event WHERE realm_id = %s",
                [realm_id],
            )
            stored = {row[0] for row in cr.fetchall()}
    finally:
        if server:
            server.stop()
        emulator.stop()

    latencies = result["latencies"]
    acked = result["acked_ids"]
    lost = len(set(acked) - stored)
    p50 = percentile(latencies, 0.50) * 1000
    p99 = percentile(latencies, 0.99) * 1000
    deliveries = len(latencies)
    print(
        f"\n## Webhook endpoint, {args.concurrency} concurrent deliveries, {args.seconds:.0f} s\n"
    )
    print(
        harness.table(
            ["figure", "value", "target"],
            [
                ["deliveries", deliveries, ""],
                ["events per delivery", args.events, ""],
                ["answers", dict(sorted(result["statuses"].items(), key=str)), "all 200"],
                ["p50 latency", f"{p50:.1f} ms", ""],
                [
                    "p99 latency",
                    f"{p99:.1f} ms",
                    f"< 100 ms {'ok' if p99 < 100 else 'MISSED'}",
                ],
                ["mean latency", f"{statistics.mean(latencies) * 1000:.1f} ms", ""],
                ["throughput", f"{deliveries / result['seconds']:.0f} deliveries/s", ""],
                ["events acknowledged (200)", len(acked), ""],
                ["events stored", len(stored), ""],
                ["events lost", lost, f"0 {'ok' if lost == 0 else 'MISSED'}"],
            ],
        )
    )


if __name__ == "__main__":
    main()
