"""QuickBooks Customers <-> contacts (``res.partner``), both directions.

Inbound: QBO Customers -> contacts (sub-customers as child contacts, inactive ones archived);
a new QBO customer is linked to an unbound Odoo contact of the same email and name, or held for
the duplicate review when only one of them agrees (sync/duplicates/).

Outbound: contacts -> QuickBooks Online Customers: CC emails, sparse updates.
"""

import re

from ..const import HELD_CUSTOMER_CODE
from ..models.qbo_mapping import (
    country_code,
    is_deleted,
    ref_value,
    values_digest,
)
from ..models.qbo_push_mixin import QboPushProblem
from . import audit, duplicates
from .base import EntitySync
from .common import Lookups, Triaged
from .currency import currency_lookups

# Name lists nest at most 5 levels deep in QBO.
MAX_LEVELS = 6

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


class CustomerSync(EntitySync):
    """QBO Customer <-> ``res.partner``."""

    model = "res.partner"

    triage_fields = ("name", "active", "parent_id")

    def dependencies(self, remotes, result):
        """The parents the page's sub-customers need."""
        return self.with_parents(list(remotes))

    def create_records(self, entity, to_create, *, lookups, result):
        if not to_create:
            return
        new_bindings = self.create_partners(to_create, partner_ids=lookups.partners, result=result)
        self.bind(entity, [(item, item.record) for item in new_bindings], result)

    def update_records(self, entity, to_update, *, lookups, result):
        Binding = self.env["biller_genie_qbo.binding"]
        partners = self.env["res.partner"].browse([item.record.id for item in to_update])
        before = audit.snapshot(
            partners, {item.record.id: item.binding.qbo_sync_token for item in to_update}
        )
        for item in to_update:
            if item.record.qbo_display_name and item.vals.get("name") == (
                item.record.qbo_display_name
            ):
                # Sent under a distinct name (duplicate review): Odoo keeps its own.
                item.vals["name"] = item.record.name
            parent = ref_value(item.remote.get("ParentRef"))
            item.vals["parent_id"] = lookups.partners.get(parent, False) if parent else False
            item.record.write(item.vals)
            item.binding.write(
                Binding._qbo_remote_vals(
                    item.remote, state="synced", error=False, qbo_hash=item.digest
                )
            )
            result.count("updated")
            result.ok_ids.append(str(item.remote["Id"]))
        audit.log_changes(
            partners, before, {item.record.id: item.remote for item in to_update}, "Customer"
        )

    def lookups(self, entity, remotes):
        """Countries and states needed by these customers (two queries), and the contacts of
        the parents already bound (``partners``, which grows with the new ones)."""
        parents = {ref_value(r.get("ParentRef")) for r in remotes} - {None}
        bound = self.env["biller_genie_qbo.binding"]._qbo_fetch(self.conn, "Customer", parents)
        codes, country_codes = set(), {self.conn.company_id.country_id.code or "US"}
        for remote in remotes:
            addr = remote.get("BillAddr") or {}
            if addr.get("CountrySubDivisionCode"):
                codes.add(addr["CountrySubDivisionCode"].strip().upper())
            if country_code(addr.get("Country")):
                country_codes.add(country_code(addr.get("Country")))
        countries = {
            c.code: c.id
            for c in self.env["res.country"].search([("code", "in", list(country_codes))])
        }
        states = {}
        if codes:
            for state in self.env["res.country.state"].search([("code", "in", list(codes))]):
                states[(state.country_id.id, state.code.upper())] = state.id
        return Lookups(
            partners={qbo_id: binding.res_id for qbo_id, binding in bound.items()},
            countries=countries,
            states=states,
            default_country=self.conn.company_id.country_id.id,
            currencies={
                code: currency.id
                for code, currency in currency_lookups(self.env, remotes)["currencies"].items()
            },
        )

    def with_parents(self, remotes):
        """Prepend the parents that are neither in the page nor bound yet (read in one call per
        level), so that sub-customers always find their parent contact."""
        Binding = self.env["biller_genie_qbo.binding"]
        for _level in range(MAX_LEVELS):
            present = {str(r["Id"]) for r in remotes}
            wanted = {
                ref_value(r.get("ParentRef"))
                for r in remotes
                if ref_value(r.get("ParentRef")) and not is_deleted(r)
            } - present
            if not wanted:
                break
            wanted -= set(Binding._qbo_fetch(self.conn, "Customer", list(wanted)))
            # Held for the duplicate review: not read again (its sub-customers wait with it).
            wanted -= self.held_ids("Customer", wanted)
            if not wanted:
                break
            parents = self.client.read_many("Customer", sorted(wanted), include_inactive=True)
            if not parents:
                break
            remotes = parents + remotes
        return remotes

    def create_partners(self, to_create, *, partner_ids, result):
        """Link the new QBO customers to matching Odoo contacts, create the others (parents
        first); ``partner_ids`` {qbo id: partner id} grows with them. Returns the triaged items
        to bind, with their ``record``."""
        # An unbound Odoo contact of the same email and name is linked; a weaker match is held
        # for the user's review (sync/duplicates/), and its sub-customers wait with it.
        matches, held, waiting = duplicates.review_pull_customers(
            self,
            [(t.remote, t.vals) for t in to_create],
            result,
            waits=self.parents_held(to_create, partner_ids),
        )
        self.note_waiting(to_create, waiting, result)
        new_bindings, remaining = [], []
        for item in to_create:
            remote, vals = item.remote, item.vals
            if str(remote["Id"]) in held or str(remote["Id"]) in waiting:
                continue
            partner = matches.get(str(remote["Id"]))
            if not partner:
                remaining.append(item)
                continue
            # Keep what Odoo knows; fill what it does not.
            fill = {k: v for k, v in vals.items() if v and not partner[k] and k != "customer_rank"}
            parent = ref_value(remote.get("ParentRef"))
            if parent and not partner.parent_id and partner_ids.get(parent):
                fill["parent_id"] = partner_ids[parent]
            fill["customer_rank"] = max(partner.customer_rank, 1)
            if remote.get("Active") is False:
                fill["active"] = False
            partner.write(fill)
            partner_ids[str(remote["Id"])] = partner.id
            item.record = partner
            new_bindings.append(item)
            result.count("updated")

        # Parents before sub-customers: create level by level (one batch per level).
        # Field defaults that cost a query per record are computed once for the page.
        Partner = self.Model.with_context(active_test=False)
        defaults = Partner.default_get(
            [f for f in ("display_invoice_template_pdf_report_id",) if f in Partner._fields]
        )
        levels, remotes = {}, [item.remote for item in to_create]
        for item in remaining:
            levels.setdefault(self.level(item.remote, remotes), []).append(item)
        for level in sorted(levels):
            batch = levels[level]
            for item in batch:
                parent = ref_value(item.remote.get("ParentRef"))
                if parent:
                    item.vals["parent_id"] = partner_ids.get(parent, False)
            created = Partner.create(
                [dict(defaults, **item.vals, company_id=self.conn.company_id.id) for item in batch]
            )
            for item, partner in zip(batch, created, strict=True):
                partner_ids[str(item.remote["Id"])] = partner.id
                item.record = partner
                new_bindings.append(item)
            result.count("created", len(batch))
        return new_bindings

    def parents_held(self, to_create, partner_ids):
        """``waits(held)`` -> {qbo id: parent qbo id} of the sub-customers of ``to_create``
        whose parent is held for the duplicate review (``held``, this page's qbo ids, or held
        before: one query) or waits itself, level by level."""
        parents = {
            str(item.remote["Id"]): ref_value(item.remote.get("ParentRef"))
            for item in to_create
            if ref_value(item.remote.get("ParentRef"))
        }
        page = {str(item.remote["Id"]) for item in to_create}
        before = self.held_ids("Customer", set(parents.values()) - page - set(partner_ids))

        def waits(held):
            blocked, waiting = set(held) | before, {}
            for _level in range(MAX_LEVELS):
                new = {
                    qbo_id: parent
                    for qbo_id, parent in parents.items()
                    if qbo_id not in waiting and (parent in blocked or parent in waiting)
                }
                if not new:
                    break
                waiting.update(new)
            return waiting

        return waits

    def note_waiting(self, to_create, waiting, result):
        """A queue item per sub-customer waiting for its parent (``waiting`` {qbo id: parent
        qbo id}), naming the parent; retried with the parent's decision
        (``duplicates.import_waiting_documents``)."""
        names = {str(item.remote["Id"]): item.vals["name"] for item in to_create}
        for item in to_create:
            parent = waiting.get(str(item.remote["Id"]))
            if not parent:
                continue
            # A parent of another page: its name is in the sub-customer's full name.
            path = (item.remote.get("FullyQualifiedName") or "").split(":")
            result.add_error(
                "Customer",
                item.remote,
                self.env._(
                    "The QuickBooks Online customer %(name)s is a sub-customer of %(parent)s, "
                    "which waits for the duplicate review: it comes in under its parent as soon "
                    "as you decide on %(parent)s (Link to this one or Create anyway).",
                    name=item.vals["name"],
                    parent=names.get(parent) or (path[-2] if len(path) > 1 else parent),
                ),
                code=HELD_CUSTOMER_CODE,
            )

    def level(self, remote, remotes):
        level = remote.get("Level")
        if isinstance(level, int):
            return level
        by_id = {str(r["Id"]): r for r in remotes}
        depth, current = 0, remote
        while ref_value(current.get("ParentRef")) and depth < MAX_LEVELS:
            current = by_id.get(ref_value(current["ParentRef"])) or {}
            depth += 1
        return depth

    def map_remote(self, remote, lookups):
        """A QBO Customer mapped for the binding's triage."""
        vals = self.to_odoo(remote, lookups)
        return Triaged(remote, vals, values_digest(vals, ref_value(remote.get("ParentRef"))))

    def cancel_note(self, reason):
        return self.env._("Deleted in QuickBooks Online: archived.")

    def cancel(self, partners, note):
        """Deleted in QuickBooks (customers are only ever made inactive there): archived."""
        partners.write({"active": False})
        for partner in partners:
            partner._message_log(body=note)

    def to_odoo(self, remote, lookups=None):
        """Contact values of a QBO Customer. ``lookups`` resolves codes to ids without I/O
        (:class:`~.common.Lookups`: countries, states, default_country). The parent
        (ParentRef) is resolved by the importer."""
        lookups = lookups or Lookups()
        display = (remote.get("DisplayName") or "").strip()
        company = (remote.get("CompanyName") or "").strip()
        person = " ".join(
            p for p in (remote.get("GivenName"), remote.get("FamilyName")) if p
        ).strip()
        name = display or company or person or str(remote["Id"])
        parent = ref_value(remote.get("ParentRef"))
        vals = {
            "name": name,
            "is_company": bool(company) and not parent and name == company,
            "email": (remote.get("PrimaryEmailAddr") or {}).get("Address") or False,
            "phone": (remote.get("PrimaryPhone") or {}).get("FreeFormNumber") or False,
            "mobile": (remote.get("Mobile") or {}).get("FreeFormNumber") or False,
            "website": (remote.get("WebAddr") or {}).get("URI") or False,
            "comment": remote.get("Notes") or False,
            "active": remote.get("Active", True) is not False,
            "customer_rank": 1,
        }
        if parent:
            # A sub-customer keeps its own address (a 'contact' child copies its parent's).
            vals["type"] = "other"
        vals.update(self.address_values(remote.get("BillAddr") or {}, lookups))
        currency_id = (lookups.currencies or {}).get(ref_value(remote.get("CurrencyRef")))
        if currency_id:
            vals["qbo_currency_id"] = currency_id
        # QuickBooks' Primary Email may hold several addresses (the CC emails we wrote): the
        # first is the contact's email, the others its CC emails.
        emails = split_emails(vals["email"] or "")
        if len(emails) > 1:
            vals["email"] = emails[0]
            vals["qbo_cc_emails"] = ", ".join(emails[1:])
        return vals

    def address_values(self, addr, lookups):
        if not addr:
            return {}
        extra = [addr.get(f"Line{i}") for i in range(2, 6)]
        country_id = lookups.countries.get(country_code(addr.get("Country")))
        if not country_id and addr.get("CountrySubDivisionCode"):
            country_id = lookups.default_country
        state_code = (addr.get("CountrySubDivisionCode") or "").strip().upper()
        state_id = lookups.states.get((country_id, state_code)) if country_id else None
        return {
            "street": addr.get("Line1") or False,
            "street2": ", ".join(x for x in extra if x) or False,
            "city": addr.get("City") or False,
            "zip": addr.get("PostalCode") or False,
            "country_id": country_id or False,
            "state_id": state_id or False,
        }

    def to_qbo(self, partner, sync_cc_emails):
        """The QBO Customer fields of this contact (create or sparse update body, without Id
        and SyncToken). ``sync_cc_emails``: the page's setting ('yes'/'no')."""
        partner.ensure_one()
        name = (partner.qbo_display_name or partner.name or "").strip() or partner.display_name
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
        if partner.is_company:
            body["CompanyName"] = name[:100]
        elif partner.parent_id and partner.parent_id.is_company:
            body["CompanyName"] = (partner.parent_id.name or "")[:100]
        if partner.phone:
            body["PrimaryPhone"] = {"FreeFormNumber": partner.phone[:30]}
        if partner.mobile:
            body["Mobile"] = {"FreeFormNumber": partner.mobile[:30]}
        if partner.website:
            body["WebAddr"] = {"URI": partner.website[:1000]}
        address = {
            "Line1": partner.street or "",
            "Line2": partner.street2 or "",
            "City": partner.city or "",
            "CountrySubDivisionCode": partner.state_id.code or "",
            "PostalCode": partner.zip or "",
            "Country": partner.country_id.code or "",
        }
        if any(address.values()):
            body["BillAddr"] = {k: v for k, v in address.items() if v}
        if sync_cc_emails == "yes":
            email = self.email_address(partner)
            if email:
                body["PrimaryEmailAddr"] = {"Address": email}
        return body

    def email_address(self, partner):
        """The email and the CC emails, comma separated; QboPushProblem when QuickBooks
        cannot hold them (never cut silently)."""
        partner.ensure_one()
        emails = split_emails(partner.email) + split_emails(partner.qbo_cc_emails)
        text = ", ".join(dict.fromkeys(emails))
        if len(text) > EMAIL_MAX:
            raise QboPushProblem(
                self.env._(
                    "The email and CC emails of %(name)s are %(length)s characters long "
                    "(%(emails)s); QuickBooks Online accepts %(max)s at most in the customer's "
                    "Primary Email. Remove some CC emails, or set Sync CC Emails to No.",
                    name=partner.display_name,
                    length=len(text),
                    emails=text,
                    max=EMAIL_MAX,
                ),
                code="email_length",
            )
        return text
