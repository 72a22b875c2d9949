"""The template of an entity's sync, both directions, written once.

Import (QuickBooks -> Odoo), one page at a time (:meth:`EntitySync.import_records`):
dependencies (the records the page refers to that Odoo does not have yet, read and imported
first), lookups (everything the mapper needs, in a handful of queries), triage against the
bindings (:meth:`EntitySync.triage`: deleted, voided, unchanged, mapping errors), create /
update, bind.

Push (Odoo -> QuickBooks): the push engine (``push.py``) picks the candidates and the batch
writer writes and binds; the entity's ``to_qbo`` mapper builds the body.

An entity sync is a plain class working for one connection (a record, or the empty model for
the pure mappers); the API client is passed in, it never does HTTP itself.
"""

from odoo import fields

from ..const import ACTIVE_STATES, HELD_CUSTOMER_CODE, SUSPECT_CODE
from ..models.qbo_mapping import QboMappingError, is_deleted, is_voided, ref_name, ref_value
from ..models.qbo_push_mixin import NO_PUSH_KEY
from . import ENTITY_ORDER, FULL_SCAN_WHERE, audit
from .common import Lookups, PageResult


class EntitySync:
    """One QuickBooks entity family <-> one Odoo model, for one connection."""

    model = None  # the Odoo model its records are (bound in the binding table)
    triage_fields = ()  # the fields the triage reads of the bound records (one query)

    def __init__(self, connection, client=None):
        # What the inbound sync writes never marks a record to send (``qbo_no_push``).
        self.env = connection.env(context=dict(connection.env.context, **{NO_PUSH_KEY: True}))
        self.conn = connection.with_env(self.env)
        self.client = client

    @property
    def Model(self):
        """The Odoo model of this entity's records (with the sync's context)."""
        return self.env[self.model]

    def sync_of(self, entity):
        """The sync of a QuickBooks entity (``ENTITY_SYNC``), for the same connection and
        client: the entities a page depends on are imported by their own sync."""
        from . import ENTITY_SYNC  # the registry imports the entity files

        return ENTITY_SYNC[entity](self.conn, self.client)

    # ------------------------------------------------------------------
    # Import steps
    # ------------------------------------------------------------------
    def import_records(self, entity, remotes):
        """Apply one page of QuickBooks records; returns its :class:`~.common.PageResult`.

        The steps, each a method an entity sync may extend: :meth:`dependencies`,
        :meth:`lookups`, :meth:`triage`, :meth:`create_records` (and :meth:`bind`),
        :meth:`update_records`, :meth:`page_done`."""
        result = PageResult()
        remotes = self.dependencies(remotes, result)
        lookups = self.lookups(entity, remotes)
        to_create, to_update = self.triage(
            entity,
            remotes,
            records=self.triage_records(),
            fnames=list(self.triage_fields),
            lookups=lookups,
            result=result,
        )
        self.create_records(entity, to_create, lookups=lookups, result=result)
        self.update_records(entity, to_update, lookups=lookups, result=result)
        self.page_done(entity, remotes, [*to_create, *to_update], result=result)
        return result

    def references(self, remotes):
        """{QBO entity: {ids}} the records of a page refer to (its dependencies)."""
        return {}

    def dependencies(self, remotes, result):
        """Read and import first, in one call per entity and in dependency order, what the
        page's live records refer to and Odoo does not have yet (created in QBO after their
        page was read); name lists (customers, items) are read inactive ones included.
        Returns the page's records (an entity sync may add to them)."""
        Binding = self.env["biller_genie_qbo.binding"]
        wanted = self.references([r for r in remotes if not is_deleted(r)])
        for entity in ENTITY_ORDER:
            ids = wanted.get(entity)
            if not ids:
                continue
            missing = ids - set(Binding._qbo_fetch(self.conn, entity, ids))
            # Held for the duplicate review: not read again (Intuit bills every read) until
            # the user decides.
            missing -= self.held_ids(entity, missing)
            if not missing:
                continue
            records = self.client.read_many(
                entity, sorted(missing), include_inactive=entity in FULL_SCAN_WHERE
            )
            if records:
                sub = self.sync_of(entity).import_records(entity, records)
                result.deps.extend(sub.deps)
                sub.deps = []
                result.deps.append((entity, sub))
        return remotes

    def held_ids(self, entity, qbo_ids):
        """The ids of ``qbo_ids`` held for the duplicate review, and the sub-customers waiting
        for their parent held there (one query)."""
        if not qbo_ids:
            return set()
        codes = [SUSPECT_CODE] + ([HELD_CUSTOMER_CODE] if entity == "Customer" else [])
        held = (
            self.env["biller_genie_qbo.sync.error"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.conn.id),
                    ("code", "in", codes),
                    ("direction", "=", "pull"),
                    ("state", "in", ACTIVE_STATES),
                    ("qbo_entity", "=", entity),
                    ("qbo_id", "in", list(qbo_ids)),
                ]
            )
        )
        return set(held.mapped("qbo_id"))

    def lookups(self, entity, remotes):
        """The :class:`~.common.Lookups` of a page (what the mapper needs, in a handful of
        queries)."""
        return Lookups()

    def triage_records(self):
        """The importing model, with the context its records are read and written with."""
        return self.Model.with_context(active_test=False)

    def create_records(self, entity, to_create, *, lookups, result):
        """Create the Odoo records of the new QBO records (``to_create`` [Triaged]) and bind
        them."""
        raise NotImplementedError

    def update_records(self, entity, to_update, *, lookups, result):
        """Re-apply the changed QBO records (``to_update`` [Triaged with binding and
        record])."""
        raise NotImplementedError

    def bind(self, entity, pairs, result):
        """Bind the new Odoo records to their QBO records (``pairs`` [(Triaged, record)], one
        create): the binding keeps the SyncToken and the digest applied; a voided one is
        bound 'voided'."""
        Binding = self.env["biller_genie_qbo.binding"]
        Binding.create(
            [
                Binding._qbo_new_vals(
                    self.conn,
                    entity,
                    item.remote,
                    record,
                    qbo_hash=item.digest,
                    state="voided" if (item.expected or {}).get("voided") else "synced",
                )
                for item, record in pairs
            ]
        )
        result.ok_ids += [str(item.remote["Id"]) for item, _record in pairs]

    def review_twins(self, entity, to_create, result, *, review):
        """The duplicate review of the new records (sync/duplicates/): those like an unbound
        Odoo record are linked to it (strong match, or the user's link: bound as they are, not
        sent back) or held; returns the items still to create. ``review(sync, entity,
        to_create, result)`` -> ({qbo id: record} linked, {qbo ids} held)."""
        matches, held = review(self, entity, to_create, result)
        linked = [
            (item, matches[str(item.remote["Id"])])
            for item in to_create
            if str(item.remote["Id"]) in matches
        ]
        if linked:
            self.bind(entity, linked, result)
            self.Model.browse([record.id for _item, record in linked]).sudo().write(
                {"qbo_push_dirty": False, "qbo_push_state": "done", "qbo_push_message": False}
            )
            result.count("updated", len(linked))
        return [
            item
            for item in to_create
            if str(item.remote["Id"]) not in matches and str(item.remote["Id"]) not in held
        ]

    def page_done(self, entity, remotes, triaged, *, result):
        """What follows a page (receipts' payments, payments waiting for a document...)."""

    def map_remote(self, remote, lookups):
        """The :class:`~.common.Triaged` of a remote record (values and their digest); raises
        QboMappingError when Odoo cannot represent it."""
        raise NotImplementedError

    def customer_id(self, remote, lookups):
        """The partner id of a transaction's customer (``lookups.partners``); QboMappingError
        when Odoo does not have it (``customer_held``: held for the duplicate review)."""
        ref = ref_value(remote.get("CustomerRef"))
        partner_id = lookups.partners.get(ref)
        if not partner_id and ref and self.customer_held(ref):
            raise QboMappingError(
                self.env._(
                    "The customer %(customer)s is held for the duplicate review: this document "
                    "comes in as soon as you decide (Link to this one or Create anyway).",
                    customer=ref_name(remote.get("CustomerRef")) or ref,
                ),
                code=HELD_CUSTOMER_CODE,
            )
        if not partner_id:
            raise QboMappingError(
                self.env._(
                    "The customer %(customer)s is not synced.",
                    customer=ref_name(remote.get("CustomerRef"))
                    or ref_value(remote.get("CustomerRef"))
                    or "-",
                ),
                code="missing_customer",
            )
        return partner_id

    def customer_held(self, ref):
        """Whether the QBO customer ``ref`` is held for the duplicate review: one query per
        customer and sync, not per document (its 50 invoices ask once)."""
        held = self.__dict__.setdefault("_held_customers", {})
        if ref not in held:
            held[ref] = bool(self.held_ids("Customer", {ref}))
        return held[ref]

    def cancel_note(self, reason):
        """The chatter note of a record deleted (``reason`` 'deleted') or voided in QBO."""
        raise NotImplementedError

    def cancel(self, records, note):
        """Undo in Odoo what QuickBooks deleted or voided (``records`` of :attr:`model`)."""
        raise NotImplementedError

    def is_current(self, binding, remote):
        """Whether what is bound may be skipped when QuickBooks did not change it."""
        return True

    def triage(self, entity, remotes, *, records, fnames, lookups, result):
        """Sort one page of QBO records against their bindings: the bindings fetched once
        (``_qbo_fetch``), one query for the bound ``records`` (read with ``fnames``).

        Settled here, per record: a record bound to another Odoo model is left alone; deleted
        in QBO -> record cancelled, binding 'deleted'; SyncToken unchanged -> skipped; voided
        -> record cancelled, binding 'voided'; mapping error -> per-record error, binding
        'error'; digest unchanged -> skipped.

        Hooks: :meth:`cancel_note`, :meth:`cancel`, :meth:`map_remote` and :meth:`is_current`.

        Returns (to_create [Triaged], to_update [Triaged with their binding and record])."""
        Binding = self.env["biller_genie_qbo.binding"]
        force = self.env.context.get("qbo_force")
        bindings = Binding._qbo_fetch(self.conn, entity, [str(r["Id"]) for r in remotes])
        records.browse([b.res_id for b in bindings.values() if b.res_model == records._name]).fetch(
            fnames
        )
        to_create, to_update = [], []
        for remote in remotes:
            qbo_id = str(remote["Id"])
            binding = bindings.get(qbo_id)
            if binding and binding.res_model not in self.bound_models():
                # Bound to another kind of Odoo record (a credit note's application to
                # invoices is a QBO Payment): its content is Odoo's, but a void or a delete
                # in QBO is undone on that record too.
                self.other_model_remote(binding, remote, result)
                continue
            record = records.env[binding.res_model].browse(binding.res_id) if binding else records
            if is_deleted(remote):
                if binding:
                    note = audit.cancel_note(records, self.cancel_note("deleted"), entity, remote)
                    self.cancel(record, note)
                    binding.write({"state": "deleted", "sync_date": fields.Datetime.now()})
                result.count("cancelled")
                result.ok_ids.append(qbo_id)
                continue
            if (
                binding
                and not force
                and binding.state in ("synced", "voided")
                and binding.qbo_sync_token == remote.get("SyncToken")
                and self.is_current(binding, remote)
            ):
                result.count("unchanged")
                result.ok_ids.append(qbo_id)
                continue
            if binding and is_voided(remote):
                note = audit.cancel_note(records, self.cancel_note("voided"), entity, remote)
                self.cancel(record, note)
                binding.write(dict(Binding._qbo_remote_vals(remote), state="voided", error=False))
                result.count("cancelled")
                result.ok_ids.append(qbo_id)
                continue
            try:
                triaged = self.map_remote(remote, lookups)
            except QboMappingError as error:
                result.add_error(entity, remote, error.message, code=error.code)
                if binding:
                    binding.write({"state": "error", "error": error.message})
                continue
            if binding:
                if (
                    binding.qbo_hash == triaged.digest
                    and not force
                    and binding.state == "synced"
                    and self.is_current(binding, remote)
                ):
                    binding.write(Binding._qbo_remote_vals(remote))
                    result.count("unchanged")
                    result.ok_ids.append(qbo_id)
                else:
                    triaged.binding, triaged.record = binding, record
                    to_update.append(triaged)
            else:
                to_create.append(triaged)
        return to_create, to_update

    def bound_models(self):
        """The Odoo models this entity's records are bound to."""
        return (self.model,)

    def other_model_remote(self, binding, remote, result):
        """A QBO record bound to an Odoo model other than its importer's: voided or deleted
        in QBO, that model's sync (``MODEL_SYNC``) undoes it in Odoo; otherwise left alone."""
        from . import MODEL_SYNC  # the registry imports the entity files

        qbo_id = str(remote["Id"])
        reason = "deleted" if is_deleted(remote) else "voided" if is_voided(remote) else None
        if reason and binding.state not in ("voided", "deleted"):
            owner = MODEL_SYNC[binding.res_model](self.conn, self.client)
            record = owner.env[binding.res_model].browse(binding.res_id)
            note = owner.cancel_note(reason)
            owner.cancel(record, audit.cancel_note(record, note, binding.qbo_entity, remote))
            binding.write(
                dict(
                    self.env["biller_genie_qbo.binding"]._qbo_remote_vals(remote),
                    state=reason,
                    error=False,
                )
            )
            result.count("cancelled")
        else:
            result.count("unchanged")
        result.ok_ids.append(qbo_id)

    # ------------------------------------------------------------------
    # Push steps
    # ------------------------------------------------------------------
    def to_qbo(self, record, lookups):
        """The QBO body of an Odoo record (create; add Id/SyncToken/sparse for an update);
        raises QboPushProblem naming what is to be fixed first."""
        raise NotImplementedError
