"""JSON-RPC against an Odoo server, exactly as the web client sends it."""

from __future__ import annotations

import itertools

import requests


class RpcError(Exception):
    """An error answered by Odoo (its JSON-RPC ``error`` object in ``data``)."""

    def __init__(self, error):
        self.data = error or {}
        data = self.data.get("data") or {}
        self.name = data.get("name") or ""
        super().__init__(data.get("message") or self.data.get("message") or str(error))


class RpcSession:
    """A logged-in browser session: ``/web/session/authenticate``, then ``call_kw`` and
    ``call_button`` with the session cookie, as the web client does."""

    def __init__(self, base_url, db, login="admin", password="admin", timeout=60):
        self.base_url = base_url.rstrip("/")
        self.db = db
        self.http = requests.Session()
        self.timeout = timeout
        self._ids = itertools.count(1)
        self.context = {}
        info = self.call("/web/session/authenticate", db=db, login=login, password=password)
        self.uid = info["uid"]
        self.context = dict(info.get("user_context") or {})

    def call(self, route, **params):
        payload = {"jsonrpc": "2.0", "method": "call", "id": next(self._ids), "params": params}
        response = self.http.post(self.base_url + route, json=payload, timeout=self.timeout)
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise RpcError(body["error"])
        return body.get("result")

    def call_kw(self, model, method, *args, **kwargs):
        kwargs.setdefault("context", self.context)
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            model=model,
            method=method,
            args=list(args),
            kwargs=kwargs,
        )

    def call_button(self, model, method, ids, **kwargs):
        kwargs.setdefault("context", self.context)
        return self.call(
            "/web/dataset/call_button",
            model=model,
            method=method,
            args=[list(ids)],
            kwargs=kwargs,
        )

    def get(self, path, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return self.http.get(self.base_url + path, **kwargs)
