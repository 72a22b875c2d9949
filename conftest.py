"""Repository-wide pytest setup (loaded before pytest-odoo configures Odoo)."""

import logging


class _EarlyTestFrameworkImport(logging.Filter):
    """pytest-odoo imports ``odoo.tests`` while it configures Odoo, before anything could set
    Odoo's test mode, and Odoo logs that import as an ERROR with a stack trace. These are
    tests, so that one record is noise; every other record goes through."""

    def filter(self, record):
        return not record.getMessage().startswith("Importing test framework, avoid importing")


logging.getLogger("odoo.tests.common").addFilter(_EarlyTestFrameworkImport())

# The longest test files first: with one pytest worker per core (scripts/test.sh, a file per
# worker), a long file started last would leave the other cores idle at the end of the suite.
SLOW_FIRST = (
    "test_run_model_prefork.py",
    "test_ui_tour.py",
    "test_push_crash.py",
    "test_ui_tour_live.py",
    "test_sync_live_prefork.py",
    "test_tax_models.py",
    "test_push_invoice.py",
    "test_sync_engine.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: position for position, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))
