"""What the parts of the sync share: the commit policy and the base of the engines."""

from odoo import modules, tools


def can_commit():
    """Commit only outside tests (TransactionCase and HttpCase forbid it)."""
    return not tools.config["test_enable"] and not modules.module.current_test


def commit(env):
    """Commit (outside tests) or flush: a sync commits page by page, a push chunk by chunk."""
    if can_commit():
        env.cr.commit()  # pylint: disable=invalid-commit  # page by page, see sync/pull.py
    else:
        env.flush_all()


class Engine:
    """The base of the engines: they work for one connection (a record, not a model)."""

    def __init__(self, connection):
        self.conn = connection
        self.env = connection.env

    def commit(self):
        commit(self.env)

    def can_commit(self):
        return can_commit()
