"""The server-side validation of the QuickBooks Online page's settings (a clear message for
each, whatever client writes them: the page, JSON-RPC, an import)."""

from odoo.exceptions import ValidationError

from .. import const

PO_ITEM_TYPES_REFUSED = ("Group", "Category")  # bundles and categories carry no line


def check_page_settings(connections):
    for conn in connections:
        _check_days(conn)
        _check_commodity_code(conn)
        _check_po_item(conn)


def _check_days(conn):
    days = conn.last_success_notification_days
    if not 0 <= days <= const.NOTIFICATION_DAYS_MAX:
        raise ValidationError(
            conn.env._(
                "Last Successful Sync Notification: enter a number of days from 0 (no "
                "notification) to %(max)s, not %(days)s.",
                max=const.NOTIFICATION_DAYS_MAX,
                days=days,
            )
        )


def _check_commodity_code(conn):
    code = conn.commodity_code or ""
    if code and not const.COMMODITY_CODE_RE.fullmatch(code):
        raise ValidationError(
            conn.env._(
                "Commodity Code: at most %(max)s letters, digits, dots or dashes, with no space "
                "(it is written on the QuickBooks line as 'Commodity Code: <code>' and read "
                "back from there).",
                max=const.COMMODITY_CODE_MAX,
            )
        )


def _check_po_item(conn):
    item = conn.po_number_item_id
    if item and (item.item_type in PO_ITEM_TYPES_REFUSED or item.connection_id != conn):
        raise ValidationError(
            conn.env._(
                "Invoice PO Number Field: %(item)s is a bundle or a category; choose a service "
                "or product item of this QuickBooks company.",
                item=item.name,
            )
        )
