"""Benchmark 4: outbound, 1,000 Odoo invoices pushed to QuickBooks Online.

    python3 benchmarks/bench_push.py [--invoices 1000] [--lines 3]

A generated QBO company (customers and items only) is imported first, so the customers and
products are bound. Then ``--invoices`` customer invoices (``--lines`` lines each, bound
products, the 8.25% tax) are created and posted in Odoo, and the push cron
(``_cron_qbo_push``) runs until nothing is left to send, in this process, as the cron worker
would (it sends by batches and re-triggers itself; here it is simply called again). Printed:
the API requests (emulator counters, by endpoint), the time, invoices per second, and the
invoices that did not reach QuickBooks.

Target: 1,000 invoices pushed in at most 40 API requests.

``--writes single`` sends every record with its own create/update call instead of the batch
endpoint (the client's ``batch`` replaced for the run, requestids kept): Intuit meters a batch
call and not a single write (API_FACTS §9), so the two modes are compared on metered calls
(the emulator's meter), requests and time. Single writes are limited to 500 per minute and
realm in production (the emulator runs unthrottled here): the floor that limit imposes is
printed too.
"""

import argparse
import random
import time

import bench_lib
from bench_lib import log

from odoo import SUPERUSER_ID, Command, api, fields


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--db", default="bgqbo_bench_push")
    parser.add_argument("--writes", choices=("batch", "single"), default="batch")
    args = parser.parse_args()

    emulator = bench_lib.EmulatorProcess()
    try:
        emulator.control.generate(
            emulator.realm_id, customers=args.customers, items=args.items, invoices=0, payments=0
        )
        # Odoo numbers its invoices (Custom Transaction Numbers = Yes, the page's default):
        # QuickBooks must accept them.
        emulator.control.set_preferences(emulator.realm_id, CustomTxnNumbers=True)
        registry = bench_lib.fresh_database(args.db)
        if args.writes == "single":
            use_single_writes()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Connection = type(env["biller_genie_qbo.connection"])
            if not hasattr(Connection, "_cron_qbo_push"):
                raise SystemExit(
                    "the outbound push is not installed in the addon yet (no _cron_qbo_push)"
                )
            conn = bench_lib.prepare_company(env, emulator)
            run = conn._qbo_run_sync("button")
            log(f"initial import: {run.state} {run.message or ''}")
            cr.commit()

            Binding = env["biller_genie_qbo.binding"]
            partners = env["res.partner"].browse(
                Binding.search([("qbo_entity", "=", "Customer")]).mapped("res_id")
            )
            products = env["product.product"].browse(
                Binding.search(
                    [("qbo_entity", "=", "Item"), ("res_model", "=", "product.product")]
                ).mapped("res_id")
            )
            products = products.filtered(lambda p: p.type == "service" and p.active)
            tax = env["account.tax"].search(
                [("amount", "=", 8.25), ("type_tax_use", "=", "sale")], limit=1
            )
            rng = random.Random(7)
            log(f"creating and posting {args.invoices} invoices in Odoo")
            for start in range(0, args.invoices, 200):
                vals_list = []
                for _n in range(start, min(args.invoices, start + 200)):
                    vals_list.append(
                        {
                            "move_type": "out_invoice",
                            "partner_id": rng.choice(partners).id,
                            "invoice_date": fields.Date.today(),
                            "invoice_line_ids": [
                                Command.create(
                                    {
                                        "product_id": rng.choice(products).id,
                                        "quantity": rng.randint(1, 5),
                                        "price_unit": rng.randint(10, 500),
                                        "tax_ids": [Command.set(tax.ids)],
                                    }
                                )
                                for _line in range(args.lines)
                            ],
                        }
                    )
                env["account.move"].create(vals_list).action_post()
                cr.commit()
            dirty = env["account.move"].search_count([("qbo_push_dirty", "=", True)])
            log(f"{dirty} invoices waiting to be sent")

        emulator.control.reset_counters()
        emulator.control.metering(emulator.realm_id, reset=True)
        sql0 = bench_lib.sql_count()
        started = time.perf_counter()
        runs = 0
        while True:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                conn = env["biller_genie_qbo.connection"].search([], limit=1)
                if not conn._qbo_push_has_work() or runs >= 100:
                    break
                env["biller_genie_qbo.connection"]._cron_qbo_push()
                runs += 1
        seconds = time.perf_counter() - started
        sql = bench_lib.sql_count() - sql0
        counters = emulator.control.counters()
        meter = emulator.control.metering(emulator.realm_id)
        with registry.cursor() as cr:
            cr.execute(
                "SELECT qbo_push_state, count(*) FROM account_move "
                "WHERE move_type = 'out_invoice' GROUP BY 1"
            )
            states = dict(cr.fetchall())
        in_qbo = len(emulator.control.entities(emulator.realm_id, "Invoice"))
    finally:
        emulator.stop()

    requests_total = counters.get("total", 0)
    ok = requests_total <= 40
    floor = requests_total / 500 * 60 if args.writes == "single" else 0
    print(f"\n## Outbound ({args.writes} writes): {args.invoices} Odoo invoices pushed to QBO\n")
    print(
        bench_lib.table(
            ["figure", "value", "target"],
            [
                [
                    "API requests",
                    f"{requests_total} {counters.get('by_endpoint', {})}",
                    f"≤ 40 {'ok' if ok else 'MISSED'}",
                ],
                ["metered calls (Intuit's meter)", meter["metered"], ""],
                ["free calls", meter["free"], ""],
                ["time", f"{seconds:.1f} s ({runs} cron runs)", ""],
                ["floor at 500 requests/min", f"{floor:.0f} s" if floor else "-", ""],
                ["invoices per second", f"{args.invoices / seconds:.0f}", ""],
                ["SQL queries per invoice", f"{sql / args.invoices:.1f}", ""],
                ["invoices in QBO", in_qbo, str(args.invoices)],
                ["Odoo push states", states, ""],
            ],
        )
    )


def use_single_writes():
    """The client's batch, item by item through the single create/update endpoints."""
    from odoo.addons.biller_genie_qbo.tools.qbo_client import BatchResult, QboClient
    from odoo.addons.biller_genie_qbo.tools.qbo_errors import QboError

    def batch(self, items, request_id=None):
        base = request_id or self.new_request_id()
        results = []
        for number, item in enumerate(items):
            rid = f"{base}-{number}"
            if item.get("query"):
                response = self.query(item["query"])
                results.append(
                    BatchResult(bId=item["bId"], entity_name="QueryResponse", entity=response)
                )
                continue
            entity, body = item["entity"], dict(item["body"])
            try:
                if item["operation"] == "create":
                    remote = self.create(entity, body, request_id=rid)
                else:
                    sparse = body.pop("sparse", True)
                    remote = self.update(entity, body, request_id=rid, sparse=sparse)
            except QboError as error:
                results.append(BatchResult(bId=item["bId"], error=error))
                continue
            results.append(BatchResult(bId=item["bId"], entity_name=entity, entity=remote))
        return results

    QboClient.batch = batch


if __name__ == "__main__":
    main()
