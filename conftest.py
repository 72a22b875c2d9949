"""Repository-wide pytest setup (loaded before pytest-odoo configures Odoo)."""

import logging


class _EarlyTestFrameworkImport(logging.Filter):
    """pytest-odoo imports ``odoo.tests`` while it configures Odoo, before anything could set
    Odoo's test mode, and Odoo logs that import as an ERROR with a stack trace. These are
    tests, so that one record is noise; every other record goes through."""

    def filter(self, record):
        return not record.getMessage().startswith("Importing test framework, avoid importing")


logging.getLogger("odoo.tests.common").addFilter(_EarlyTestFrameworkImport())
