"""python -m qbo_emulator --port 8765 [--host 127.0.0.1] [--seed demo|none|us_ast|…] ..."""

from __future__ import annotations

import argparse
import signal
import sys

from .companies import COMPANIES
from .server import DEMO_REALM_ID, Emulator


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m qbo_emulator", description="Local QuickBooks Online emulator"
    )
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--seed", choices=("demo", "none", *COMPANIES), default="demo")
    ap.add_argument(
        "--demo-tax-mix",
        action="store_true",
        help="add the real-data tax documents to the demo company (off: the addon's tests)",
    )
    ap.add_argument(
        "--snapshot",
        default=None,
        help="JSON file: loaded if present, written on exit and on POST /_emulator/snapshot",
    )
    ap.add_argument("--webhook-url", default=None)
    ap.add_argument("--webhook-format", choices=("cloudevents", "legacy"), default="cloudevents")
    ap.add_argument(
        "--time-factor", type=float, default=1.0, help="divide webhook retry delays by this factor"
    )
    ap.add_argument(
        "--no-throttle", action="store_true", help="disable Intuit's per-realm rate limits"
    )
    args = ap.parse_args(argv)
    emu = Emulator(
        host=args.host,
        port=args.port,
        seed=args.seed,
        snapshot=args.snapshot,
        webhook_url=args.webhook_url,
        webhook_format=args.webhook_format,
        time_factor=args.time_factor,
        throttle=not args.no_throttle,
        demo_tax_mix=args.demo_tax_mix,
    )

    def _term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    emu.start()
    realm = (
        emu.realm_id
        if emu.realm_id in emu.state.store.realms
        else (next(iter(emu.state.store.realms), DEMO_REALM_ID))
    )
    try:
        # printed inside the try: a SIGINT right after the line still stops cleanly
        print(f"QBO emulator listening on {emu.base_url} (realm {realm})", flush=True)
        emu.thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
