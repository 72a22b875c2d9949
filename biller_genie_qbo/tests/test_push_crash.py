"""Exactly-once pushes across crashes, with real processes, as production runs them.

An Odoo server in prefork mode (HTTP workers, a cron worker) on a database of its own, the
emulator over HTTP. QuickBooks applies a batch but its answer is lost (the emulator's fault
"timeout after applying the write"), the server is SIGKILLed while it waits, the user posts
one more document, the server comes back: QuickBooks must hold each Odoo record once. Before
the fix the requestid was derived from the chunk and only saved once an error was caught: the
rebuilt chunk of 11 got a new requestid and QuickBooks created the 10 again (21 for 11).

Plain pytest functions: they need committed data and processes of their own. They run from
``scripts/test.sh``, which makes the template database (``BGQBO_TEMPLATE_DB``).
"""

import os

import pytest

from harness import OdooServer, RpcSession, clone_database, drop_database, qbo
from harness.qbo import wait_for
from qbo_emulator import CLIENT_ID, CLIENT_SECRET, Emulator

TEMPLATE = os.environ.get("BGQBO_TEMPLATE_DB")
pytestmark = pytest.mark.skipif(
    not TEMPLATE, reason="real-process test: run it through scripts/test.sh (BGQBO_TEMPLATE_DB)"
)
# Production's process model: HTTP workers and a cron worker with time limits.
PREFORK = ["--workers=2", "--max-cron-threads=1", "--limit-time-real=60", "--limit-time-cpu=50"]
CONNECTION = "biller_genie_qbo.connection"
# Every wait is for a condition; the deadline is far above what a quiet machine needs (CI
# runs other things on 2 cores), nothing is asserted about speed.
DEADLINE = 600


class World:
    """A prefork server connected to an emulator company through the real OAuth flow."""

    def __init__(self, tmp_path):
        self.emu = Emulator(port=0, seed="none", throttle=False)
        self.emu.start()
        self.realm = self.emu.control.create_realm(seed="demo")
        self.db = f"{TEMPLATE}_crash"
        clone_database(TEMPLATE, self.db)
        self.server = OdooServer(self.db, PREFORK, log_file=str(tmp_path / "odoo.log"))
        try:
            self.login()
            self.connect()
        except Exception:
            self.stop()  # no server left behind when the setup fails
            raise

    def login(self):
        self.rpc = RpcSession(self.server.base_url, self.db)

    def connect(self):
        qbo.configure_app(self.rpc, self.emu.base_url, CLIENT_ID, CLIENT_SECRET)
        self.conn_id = qbo.connect(self.rpc, self.emu.control, self.realm)
        qbo.sync_now(self.rpc, self.conn_id)
        wait_for(self.synced, what="the first sync", seconds=DEADLINE)
        qbo.confirm_first_push(self.rpc, self.conn_id)

    def connection(self):
        fields = ["state", "last_sync_result", "sync_running", "sync_requested"]
        return self.rpc.call_kw(CONNECTION, "read", [self.conn_id], fields)[0]

    def synced(self):
        conn = self.connection()
        done = conn["last_sync_result"] and not conn["sync_running"] and not conn["sync_requested"]
        assert conn["last_sync_result"] != "failed", conn
        return done

    def qbo(self, entity):
        return [
            e for e in self.emu.control.entities(self.realm, entity) if e.get("status") != "Deleted"
        ]

    def search_read(self, model, domain, fields):
        return self.rpc.call_kw(model, "search_read", domain, fields)

    def ids(self, model, name):
        return [r["id"] for r in self.search_read(model, [("name", "=", name)], ["id"])]

    def bound(self, model, ids):
        rows = self.search_read(
            "biller_genie_qbo.binding",
            [("res_model", "=", model), ("res_id", "in", ids)],
            ["res_id", "qbo_id", "qbo_entity"],
        )
        return {row["res_id"]: row for row in rows}

    def pushed(self, model, ids):
        rows = self.rpc.call_kw(model, "read", ids, ["qbo_push_state", "qbo_push_dirty"])
        states = {row["qbo_push_state"] for row in rows}
        assert "error" not in states, rows
        return all(not row["qbo_push_dirty"] for row in rows)

    def stop(self):
        self.server.kill()  # the database is dropped: no clean shutdown to wait for
        drop_database(self.db)
        self.emu.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("crash"))
    yield world
    world.stop()


def invoices(world, partner_ids, product_id):
    """Post one invoice per partner in one request (one transaction: one push chunk)."""
    ids = world.rpc.call_kw(
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner_id,
                "invoice_line_ids": [
                    (0, 0, {"product_id": product_id, "quantity": 2, "price_unit": 50.0})
                ],
            }
            for partner_id in partner_ids
        ],
    )
    world.rpc.call_kw("account.move", "action_post", ids)
    return ids


def crash_during_push(world, entity, act, new_per_act):
    """``act(count)`` makes Odoo records that push ``count`` ``entity`` to QuickBooks in one
    batch. The first batch sent is applied by QuickBooks but its answer is lost; the server is
    SIGKILLed while it waits; one more record is made; the server restarts and pushes.
    Returns the Odoo records made."""
    before = len(world.qbo(entity))
    # The answer is held longer than the cron limit: the worker is killed waiting for it, by
    # the test at once or by Odoo's master, never answered (a loaded machine cannot miss it).
    world.emu.control.fault("timeout_after_write", count=1, path_contains="/batch", delay=120)
    made = act(10)
    wait_for(
        lambda: len(world.qbo(entity)) >= before + 10 * new_per_act,
        DEADLINE,
        f"QuickBooks to apply the batch of {entity}",
    )
    world.server.kill()  # the answer was never read: a crash while waiting for it
    world.emu.control.clear_faults()
    world.server.start()
    world.login()
    made += act(1)
    return before, made


def test_customers_and_invoices_are_created_once_across_a_crash(world):
    """(Customers have a second safety net: QuickBooks refuses a duplicate name with 6240 and
    the push links the existing customer.)"""
    product = world.ids("product.product", "Services")[0]
    partners = world.rpc.call_kw(
        "res.partner", "create", [{"name": f"Crash Customer {n}"} for n in range(11)]
    )
    queue = list(partners)
    made_invoices = []

    def act(count):
        batch, queue[:] = queue[:count], queue[count:]
        ids = invoices(world, batch, product)
        made_invoices.extend(ids)
        return ids

    customers_before, _made = crash_during_push(world, "Customer", act, 1)
    wait_for(
        lambda: world.pushed("account.move", made_invoices),
        what="the push after restart",
        seconds=DEADLINE,
    )
    names = [c["DisplayName"] for c in world.qbo("Customer")]
    assert len(world.qbo("Customer")) == customers_before + 11, "each new customer once"
    for n in range(11):
        assert names.count(f"Crash Customer {n}") == 1
    bound = world.bound("res.partner", partners)
    assert len({b["qbo_id"] for b in bound.values()}) == 11
    notes = [i.get("PrivateNote") for i in world.qbo("Invoice")]
    moves = world.rpc.call_kw("account.move", "read", made_invoices, ["name"])
    for move in moves:
        assert notes.count(f"Odoo {move['name']}") == 1, move["name"]


def test_invoices_are_created_once_across_a_crash(world):
    product = world.ids("product.product", "Services")[0]
    customer = world.ids("res.partner", "Amy's Bird Sanctuary")[0]
    made = []

    def act(count):
        ids = invoices(world, [customer] * count, product)
        made.extend(ids)
        return ids

    before, _made = crash_during_push(world, "Invoice", act, 1)
    wait_for(
        lambda: world.pushed("account.move", made), what="the push after restart", seconds=DEADLINE
    )
    assert len(world.qbo("Invoice")) == before + 11, "11 invoices in QuickBooks for 11 in Odoo"
    bound = world.bound("account.move", made)
    assert len({b["qbo_id"] for b in bound.values()}) == 11, "each bound to its own invoice"


def test_payments_are_created_once_across_a_crash(world):
    product = world.ids("product.product", "Services")[0]
    customer = world.ids("res.partner", "Amy's Bird Sanctuary")[0]
    open_invoices = invoices(world, [customer] * 11, product)
    wait_for(
        lambda: world.pushed("account.move", open_invoices),
        what="the invoices' push",
        seconds=DEADLINE,
    )
    queue = list(open_invoices)
    made = []

    def act(count):
        batch, queue[:] = queue[:count], queue[count:]
        wizard = world.rpc.call_kw(
            "account.payment.register",
            "create",
            {"group_payment": False},
            context={**world.rpc.context, "active_model": "account.move", "active_ids": batch},
        )
        world.rpc.call_button(
            "account.payment.register",
            "action_create_payments",
            [wizard],
            context={**world.rpc.context, "active_model": "account.move", "active_ids": batch},
        )
        ids = [
            p["id"]
            for p in world.search_read("account.payment", [("invoice_ids", "in", batch)], ["id"])
        ]
        made.extend(ids)
        return ids

    before, _made = crash_during_push(world, "Payment", act, 1)
    wait_for(
        lambda: world.pushed("account.payment", made),
        what="the push after restart",
        seconds=DEADLINE,
    )
    assert len(made) == 11
    assert len(world.qbo("Payment")) == before + 11, "11 payments in QuickBooks for 11 in Odoo"
    for invoice in world.bound("account.move", open_invoices).values():
        remote = world.emu.control.entity(world.realm, "Invoice", invoice["qbo_id"])
        assert float(remote["Balance"]) == 0.0, "paid once, not twice"


def test_credit_notes_are_created_once_across_a_crash(world):
    product = world.ids("product.product", "Services")[0]
    customer = world.ids("res.partner", "Amy's Bird Sanctuary")[0]
    to_reverse = invoices(world, [customer] * 11, product)
    wait_for(
        lambda: world.pushed("account.move", to_reverse),
        what="the invoices' push",
        seconds=DEADLINE,
    )
    queue = list(to_reverse)
    made = []

    def act(count):
        batch, queue[:] = queue[:count], queue[count:]
        context = {**world.rpc.context, "active_model": "account.move", "active_ids": batch}
        journal = world.search_read("account.journal", [("type", "=", "sale")], ["id"])[0]["id"]
        wizard = world.rpc.call_kw(
            "account.move.reversal", "create", {"journal_id": journal}, context=context
        )
        world.rpc.call_button("account.move.reversal", "refund_moves", [wizard], context=context)
        reversals = world.search_read(
            "account.move", [("reversed_entry_id", "in", batch)], ["id", "reversed_entry_id"]
        )
        credit_notes = [r["id"] for r in reversals]
        # Posted, a credit note made from an invoice is reconciled with it (applied).
        world.rpc.call_kw("account.move", "action_post", credit_notes)
        made.extend(credit_notes)
        return credit_notes

    before, _made = crash_during_push(world, "CreditMemo", act, 1)
    wait_for(
        lambda: world.pushed("account.move", made), what="the push after restart", seconds=DEADLINE
    )
    memos = world.qbo("CreditMemo")
    assert len(memos) == before + 11, "11 credit memos in QuickBooks for 11 credit notes"
    invoices_qbo = list(world.bound("account.move", to_reverse).values())

    def open_balances():
        entity = world.emu.control.entity
        return [
            float(entity(world.realm, "Invoice", invoice["qbo_id"])["Balance"])
            for invoice in invoices_qbo
        ]

    # The applications are pushed after the credit memos (a slow machine sees them later);
    # a credit applied twice would leave a negative balance, never 0.
    wait_for(lambda: not any(open_balances()), what="each credit applied once", seconds=DEADLINE)
