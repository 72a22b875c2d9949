"""Benchmark the QBO emulator: simple reads/s and the time of a 1000-row query page.

    python benchmarks/bench_emulator.py [--seconds 5] [--threads 4] [--processes 2]

Starts ``python -m qbo_emulator`` in a subprocess, connects through the OAuth endpoints,
disables throttling through the control API and prints plain figures (no assertions).
Targets: >= 2000 reads/s, 1000-row page < 50 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT = ("emulator-client-id", "emulator-client-secret")


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _token(base, realm):
    requests.post(base + "/_emulator/consent", json={"realm_id": realm}, timeout=10)
    r = requests.get(
        base + "/connect/oauth2",
        params={
            "client_id": CLIENT[0],
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": "http://localhost/cb",
            "state": "bench",
        },
        allow_redirects=False,
        timeout=10,
    )
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    t = requests.post(
        base + "/oauth2/v1/tokens/bearer",
        auth=CLIENT,
        data={
            "grant_type": "authorization_code",
            "code": q["code"],
            "redirect_uri": "http://localhost/cb",
        },
        timeout=10,
    ).json()
    return t["access_token"]


def _reader(base, realm, token, seconds, out):
    s = requests.Session()
    s.headers.update({"Authorization": "Bearer " + token, "Accept": "application/json"})
    n = 0
    errors = 0
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        i = i % 30 + 1
        r = s.get(f"{base}/v3/company/{realm}/customer/{i}", params={"minorversion": "75"})
        if r.status_code == 200:
            n += 1
        else:
            errors += 1
    out.append((n, errors))


def _proc(base, realm, token, seconds, threads, q):
    out = []
    ts = [
        threading.Thread(target=_reader, args=(base, realm, token, seconds, out))
        for _ in range(threads)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put((sum(x[0] for x in out), sum(x[1] for x in out)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--invoices", type=int, default=20000)
    args = ap.parse_args()
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "qbo_emulator", "--port", str(port), "--seed", "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        print(line)
        base = f"http://127.0.0.1:{port}"
        realm = line.rsplit("realm ", 1)[1].rstrip(")")
        requests.post(base + "/_emulator/throttle", json={"enabled": False}, timeout=10)
        token = _token(base, realm)

        # 1) simple reads
        q = mp.Queue()
        procs = [
            mp.Process(target=_proc, args=(base, realm, token, args.seconds, args.threads, q))
            for _ in range(args.processes)
        ]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        results = [q.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - t0
        reads = sum(r[0] for r in results)
        errors = sum(r[1] for r in results)
        print(
            f"simple reads: {reads / args.seconds:.0f} reads/s "
            f"({reads} reads, {errors} errors, {args.processes} processes x "
            f"{args.threads} threads, keep-alive sessions, {elapsed:.1f} s wall)"
        )

        # 2) 1000-row query page on a big company
        big = requests.post(base + "/_emulator/realms", json={"seed": "none"}, timeout=60).json()[
            "realm_id"
        ]
        t0 = time.perf_counter()
        gen = requests.post(
            f"{base}/_emulator/realms/{big}/generate",
            json={
                "customers": 1000,
                "items": 100,
                "invoices": args.invoices,
                "payments": args.invoices // 4,
                "seed": 1,
            },
            timeout=600,
        ).json()
        print(
            f"generate: {gen['invoices']} invoices, {gen['payments']} payments, "
            f"{gen['customers']} customers in {time.perf_counter() - t0:.2f} s"
        )
        tok = _token(base, big)
        s = requests.Session()
        s.headers.update(
            {
                "Authorization": "Bearer " + tok,
                "Accept": "application/json",
                "Content-Type": "application/text",
            }
        )
        url = f"{base}/v3/company/{big}/query"
        timings = {}
        for label, text in (
            ("page 1", "select * from Invoice startposition 1 maxresults 1000"),
            ("page 11", "select * from Invoice startposition 10001 maxresults 1000"),
            (
                "filtered+sorted",
                "select * from Invoice where Balance > '0' orderby TxnDate desc maxresults 1000",
            ),
        ):
            samples = []
            parse = []
            for _ in range(7):
                t1 = time.perf_counter()
                r = s.post(url, data=text, params={"minorversion": "75"})
                body = r.content
                t2 = time.perf_counter()
                n = len(r.json()["QueryResponse"]["Invoice"])
                t3 = time.perf_counter()
                samples.append(t2 - t1)
                parse.append(t3 - t2)
            timings[label] = (statistics.median(samples), statistics.median(parse), n, len(body))
        for label, (t, pt, n, size) in timings.items():
            print(
                f"1000-row query page ({label}): {t * 1000:.1f} ms median "
                f"({n} rows, {size / 1e6:.2f} MB; client JSON parse {pt * 1000:.1f} ms)"
            )
        t1 = time.perf_counter()
        s.post(url, data="select count(*) from Invoice", params={"minorversion": "75"})
        print(
            f"count(*) over {gen['invoices']} invoices: {(time.perf_counter() - t1) * 1000:.1f} ms"
        )
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
