"""The full import's keyset paging on ``MetaData.CreateTime``, which has seconds: records
created in one second (a batch, an import; the emulator's demo company is seeded within one
second) straddle page boundaries. Whatever order QuickBooks gives the rows of one second, and
when records are deleted between two slices, each record is imported once and none is missed;
``ORDERBY Id`` is never used (Intuit refuses it)."""

from collections import Counter

from odoo.tests import tagged

from qbo_emulator.store import _iso

from .common import QboCommon

ENTITIES = ("Item", "Customer", "Invoice", "Payment")


def page_queries(texts):
    return [t for t in texts if t.startswith("SELECT * FROM")]


@tagged("post_install", "-at_install")
class TestScanPaging(QboCommon):
    def slice(self, pages=2):
        conn = self.connection.sudo().with_context(qbo_page_size=8, qbo_slice_pages=pages)
        return conn._qbo_run_sync("button")

    def import_in_slices(self, between=None, pages=2):
        """The first import, ``pages`` pages of 8 a slice; ``between(scan)`` runs between
        slices."""
        runs = [self.slice(pages)]
        while runs[-1].state == "running":
            if between:
                between(self.connection.sudo().qbo_scan)
            runs.append(self.slice(pages))
            self.assertLess(len(runs), 100, "the import ends")
        self.assertRunOk(runs[-1])
        self.assertEqual(runs[-1].state, "success")
        return runs[-1]

    def restamp(self, per_second):
        """Give the QuickBooks company's records CreateTimes of ``per_second`` rows a second
        (in Id order), as records made by small batches one second after another."""
        realm = self.emu.state.store.realms[self.realm_id]
        base = self.emu.state.clock.time() - 3600
        for entity in ENTITIES:
            objects = sorted(realm.data[entity].values(), key=lambda o: int(o["Id"]))
            for n, obj in enumerate(objects):
                obj["MetaData"]["CreateTime"] = _iso(base + n // per_second)
                realm.cache[entity].pop(obj["Id"], None)

    def assertEachImportedOnce(self, run, deleted=()):
        for entity in ENTITIES:
            remote = {r["Id"] for r in self.qbo_entities(entity)} | set(deleted)
            bindings = (
                self.env["biller_genie_qbo.binding"]
                .sudo()
                .search([("connection_id", "=", self.connection.id), ("qbo_entity", "=", entity)])
            )
            qbo_ids = bindings.mapped("qbo_id")
            self.assertEqual(len(qbo_ids), len(set(qbo_ids)), f"{entity}: each bound once")
            self.assertEqual(set(qbo_ids), remote, f"{entity}: none missed")
            self.assertEqual(run.entity_counts[entity].get("created"), len(remote), entity)
            self.assertFalse(run.entity_counts[entity].get("unchanged"), "no row applied twice")
        queries = page_queries(self.control.queries(self.realm_id))
        self.assertEqual(len(queries), len(set(queries)), Counter(queries).most_common(2))
        self.assertFalse([q for q in queries if "ORDERBY Id" in q])

    def test_seconds_straddling_pages_in_any_order(self):
        """Seconds of 3 rows on pages of 8: every page boundary cuts a second, and
        QuickBooks answers the rows of a second in another order on every query."""
        self.restamp(per_second=3)
        self.control.set_preferences(self.realm_id, QueryTieOrder="shuffled")
        self.control.reset_counters()
        run = self.import_in_slices(pages=4)
        self.assertGreater(run.slice_count, 4)
        self.assertEachImportedOnce(run)

    def test_one_second_of_many_pages_with_deletions_between_slices(self):
        """The demo company's 60 invoices share one second (more than a page): read through
        STARTPOSITION within that second; invoices read already are deleted in QuickBooks
        between two slices, which shifts the rest of that second: nothing is skipped."""
        self.control.reset_counters()
        paid = {
            link["TxnId"]
            for payment in self.qbo_entities("Payment")
            for line in payment.get("Line") or []
            for link in line.get("LinkedTxn") or []
        }
        deleted = []

        def delete_read_invoices(scan):
            if scan["entity"] == "Invoice" and len(scan.get("ties") or []) > 8 and not deleted:
                for qbo_id in [i for i in scan["ties"] if i not in paid][:3]:
                    self.control.delete_entity(self.realm_id, "Invoice", qbo_id)
                    deleted.append(qbo_id)

        run = self.import_in_slices(between=delete_read_invoices)
        self.assertEqual(len(deleted), 3, "deleted in the middle of the invoices")
        self.assertEachImportedOnce(run, deleted=deleted)
        self.assertEqual(run.entity_counts["Invoice"]["created"], 60)
