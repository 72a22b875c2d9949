"""QuickBooks Online tax rates and tax codes of a connection, and their Odoo taxes.

QuickBooks taxes a line with a TaxCode (outside the US) or TAX/NON plus the transaction's code
(in the US); a code is one rate or a group of rates (GST + PST, state + county). Odoo taxes a
line with taxes, one per rate. The mapping is kept per **rate**: each QuickBooks rate has one
Odoo sale tax of its percentage, suggested automatically (an existing tax of that percentage,
else one created from the company's default sale tax), changeable on the page. A code's Odoo
taxes are the taxes of its rates, in QuickBooks' order.
"""

from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import float_compare

from ..tools.qbo_tax import Rate, TaxCode
from ..tools.qbo_values import to_decimal


def cached(model, connection, qbo_ids):
    """{qbo id: record} of the cache records (archived included) of these QuickBooks ids."""
    records = model.with_context(active_test=False).search(
        [("connection_id", "=", connection.id), ("qbo_id", "in", [str(i) for i in qbo_ids])]
    )
    return {record.qbo_id: record for record in records}


class QboTaxRate(models.Model):
    _name = "biller_genie_qbo.tax.rate"
    _inherit = "biller_genie_qbo.list.entity"
    _description = "QuickBooks Online Tax Rate"
    _order = "name, id"

    percent = fields.Float("Rate (%)", digits=(16, 4))
    agency = fields.Char("Tax Agency")
    tax_id = fields.Many2one(
        "account.tax",
        string="Odoo Tax",
        check_company=True,
        ondelete="set null",
        domain="[('type_tax_use', '=', 'sale'), ('amount_type', '=', 'percent')]",
        help="The Odoo sale tax that stands for this QuickBooks rate, both ways: imported "
        "lines taxed at this rate get it, and Odoo lines with it are sent with the QuickBooks "
        "code of this rate. Suggested automatically by percentage.",
    )

    _sql_constraints = [
        (
            "qbo_id_uniq",
            "unique(connection_id, qbo_id)",
            "This QuickBooks tax rate is known already.",
        )
    ]

    @api.constrains("tax_id", "percent")
    def _check_tax_percent(self):
        for rate in self.filtered("tax_id"):
            if float_compare(rate.tax_id.amount, rate.percent, precision_digits=4):
                raise ValidationError(
                    self.env._(
                        "%(tax)s is a tax of %(tax_percent)s%%, QuickBooks' rate %(rate)s is "
                        "%(percent)s%%: map a tax of the same percentage.",
                        tax=rate.tax_id.name,
                        tax_percent=rate.tax_id.amount,
                        rate=rate.name,
                        percent=rate.percent,
                    )
                )

    def write(self, vals):
        # Users choose the Odoo tax; what QuickBooks says about the rate is the engine's.
        if not (self.env.su or self.env.is_system()) and set(vals) - {"tax_id"}:
            raise AccessError(self.env._("Only the Odoo tax of a QuickBooks rate can be changed."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Import (QuickBooks -> cache), one batch
    # ------------------------------------------------------------------
    @api.model
    def _qbo_store(self, connection, remotes):
        """Create or update the rates of ``remotes`` (TaxRate entities); returns them."""
        existing = cached(self, connection, [r["Id"] for r in remotes])
        to_create = []
        for remote in remotes:
            vals = {
                "name": remote.get("Name") or remote["Id"],
                "percent": float(to_decimal(remote.get("RateValue"), Decimal(0))),
                "agency": (remote.get("AgencyRef") or {}).get("name") or False,
                "active": remote.get("Active", True),
            }
            rate = existing.get(str(remote["Id"]))
            if rate:
                changed = {k: v for k, v in vals.items() if rate[k] != v}
                if changed:
                    rate.write(changed)
            else:
                to_create.append(dict(vals, connection_id=connection.id, qbo_id=str(remote["Id"])))
        created = self.create(to_create) if to_create else self.browse()
        return self.browse([r.id for r in existing.values()]) | created

    @api.model
    def _qbo_ensure(self, connection, rates):
        """The records of the pure ``rates`` a document names, created from the document when
        QuickBooks' list did not have them (an Automated Sales Tax jurisdiction, say); each
        one with its Odoo tax. Returns {rate key: record}."""
        keys = [rate.key for rate in rates]
        known = cached(self, connection, keys)
        missing = {rate.key: rate for rate in rates if rate.key not in known}
        if missing:
            created = self.create(
                [
                    {
                        "connection_id": connection.id,
                        "qbo_id": rate.key,
                        "name": rate.name or f"{rate.percent.normalize()}%",
                        "percent": float(rate.percent),
                    }
                    for rate in missing.values()
                ]
            )
            known.update({record.qbo_id: record for record in created})
        records = self.browse([known[key].id for key in keys])
        records.filtered(lambda r: not r.tax_id)._qbo_suggest_taxes()
        return {record.qbo_id: record for record in records}

    # ------------------------------------------------------------------
    # Odoo taxes
    # ------------------------------------------------------------------
    def _qbo_suggest_taxes(self):
        """Map each unmapped rate to an Odoo sale tax of its percentage: an existing one (its
        name closest to the rate's), else a new one booked on the accounts of the company's
        default sale tax. A 0 % rate maps to a 0 % tax when there is one, else stays unmapped
        (the line is untaxed, which is what 0 % means)."""
        Tax = self.env["account.tax"].sudo()
        for rate in self.filtered(lambda r: not r.tax_id):
            company = rate.company_id
            candidates = Tax.search(
                [
                    *Tax._check_company_domain(company),
                    ("company_id", "=", company.id),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                    ("price_include", "=", False),
                    ("amount", "=", rate.percent),
                ]
            )
            if candidates:
                named = candidates.filtered(lambda t, r=rate: r.name.lower() in t.name.lower())
                rate.tax_id = (named or candidates)[:1]
            elif rate.percent:
                rate.tax_id = rate._qbo_create_tax()

    def _qbo_create_tax(self):
        """A sale tax of this rate's percentage, booked like the company's default sale tax
        (none when the company has no sale tax to copy the accounts of: a tax without them
        would book the tax on the income account; the user maps one on the page)."""
        self.ensure_one()
        company = self.company_id
        Tax = self.env["account.tax"].sudo()
        model = company.account_sale_tax_id.filtered("active") or Tax.search(
            [
                *Tax._check_company_domain(company),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
            ],
            limit=1,
        )
        if not model:
            return Tax
        return self._qbo_new_tax(model)

    def _qbo_new_tax(self, model):
        """A sale tax of this rate's percentage, made like ``model`` (accounts, country)."""
        self.ensure_one()
        company = self.company_id
        percent = Decimal(str(self.percent)).normalize()
        vals = {
            "name": self.env._("%(name)s (QuickBooks)", name=self.name),
            "description": f"{format(percent, 'f')}%",
            "amount": self.percent,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": company.id,
        }
        vals["tax_group_id"] = self._qbo_tax_group(percent, model.tax_group_id).id
        for field in ("invoice_repartition_line_ids", "refund_repartition_line_ids"):
            vals[field] = [
                fields.Command.create(
                    {
                        "repartition_type": line.repartition_type,
                        "factor_percent": line.factor_percent,
                        "account_id": line.account_id.id,
                    }
                )
                for line in model[field]
            ]
        return self.env["account.tax"].sudo().create(vals)

    def _qbo_tax_group(self, percent, model_group):
        """The tax group "Tax <percent>%" of the company (Odoo shows a tax under its group's
        name: an 8.25 % tax must not be shown as "Tax 15%"), made like ``model_group``."""
        name = self.env._("Tax %(percent)s%%", percent=format(percent, "f"))
        Group = self.env["account.tax.group"].sudo()
        group = Group.search(
            [("company_id", "=", self.company_id.id), ("name", "=", name)], limit=1
        )
        return group or Group.create(
            {
                "name": name,
                "company_id": self.company_id.id,
                "country_id": model_group.country_id.id,
                "tax_payable_account_id": model_group.tax_payable_account_id.id,
                "tax_receivable_account_id": model_group.tax_receivable_account_id.id,
            }
        )


class QboTaxCode(models.Model):
    _name = "biller_genie_qbo.tax.code"
    _inherit = "biller_genie_qbo.list.entity"
    _description = "QuickBooks Online Tax Code"
    _order = "name, id"

    description = fields.Char()
    taxable = fields.Boolean(default=True)
    is_group = fields.Boolean("Group of Rates")
    rate_ids = fields.Many2many(
        "biller_genie_qbo.tax.rate",
        string="QuickBooks Rates",
        help="The rates of this code, in QuickBooks' order.",
    )
    rate_order = fields.Json(help="QuickBooks' order and kind of each rate (TaxOrder, TaxOnTax).")
    tax_ids = fields.Many2many(
        "account.tax",
        string="Odoo Taxes",
        compute="_compute_tax_ids",
        help="The Odoo taxes of this code's rates.",
    )

    _sql_constraints = [
        (
            "qbo_id_uniq",
            "unique(connection_id, qbo_id)",
            "This QuickBooks tax code is known already.",
        )
    ]

    @api.depends("rate_ids.tax_id")
    def _compute_tax_ids(self):
        for code in self:
            code.tax_ids = code.rate_ids.tax_id

    @api.model
    def _qbo_store(self, connection, remotes, rates):
        """Create or update the codes of ``remotes`` (TaxCode entities), ``rates`` being the
        connection's rate records {qbo id: record}; returns them."""
        existing = cached(self, connection, [r["Id"] for r in remotes])
        to_create = []
        for remote in remotes:
            details = ((remote.get("SalesTaxRateList") or {}).get("TaxRateDetail")) or []
            rate_ids = [
                rates[str(d["TaxRateRef"]["value"])].id
                for d in details
                if str((d.get("TaxRateRef") or {}).get("value")) in rates
            ]
            vals = {
                "name": remote.get("Name") or remote["Id"],
                "description": remote.get("Description") or False,
                "active": remote.get("Active", True),
                "taxable": remote.get("Taxable", True),
                "is_group": bool(remote.get("TaxGroup")),
                "rate_ids": [fields.Command.set(rate_ids)],
                "rate_order": [
                    {
                        "rate": str((d.get("TaxRateRef") or {}).get("value")),
                        "order": d.get("TaxOrder", 0),
                        "on_tax": d.get("TaxTypeApplicable") == "TaxOnTax",
                    }
                    for d in details
                ],
            }
            code = existing.get(str(remote["Id"]))
            if code:
                code.write(vals)
            else:
                to_create.append(dict(vals, connection_id=connection.id, qbo_id=str(remote["Id"])))
        created = self.create(to_create) if to_create else self.browse()
        return self.browse([c.id for c in existing.values()]) | created

    def _qbo_pure(self):
        """{qbo id: :class:`TaxCode`} of these codes, for :class:`~..tools.qbo_tax.DocumentTax`."""
        out = {}
        for code in self:
            by_id = {rate.qbo_id: rate for rate in code.rate_ids}
            order = {o["rate"]: o for o in code.rate_order or []}
            rates = []
            for rate_id, info in sorted(order.items(), key=lambda kv: kv[1].get("order", 0)):
                record = by_id.get(rate_id)
                if record:
                    rates.append(
                        Rate(
                            key=record.qbo_id,
                            percent=Decimal(str(record.percent)),
                            name=record.name,
                            tax_on_tax=bool(info.get("on_tax")),
                            order=int(info.get("order") or 0),
                        )
                    )
            out[code.qbo_id] = TaxCode(id=code.qbo_id, name=code.name, rates=tuple(rates))
        return out
