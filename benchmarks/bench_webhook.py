"""Benchmark 3: the webhook endpoint under 50 concurrent deliveries for 30 s.

    python3 benchmarks/bench_webhook.py [--concurrency 50] [--seconds 30] [--warmup 10]
                                        [--events 1] [--workers 0,7]

A fresh database with a connected company; Odoo serves it in a subprocess, once per
``--workers`` value (0: Odoo's threaded server, as the demo runs it; N: prefork with N HTTP
workers, as production runs it), with no cron (the endpoint alone is measured, the events stay
pending). A load generator (another subprocess, asyncio on raw sockets so that it takes little
of the 2 cores) keeps ``--concurrency`` signed CloudEvents deliveries in flight for
``--seconds``, after ``--warmup`` seconds of the same load that are not measured (each prefork
worker loads the registry on its first request and the gevent process starts: a production
server is warm); each delivery carries ``--events`` new events. Printed per server mode: p50 /
p99 latency, deliveries per second, answers other than 200, and the events lost (acknowledged
with a 200 but not stored, warm-up included). The same load on Odoo's own ``GET /web/health``
(auth none, no query of ours) gives the floor any Odoo route with a database has on this
machine.

Target: p99 under 100 ms with nothing lost.
"""

import argparse
import json
import multiprocessing
import statistics
import time
import uuid

import bench_lib
from bench_lib import log


def load(url, verifier, realm_id, args, queue):
    """Runs in its own process: ``args.concurrency`` asyncio clients posting deliveries over raw
    HTTP/1.1 (a few µs of client CPU per request, where ``requests`` costs about a
    millisecond: on 2 cores, the generator must not eat the server's CPU)."""
    import asyncio
    from urllib.parse import urlparse

    from qbo_emulator.webhooks import sign

    parsed = urlparse(url)
    latencies, statuses, acked_ids = [], {}, []

    def delivery(n, i):
        if verifier is None:
            return f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\n\r\n".encode(), []
        events, ids = [], []
        for k in range(args.events):
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
        head = (
            f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
            "Content-Type: application/cloudevents+json\r\n"
            f"intuit-signature: {sign(verifier, body)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body, ids

    async def exchange(reader, writer, payload):
        """One request, one answer: (status, keep the connection open?)."""
        writer.write(payload)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        version, status = status_line.split()[:2]
        length, keep = 0, version == b"HTTP/1.1"
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                keep = value.strip().lower() == b"keep-alive"
        await reader.readexactly(length)
        return int(status), keep

    async def client(n, measured_from, deadline):
        reader = writer = None
        i = 0
        while time.monotonic() < deadline:
            i += 1
            payload, ids = delivery(n, i)
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
                status, keep = await asyncio.wait_for(exchange(reader, writer, payload), 10)
            except (OSError, asyncio.TimeoutError, ConnectionError, ValueError) as error:
                status, keep = type(error).__name__, False
            if time.monotonic() >= measured_from:
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                acked_ids.extend(ids)
            if not keep and writer is not None:
                writer.close()
                reader = writer = None

    async def run():
        measured_from = time.monotonic() + args.warmup
        deadline = measured_from + args.seconds
        clients = (client(n, measured_from, deadline) for n in range(args.concurrency))
        await asyncio.gather(*clients)

    asyncio.run(run())
    queue.put(
        {
            "latencies": latencies,
            "statuses": statuses,
            "acked_ids": acked_ids,
            "seconds": args.seconds,
        }
    )


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(url, verifier, realm_id, args):
    """One load run against ``url`` (a GET without body when ``verifier`` is None)."""
    queue = multiprocessing.Queue()
    generator = multiprocessing.Process(
        target=load,
        args=(url, verifier, realm_id, args, queue),
    )
    generator.start()
    result = queue.get()
    generator.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30, help="measured load")
    parser.add_argument(
        "--warmup", type=float, default=10, help="seconds of the same load before measuring"
    )
    parser.add_argument("--events", type=int, default=1, help="events per delivery")
    parser.add_argument(
        "--workers",
        default="0,7",
        help="comma-separated Odoo HTTP worker counts to measure; 0 = Odoo's threaded server "
        "(prefork listens with a backlog of 8 per worker: below 7 workers, 50 connections "
        "without a proxy in front overflow it)",
    )
    parser.add_argument("--db", default="bgqbo_bench_webhook")
    args = parser.parse_args()

    from odoo import SUPERUSER_ID, api

    from qbo_emulator import VERIFIER_TOKEN

    emulator = bench_lib.EmulatorProcess()
    rows = []
    try:
        registry = bench_lib.fresh_database(args.db)
        with registry.cursor() as cr:
            conn = bench_lib.prepare_company(api.Environment(cr, SUPERUSER_ID, {}), emulator)
            realm_id = conn.realm_id
        for workers in [int(w) for w in args.workers.split(",")]:
            mode = f"prefork, {workers} workers" if workers else "threaded"
            server = bench_lib.OdooServer(
                args.db, ["--max-cron-threads=0", "--log-level=warn", f"--workers={workers}"]
            )
            try:
                log(
                    f"{mode}: {args.concurrency} concurrent deliveries, {args.warmup:.0f} s "
                    f"warm-up then {args.seconds:.0f} s measured"
                )
                result = measure(
                    f"{server.base_url}/biller_genie_qbo/webhook", VERIFIER_TOKEN, realm_id, args
                )
                log(f"{mode}: the same load on GET /web/health")
                floor = measure(f"{server.base_url}/web/health", None, realm_id, args)
            finally:
                server.stop()
            with registry.cursor() as cr:
                cr.execute(
                    "SELECT event_id FROM biller_genie_qbo_webhook_event WHERE event_id IN %s",
                    [tuple(result["acked_ids"]) or ("",)],
                )
                stored = {row[0] for row in cr.fetchall()}
            rows.append(row(mode, "POST webhook", result, stored))
            rows.append(row(mode, "GET /web/health (floor)", floor, None))
    finally:
        emulator.stop()

    print(
        f"\n## Webhook endpoint, {args.concurrency} concurrent deliveries, {args.seconds:.0f} s"
        f" measured after {args.warmup:.0f} s of warm-up, {args.events} event(s) each\n"
    )
    print(
        bench_lib.table(
            [
                "Odoo server",
                "route",
                "requests/s",
                "answers",
                "p50 ms",
                "p99 ms (target < 100)",
                "mean ms",
                "events acked",
                "events lost (target 0)",
            ],
            rows,
        )
    )


def row(mode, route, result, stored):
    latencies = result["latencies"]
    p99 = percentile(latencies, 0.99) * 1000
    if stored is None:
        acked, lost = "", ""
    else:
        acked = len(result["acked_ids"])
        missing = len(set(result["acked_ids"]) - stored)
        lost = f"{missing} {'ok' if missing == 0 else 'MISSED'}"
    return [
        mode,
        route,
        f"{len(latencies) / result['seconds']:.0f}",
        dict(sorted(result["statuses"].items(), key=str)),
        f"{percentile(latencies, 0.50) * 1000:.0f}",
        f"{p99:.0f} {'ok' if p99 < 100 else 'missed'}" if stored is not None else f"{p99:.0f}",
        f"{statistics.mean(latencies) * 1000:.0f}",
        acked,
        lost,
    ]


if __name__ == "__main__":
    main()
