"""EmulatorControl: a small requests-based client of the emulator's control API."""

from __future__ import annotations

import requests


class ControlError(Exception):
    pass


class EmulatorControl:
    def __init__(self, base_url: str, timeout: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def _call(self, method, path, body=None):
        r = self.http.request(
            method, f"{self.base_url}/_emulator/{path}", json=body, timeout=self.timeout
        )
        try:
            data = r.json()
        except ValueError:
            data = {"raw": r.text}
        if r.status_code != 200:
            raise ControlError(f"{method} {path} -> {r.status_code}: {data}")
        return data

    # realms / data
    def health(self):
        return self._call("GET", "health")

    def reset(self):
        return self._call("POST", "reset")

    def realms(self):
        return self._call("GET", "realms")["realms"]

    def create_realm(self, seed="demo", realm_id=None, company_name=None, **options):
        """seed: demo | none | us_ast | us_manual | ca | uk | au | mc; options: tax_mix (demo),
        invoices / payments (tax-model companies)."""
        body = {"seed": seed, **options}
        if realm_id:
            body["realm_id"] = realm_id
        if company_name:
            body["company_name"] = company_name
        return self._call("POST", "realms", body)["realm_id"]

    def generate(
        self,
        realm_id,
        customers=0,
        items=0,
        invoices=0,
        payments=0,
        bundle_ratio=0.1,
        lines_per_invoice=3,
        seed=1,
        **options,
    ):
        """options: tax_mix (bool), spread_days (int)."""
        return self._call(
            "POST",
            f"realms/{realm_id}/generate",
            {
                **options,
                "customers": customers,
                "items": items,
                "invoices": invoices,
                "payments": payments,
                "bundle_ratio": bundle_ratio,
                "lines_per_invoice": lines_per_invoice,
                "seed": seed,
            },
        )

    def create_entity(self, realm_id, entity, data):
        return self._call("POST", f"realms/{realm_id}/entities/{entity}", data)

    def edit_entity(self, realm_id, entity, entity_id, changes):
        return self._call(
            "POST", f"realms/{realm_id}/entities/{entity}/{entity_id}", {"changes": changes}
        )

    def delete_entity(self, realm_id, entity, entity_id):
        return self._call("POST", f"realms/{realm_id}/entities/{entity}/{entity_id}/delete")

    def void_entity(self, realm_id, entity, entity_id):
        return self._call("POST", f"realms/{realm_id}/entities/{entity}/{entity_id}/void")

    def entities(self, realm_id, entity):
        return self._call("GET", f"realms/{realm_id}/entities/{entity}")[entity]

    def entity(self, realm_id, entity, entity_id):
        return self._call("GET", f"realms/{realm_id}/entities/{entity}/{entity_id}")

    def metering(self, realm_id, allowance=..., metered=None, reset=False):
        """This month's metered / free / failed calls of the realm; optionally set the
        allowance (None = unlimited), the metered count, or reset."""
        body = {}
        if allowance is not ...:
            body["allowance"] = allowance
        if metered is not None:
            body["metered"] = metered
        if reset:
            body["reset"] = True
        if not body:
            return self._call("GET", f"realms/{realm_id}/metering")
        return self._call("POST", f"realms/{realm_id}/metering", body)

    def metering_all(self):
        """{"month", "workspace": {metered, free, failed} summed over realms, "realms": {…}}."""
        return self._call("GET", "metering")

    def exchange_rates(self, realm_id, rates):
        """rates: {"EUR": {"2026-01-01": "1.10"}} (to the home currency)."""
        return self._call("POST", f"realms/{realm_id}/exchange_rates", rates)

    def file(self, realm_id, attachable_id):
        return self._call("GET", f"files/{realm_id}/{attachable_id}")

    def save_realm(self, realm_id):
        """Keep a copy of the company as it is now (restore_realm brings it back)."""
        return self._call("POST", f"realms/{realm_id}/save")

    def restore_realm(self, realm_id):
        """The company as save_realm kept it (same id; the clock and tokens go on)."""
        return self._call("POST", f"realms/{realm_id}/restore")

    def set_preferences(self, realm_id, **prefs):
        return self._call("POST", f"realms/{realm_id}/preferences", prefs)

    # oauth
    def consent(self, realm_id=None, deny=False):
        return self._call("POST", "consent", {"realm_id": realm_id, "deny": deny})

    def revoke_realm(self, realm_id):
        return self._call("POST", f"realms/{realm_id}/revoke")

    def expire_access_tokens(self, realm_id=None):
        return self._call(
            "POST", "expire_access_tokens", {"realm_id": realm_id} if realm_id else {}
        )

    def hard_expiry(self, realm_id, seconds):
        return self._call("POST", f"realms/{realm_id}/hard_expiry", {"seconds": seconds})

    def add_app(self, client_id, client_secret):
        return self._call("POST", "apps", {"client_id": client_id, "client_secret": client_secret})

    # faults / throttle / clock
    def fault(self, kind, count=1, path_contains=None, delay=None, after=0, body_contains=None):
        body = {"kind": kind, "count": count}
        if after:
            body["after"] = after
        if path_contains:
            body["path_contains"] = path_contains
        if body_contains:
            body["body_contains"] = body_contains
        if delay is not None:
            body["delay"] = delay
        return self._call("POST", "faults", body)

    def random_faults(self, rate, kinds=None, seed=None, delay=None):
        body = {"rate": rate, "seed": seed}
        if kinds:
            body["kinds"] = kinds
        if delay is not None:
            body["delay"] = delay
        return self._call("POST", "faults/random", body)

    def clear_faults(self):
        return self._call("DELETE", "faults")

    def faults(self):
        return self._call("GET", "faults")

    def throttle(self, per_second=None, per_minute=None, enabled=None, batch_per_minute=None):
        body = {
            k: v
            for k, v in (
                ("per_second", per_second),
                ("per_minute", per_minute),
                ("enabled", enabled),
                ("batch_per_minute", batch_per_minute),
            )
            if v is not None
        }
        return self._call("POST", "throttle", body)

    def advance_clock(self, seconds):
        return self._call("POST", "clock", {"advance_seconds": seconds})

    def clock(self):
        return self._call("GET", "clock")

    def counters(self):
        return self._call("GET", "counters")

    def reset_counters(self):
        """Clears the counters and the query log."""
        return self._call("POST", "counters/reset")

    def queries(self, realm_id=None):
        """The text of every API query since the last reset, in order (of one realm)."""
        rows = self._call("GET", "queries")["queries"]
        return [text for realm, text in rows if realm_id in (None, realm)]

    def latency(self, seconds):
        """Every API request waits ``seconds`` first (a slow QuickBooks)."""
        return self._call("POST", "latency", {"seconds": seconds})

    # webhooks / snapshot
    def webhooks(
        self,
        url=None,
        format=None,
        verifier_token=None,
        aggregation_seconds=None,
        enabled=None,
        time_factor=None,
        max_attempts=None,
    ):
        body = {
            k: v
            for k, v in (
                ("url", url),
                ("format", format),
                ("verifier_token", verifier_token),
                ("aggregation_seconds", aggregation_seconds),
                ("enabled", enabled),
                ("time_factor", time_factor),
                ("max_attempts", max_attempts),
            )
            if v is not None
        }
        return self._call("POST", "webhooks", body)

    def deliveries(self):
        return self._call("GET", "webhooks/deliveries")["deliveries"]

    def flush_webhooks(self, timeout=5.0):
        return self._call("POST", "webhooks/flush", {"timeout": timeout})["flushed"]

    def snapshot(self, path=None):
        return self._call("POST", "snapshot", {"path": path} if path else {})["path"]
