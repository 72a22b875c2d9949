"""Contacts -> QuickBooks Online Customers (outbound): CC emails, sparse updates."""

import re

from odoo import api, fields, models

from .qbo_push_mixin import NO_PUSH_KEY, QboPushProblem

EMAIL_MAX = 100  # Intuit's limit on PrimaryEmailAddr.Address
_SPLIT = re.compile(r"[,;\s]+")


def split_emails(text):
    """'a@x.com, b@y.com; c@z.com' -> ['a@x.com', 'b@y.com', 'c@z.com'] (order kept, no
    duplicates, case-insensitive)."""
    seen, out = set(), []
    for part in _SPLIT.split(text or ""):
        part = part.strip()
        if part and part.lower() not in seen:
            seen.add(part.lower())
            out.append(part)
    return out


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "biller_genie_qbo.push.mixin"]

    qbo_cc_emails = fields.Char(
        "CC Emails",
        help="Further email addresses of this contact, separated by commas. With 'Sync CC "
        "Emails to QuickBooks' = Yes they are written, after the email, into the QuickBooks "
        "customer's Primary Email field.",
    )

    # ------------------------------------------------------------------
    # Dirty flag (no API call here)
    # ------------------------------------------------------------------
    def _qbo_synced_fields(self):
        return {
            "name",
            "email",
            "qbo_cc_emails",
            "phone",
            "mobile",
            "street",
            "street2",
            "city",
            "zip",
            "state_id",
            "country_id",
            "is_company",
            "website",
        }

    def _qbo_pushable(self):
        """Contacts bound to a QuickBooks customer (new ones are created on demand, when an
        invoice that needs them is sent)."""
        bound = (
            self.env["biller_genie_qbo.binding"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", self.ids),
                    ("qbo_entity", "=", "Customer"),
                ]
            )
        )
        return self.browse(list(set(bound.mapped("res_id"))))

    def write(self, vals):
        result = super().write(vals)
        self._qbo_mark_dirty(vals.keys())
        return result

    # ------------------------------------------------------------------
    # Mapper (pure): Odoo -> QBO Customer
    # ------------------------------------------------------------------
    def _qbo_email_address(self):
        """The email and the CC emails, comma separated; QboPushProblem when QuickBooks
        cannot hold them (never cut silently)."""
        self.ensure_one()
        emails = split_emails(self.email) + split_emails(self.qbo_cc_emails)
        text = ", ".join(dict.fromkeys(emails))
        if len(text) > EMAIL_MAX:
            raise QboPushProblem(
                self.env._(
                    "The email and CC emails of %(name)s are %(length)s characters long "
                    "(%(emails)s); QuickBooks Online accepts %(max)s at most in the customer's "
                    "Primary Email. Remove some CC emails, or set Sync CC Emails to No.",
                    name=self.display_name,
                    length=len(text),
                    emails=text,
                    max=EMAIL_MAX,
                ),
                code="email_length",
            )
        return text

    def _qbo_prepare_customer(self, sync_cc_emails):
        """The QBO Customer fields of this contact (create or sparse update body, without Id
        and SyncToken). ``sync_cc_emails``: the page's setting ('yes'/'no')."""
        self.ensure_one()
        name = (self.name or "").strip() or self.display_name
        if ":" in name:
            raise QboPushProblem(
                self.env._(
                    "QuickBooks Online does not accept a colon in a customer name: rename "
                    "%(name)s.",
                    name=name,
                ),
                code="customer_name",
            )
        body = {"DisplayName": name[:500]}
        if self.is_company:
            body["CompanyName"] = name[:100]
        elif self.parent_id and self.parent_id.is_company:
            body["CompanyName"] = (self.parent_id.name or "")[:100]
        if self.phone:
            body["PrimaryPhone"] = {"FreeFormNumber": self.phone[:30]}
        if self.mobile:
            body["Mobile"] = {"FreeFormNumber": self.mobile[:30]}
        if self.website:
            body["WebAddr"] = {"URI": self.website[:1000]}
        address = {
            "Line1": self.street or "",
            "Line2": self.street2 or "",
            "City": self.city or "",
            "CountrySubDivisionCode": self.state_id.code or "",
            "PostalCode": self.zip or "",
            "Country": self.country_id.code or "",
        }
        if any(address.values()):
            body["BillAddr"] = {k: v for k, v in address.items() if v}
        if sync_cc_emails == "yes":
            email = self._qbo_email_address()
            if email:
                body["PrimaryEmailAddr"] = {"Address": email}
        return body

    # ------------------------------------------------------------------
    # Inbound sync: its writes never mark contacts dirty; CC emails read back
    # ------------------------------------------------------------------
    @api.model
    def _qbo_import_records(self, connection, entity, remotes, client):
        return super(ResPartner, self.with_context(**{NO_PUSH_KEY: True}))._qbo_import_records(
            connection, entity, remotes, client
        )

    @api.model
    def _qbo_values_from_remote(self, remote, geo=None):
        """QuickBooks' Primary Email may hold several addresses (the CC emails we wrote): the
        first is the contact's email, the others its CC emails."""
        vals = super()._qbo_values_from_remote(remote, geo)
        emails = split_emails(vals.get("email") or "")
        if len(emails) > 1:
            vals["email"] = emails[0]
            vals["qbo_cc_emails"] = ", ".join(emails[1:])
        return vals
