"""Local emulator of the QuickBooks Online Accounting API, OAuth 2.0 and webhooks.

A development tool (tests, demo, benchmarks); not part of the Odoo addon.
"""

from .control import EmulatorControl
from .server import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_REALM_ID,
    VERIFIER_TOKEN,
    Emulator,
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEMO_REALM_ID",
    "VERIFIER_TOKEN",
    "Emulator",
    "EmulatorControl",
]
