"""QBO Customers -> contacts."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.biller_genie_qbo.sync.common import Lookups
from odoo.addons.biller_genie_qbo.sync.customer import CustomerSync

from .common import QboCommon, QboImportedCommon


@tagged("post_install", "-at_install")
class TestPartnerMapper(TransactionCase):
    """The mapper is pure: plain dicts in, values out."""

    def test_values_from_remote(self):
        Partner = CustomerSync(self.env["biller_genie_qbo.connection"])
        us = self.env.ref("base.us")
        ca_state = self.env.ref("base.state_us_5")  # California
        geo = Lookups(countries={"US": us.id}, states={(us.id, "CA"): ca_state.id})
        vals = Partner.to_odoo(
            {
                "Id": "7",
                "DisplayName": "Amy's Bird Sanctuary",
                "CompanyName": "Amy's Bird Sanctuary",
                "GivenName": "Amy",
                "PrimaryEmailAddr": {"Address": "Birds@Intuit.com"},
                "PrimaryPhone": {"FreeFormNumber": "(650) 555-3311"},
                "Mobile": {"FreeFormNumber": "(650) 555-0000"},
                "WebAddr": {"URI": "https://birds.example"},
                "BillAddr": {
                    "Line1": "4581 Finch St.",
                    "Line2": "Suite 2",
                    "Line3": "Back door",
                    "City": "Bayshore",
                    "CountrySubDivisionCode": "CA",
                    "PostalCode": "94326",
                    "Country": "USA",
                },
                "Notes": "Feeds the birds",
                "Active": True,
            },
            geo,
        )
        self.assertEqual(vals["name"], "Amy's Bird Sanctuary")
        self.assertTrue(vals["is_company"])
        self.assertEqual(vals["email"], "Birds@Intuit.com")
        self.assertEqual(vals["phone"], "(650) 555-3311")
        self.assertEqual(vals["mobile"], "(650) 555-0000")
        self.assertEqual(vals["street"], "4581 Finch St.")
        self.assertEqual(vals["street2"], "Suite 2, Back door")
        self.assertEqual(vals["zip"], "94326")
        self.assertEqual(vals["country_id"], us.id)
        self.assertEqual(vals["state_id"], ca_state.id)
        self.assertEqual(vals["comment"], "Feeds the birds")
        self.assertNotIn("type", vals)

        child = Partner.to_odoo(
            {
                "Id": "8",
                "DisplayName": "55 Twin Lane",
                "CompanyName": "Freeman Sporting Goods",
                "ParentRef": {"value": "7"},
                "Active": False,
                "BillAddr": {"City": "Middlefield", "Country": "United States"},
            },
            geo,
        )
        self.assertFalse(child["is_company"], "a sub-customer is a contact of its parent")
        self.assertEqual(child["type"], "other", "it keeps its own address")
        self.assertFalse(child["active"])
        self.assertEqual(child["country_id"], us.id)
        self.assertFalse(child["email"])


@tagged("post_install", "-at_install")
class TestSyncPartner(QboCommon):
    def test_customers_imported(self):
        existing = self.env["res.partner"].create(
            {"name": "Diego  Rodriguez", "email": "DIEGO@rodriguez.com", "comment": "Odoo's"}
        )
        by_name = self.env["res.partner"].create({"name": "Cool Cars"})
        self.assertRunOk(self.qbo_sync(), allow_errors=True)  # Cool Cars: a duplicate suspect
        customers = self.qbo_entities("Customer")
        self.assertEqual(self.binding_count("Customer"), len(customers) - 1)
        by_display = {c["DisplayName"]: c for c in customers}

        amy = self.bound("Customer", by_display["Amy's Bird Sanctuary"]["Id"])
        self.assertTrue(amy.is_company)
        self.assertEqual(amy.email, "Birds@Intuit.com")
        self.assertTrue(amy.phone)
        self.assertEqual(amy.state_id.code, "CA")
        self.assertEqual(amy.country_id.code, "US")
        self.assertEqual(amy.city, "Middlefield")

        parent = self.bound("Customer", by_display["Freeman Sporting Goods"]["Id"])
        for name in ("0969 Ocean View Road", "55 Twin Lane"):
            child = self.bound("Customer", by_display[name]["Id"])
            self.assertEqual(child.parent_id, parent)
            self.assertEqual(child.commercial_partner_id, parent)
            self.assertTrue(child.street, "keeps its own address")

        inactive = [c for c in customers if not c["Active"]]
        self.assertEqual(len(inactive), 2)
        for remote in inactive:
            self.assertFalse(self.bound("Customer", remote["Id"]).active)

        # Linked, not duplicated, when email and name agree; held for the duplicate review
        # (never linked silently) when only the name does (tests/test_duplicates.py).
        self.assertEqual(self.bound("Customer", by_display["Diego Rodriguez"]["Id"]), existing)
        self.assertEqual(existing.name, "Diego  Rodriguez", "Odoo keeps what it knows")
        self.assertTrue(existing.street, "and gets what it did not know")
        self.assertIsNone(self.bound("Customer", by_display["Cool Cars"]["Id"]))
        self.assertTrue(by_name.exists())
        self.assertEqual(
            self.env["res.partner"].search_count([("email", "=ilike", "diego@rodriguez.com")]), 1
        )

    def test_contact_deleted_in_odoo_comes_back_with_the_next_change(self):
        """A bound contact deleted in Odoo (no invoice yet): the next change of its QBO
        customer imports it again instead of failing on the deleted record every sync."""
        remote = self.control.create_entity(
            self.realm_id, "Customer", {"DisplayName": "Short Lived Ltd"}
        )
        self.assertRunOk(self.qbo_sync())
        self.bound("Customer", remote["Id"]).unlink()
        self.qbo_edit("Customer", remote["Id"], Notes="back again")
        self.assertRunOk(self.qbo_sync())
        partner = self.bound("Customer", remote["Id"])
        self.assertTrue(partner.exists())
        self.assertIn("back again", partner.comment)
        self.assertEqual(self.binding_count("Customer"), len(self.qbo_entities("Customer")))


@tagged("post_install", "-at_install")
class TestSyncPartnerAfterImport(QboImportedCommon):
    """What comes after the first import (imported once for the class)."""

    def test_customer_changes_and_deletion(self):
        remote = next(c for c in self.qbo_entities("Customer") if c["DisplayName"] == "Mark Cho")
        self.qbo_edit(
            "Customer",
            remote["Id"],
            PrimaryEmailAddr={"Address": "mark@cho.example"},
            BillAddr={"Line1": "1 New Road", "City": "Toronto", "Country": "CAN"},
        )
        self.assertRunOk(self.qbo_sync())
        partner = self.bound("Customer", remote["Id"])
        self.assertEqual(partner.email, "mark@cho.example")
        self.assertEqual(partner.country_id.code, "CA")
        self.assertEqual(partner.street, "1 New Road")

        self.control.delete_entity(self.realm_id, "Customer", remote["Id"])
        self.assertRunOk(self.qbo_sync())
        self.assertFalse(partner.active, "deleted in QBO (made inactive): archived")

    def test_sub_customer_change_keeps_its_parent(self):
        """Only the sub-customer changed (its parent, bound already, is not in the page)."""
        child = next(c for c in self.qbo_entities("Customer") if c.get("ParentRef"))
        partner = self.bound("Customer", child["Id"])
        parent = self.bound("Customer", child["ParentRef"]["value"])
        self.assertEqual(partner.parent_id, parent)
        self.qbo_edit("Customer", child["Id"], Notes="job moved")
        run = self.connection.sudo()._qbo_sync_ids({"Customer": [child["Id"]]})
        self.assertRunOk(run)
        self.assertEqual(run.entity_counts["Customer"]["updated"], 1)
        self.assertIn("job moved", partner.comment)
        self.assertEqual(partner.parent_id, parent)

    def test_sub_customer_created_before_its_parent_is_known(self):
        parent = self.control.create_entity(
            self.realm_id, "Customer", {"DisplayName": "New Parent Co", "CompanyName": "NP"}
        )
        child = self.control.create_entity(
            self.realm_id,
            "Customer",
            {"DisplayName": "New Parent Job", "ParentRef": {"value": parent["Id"]}},
        )
        # Only the child is announced (e.g. by a webhook): the parent is read first.
        run = self.connection.sudo()._qbo_sync_ids({"Customer": [child["Id"]]})
        self.assertRunOk(run)
        self.assertEqual(
            self.bound("Customer", child["Id"]).parent_id, self.bound("Customer", parent["Id"])
        )
