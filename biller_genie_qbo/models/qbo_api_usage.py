"""The billed-call meter: QuickBooks API calls per connection per day, by Intuit's class.

The clients count every call in memory (tools/qbo_meter.py); :meth:`QboApiUsage._qbo_flush`
writes the counts with the run (one upsert per connection and day, right before the run
commits), so metering costs no query per call. Intuit's App Partner Program bills "CorePlus"
calls (reads, queries, CDC, batch) per developer workspace: the free Builder tier blocks them
above 500,000 a month (API_FACTS §9).
"""

import calendar
import logging
from datetime import datetime, time, timedelta

import psycopg2

from odoo import api, fields, models

from .. import const
from ..sync import notices
from ..tools import qbo_meter

_logger = logging.getLogger(__name__)

ACTIVITY_METER = "biller_genie_qbo.mail_activity_type_qbo_meter"
WARN_LEVELS = (90, 70)  # per cent of the monthly allowance, highest first
# The workspace's total is checked against the allowance at most this often per process (a
# polling tick then costs one query for the meter: its upsert).
ALLOWANCE_CHECK_SECONDS = 600
METER_FIELDS = [
    "qbo_meter_metered",
    "qbo_meter_forecast",
    "qbo_meter_share",
    "qbo_meter_workspace",
    "qbo_meter_summary",
]


def month_bounds(now):
    """(first day, first day of next month, days in month) of ``now``'s UTC month."""
    first = now.date().replace(day=1)
    days = calendar.monthrange(first.year, first.month)[1]
    return first, first + timedelta(days=days), days


class QboApiUsage(models.Model):
    _name = "biller_genie_qbo.api.usage"
    _description = "QuickBooks Online API Calls per Day"
    _order = "day desc, id desc"
    _check_company_auto = True

    connection_id = fields.Many2one(
        "biller_genie_qbo.connection", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    day = fields.Date(required=True, readonly=True, help="The UTC day of the calls.")
    metered = fields.Integer(
        "Metered Calls",
        readonly=True,
        help="CorePlus calls, billed by Intuit: reads, queries, change data capture, batch.",
    )
    free = fields.Integer(
        "Free Calls", readonly=True, help="Core calls, not billed: creates, updates, deletes."
    )
    failed = fields.Integer(
        "Failed Calls",
        readonly=True,
        help="Calls that QuickBooks refused or did not answer (not billed).",
    )
    oauth = fields.Integer(
        "Authorization Calls", readonly=True, help="Calls to Intuit's OAuth endpoints (not billed)."
    )

    _sql_constraints = [
        ("day_uniq", "unique(connection_id, day)", "One row per connection and day."),
    ]

    @api.model
    def _qbo_allowance(self):
        value = self.env["ir.config_parameter"].sudo().get_param(const.PARAM_METER_ALLOWANCE)
        try:
            return max(int(value), 1) if value else const.METER_ALLOWANCE
        except ValueError:
            return const.METER_ALLOWANCE

    @api.model
    def _qbo_flush(self):
        """Write the buffered counts of this database (one upsert per connection and day).
        A write that conflicts with another transaction's, or that is rolled back later,
        puts its counts back: they go with the next run. Returns the connections written."""
        cr = self.env.cr
        dbname = cr.dbname
        taken = qbo_meter.drain(dbname)
        if not taken:
            return self.env["biller_genie_qbo.connection"]
        written = {}
        for (conn_id, day), counts in taken.items():
            try:
                with cr.savepoint(flush=False):
                    cr.execute(
                        """INSERT INTO biller_genie_qbo_api_usage
                                (connection_id, company_id, day, metered, free, failed, oauth,
                                 create_uid, create_date, write_uid, write_date)
                           SELECT c.id, c.company_id, %(day)s, %(metered)s, %(free)s,
                                  %(failed)s, %(oauth)s, %(uid)s, now() at time zone 'UTC',
                                  %(uid)s, now() at time zone 'UTC'
                             FROM biller_genie_qbo_connection c WHERE c.id = %(conn)s
                      ON CONFLICT (connection_id, day) DO UPDATE SET
                                metered = biller_genie_qbo_api_usage.metered + EXCLUDED.metered,
                                free = biller_genie_qbo_api_usage.free + EXCLUDED.free,
                                failed = biller_genie_qbo_api_usage.failed + EXCLUDED.failed,
                                oauth = biller_genie_qbo_api_usage.oauth + EXCLUDED.oauth,
                                write_date = EXCLUDED.write_date""",
                        {
                            "conn": conn_id,
                            "day": day,
                            "uid": self.env.uid,
                            **{cls: counts.get(cls, 0) for cls in qbo_meter.CLASSES},
                        },
                    )
                written[(conn_id, day)] = counts
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
                qbo_meter.restore(dbname, {(conn_id, day): counts})
        if written:
            # Rolled back after all (a failed page, a crash): the counts wait for the next run.
            cr.postrollback.add(lambda: qbo_meter.restore(dbname, written))
            self.invalidate_model()
        conns = self.env["biller_genie_qbo.connection"].sudo().browse({c for c, _d in written})
        conns.invalidate_recordset(METER_FIELDS)
        if qbo_meter.check_due(dbname, ALLOWANCE_CHECK_SECONDS):
            self._qbo_check_allowance(conns.exists())
        return conns

    @api.model
    def _qbo_month_totals(self, connections, now=None):
        """{connection id: (metered this month, first day with calls)} and the workspace's
        total (every connection of this database: Intuit meters the app's workspace)."""
        first, end, _days = month_bounds(now or fields.Datetime.now())
        self.flush_model()
        self.env.cr.execute(
            """SELECT connection_id, SUM(metered), MIN(day) FROM biller_genie_qbo_api_usage
                WHERE day >= %s AND day < %s GROUP BY connection_id""",
            [first, end],
        )
        rows = {conn_id: (total or 0, day) for conn_id, total, day in self.env.cr.fetchall()}
        workspace = sum(total for total, _day in rows.values())
        return {c.id: rows.get(c.id, (0, None)) for c in connections}, workspace

    @api.model
    def _qbo_forecast(self, metered, first_day, now=None):
        """Month-end forecast at the pace since the first day with calls this month."""
        now = now or fields.Datetime.now()
        first, _end, days = month_bounds(now)
        if not metered:
            return 0
        since = datetime.combine(max(first_day or first, first), time.min)
        elapsed = max((now - since).total_seconds(), 3600.0)  # at least an hour's pace
        month_end = datetime.combine(first, time.min) + timedelta(days=days)
        remaining = max((month_end - now).total_seconds(), 0.0)
        return round(metered + metered * remaining / elapsed)

    @api.model
    def _qbo_check_allowance(self, connections):
        """70% and 90% of the monthly allowance used by the workspace: one warning activity
        per level per month on each connection (the level and month are remembered)."""
        connections = connections.filtered(lambda c: c.state == "connected")
        if not connections:
            return
        now = fields.Datetime.now()
        month = now.strftime("%Y-%m")
        _totals, workspace = self._qbo_month_totals(connections, now)
        allowance = self._qbo_allowance()
        share = 100.0 * workspace / allowance
        level = next((lvl for lvl in WARN_LEVELS if share >= lvl), None)
        if level is None:
            return
        mark = f"{month}:{level}"
        for conn in connections.sudo():
            warned = conn.qbo_meter_warned or ""
            if warned.startswith(month + ":") and int(warned.split(":")[1]) >= level:
                continue
            conn.qbo_meter_warned = mark
            self._qbo_warn(conn, level, workspace, allowance)

    @api.model
    def _qbo_warn(self, conn, level, workspace, allowance):
        """The workspace used ``level`` per cent of the month's allowance: one activity (the
        one of a lower level is closed) and a message to the managers."""
        conn.activity_feedback([ACTIVITY_METER], feedback=self.env._("A higher level was reached."))
        used, limit = f"{workspace:,}", f"{allowance:,}"  # literals only in _() (babel)
        notices.Notices(conn).notify_managers(
            ACTIVITY_METER,
            summary=self.env._(
                "QuickBooks Online: %(level)s%% of the monthly API allowance used", level=level
            ),
            body=self.env._(
                "The QuickBooks Online connections of this Odoo used %(used)s of the "
                "%(allowance)s metered API calls Intuit allows the app this month (%(level)s%%). "
                "Above the allowance Intuit blocks the reads and QuickBooks shows the app as "
                "offline until the next month. Turn webhooks on, lengthen the safety-net "
                "polling, or move the Intuit app to a paid tier.",
                used=used,
                allowance=limit,
                level=level,
            ),
        )

    @api.model
    def _qbo_page_figures(self, connections):
        """The page's figures (the connection's ``qbo_meter_*`` fields): this month's metered
        calls, the month-end forecast, the share of the allowance, the workspace's total."""
        now = fields.Datetime.now()
        totals, workspace = self._qbo_month_totals(connections, now)
        allowance = self._qbo_allowance()
        for conn in connections:
            metered, first_day = totals[conn.id]
            forecast = self._qbo_forecast(metered, first_day, now)
            share = 100.0 * metered / allowance
            shown = {  # formatted outside _(): babel extracts literals only
                "metered": f"{metered:,}",
                "share": f"{share:.1f}",
                "allowance": f"{allowance:,}",
                "forecast": f"{forecast:,}",
            }
            conn.update(
                {
                    "qbo_meter_metered": metered,
                    "qbo_meter_forecast": forecast,
                    "qbo_meter_share": share,
                    "qbo_meter_workspace": workspace,
                    "qbo_meter_allowance": allowance,
                    "qbo_meter_summary": self.env._(
                        "%(metered)s metered calls this month (%(share)s%% of the %(allowance)s "
                        "allowance), about %(forecast)s by the end of the month.",
                        metered=shown["metered"],
                        share=shown["share"],
                        allowance=shown["allowance"],
                        forecast=shown["forecast"],
                    ),
                }
            )
