"""The layout rules of the addon (README, "Design notes"), checked on its source (AST), so that a
change that breaks one fails the suite:

- one model per file, and every method of a model defined once in the addon (no override
  chains across files, no stub that another file overrides);
- no function takes more than 4 positional parameters besides ``self``/``cls`` (options are
  keyword-only);
- the connection (the add-on page) is one file of at most MAX_CONNECTION_LINES lines;
- ``tools/`` is pure Python (no ``odoo`` import); ``sync/`` never does HTTP itself (the API
  client is passed in);
- each QuickBooks entity family has its sync file in ``sync/`` holding both directions, every
  entity and every pushed model is registered (``ENTITY_SYNC``, ``MODEL_SYNC``), and the core
  model extensions keep fields and hooks only (no importer, mapper or push body left there);
- the push flag is set in one place (the push mixin's ``write``).
"""

import ast
import collections
import pathlib

from odoo.addons.biller_genie_qbo import sync
from odoo.addons.biller_genie_qbo.sync.base import EntitySync

ADDON = pathlib.Path(__file__).resolve().parent.parent
MAX_POSITIONAL = 4
MAX_CONNECTION_LINES = (
    1075  # the page; its mixins: models/qbo_tax_settings.py, qbo_first_contact.py
)
HTTP_MODULES = ("requests", "urllib.request", "urllib3", "http.client", "httpx", "aiohttp")
# Entity family -> its sync file (both directions) and the class in it.
ENTITY_FILES = {
    "Item": ("item", "ItemSync"),
    "Customer": ("customer", "CustomerSync"),
    "Invoice": ("sales_document", "SalesDocumentSync"),
    "SalesReceipt": ("sales_document", "SalesDocumentSync"),
    "CreditMemo": ("sales_document", "SalesDocumentSync"),
    "Payment": ("payment", "PaymentSync"),
    "RefundReceipt": ("sales_document", "SalesDocumentSync"),
}
# What moved to the entity syncs: no model of the addon defines these any more.
MOVED_METHODS = {
    "_qbo_values_from_remote",
    "_qbo_import_records",
    "_qbo_map_remote",
    "_qbo_triage",
    "_qbo_ensure_dependencies",
    "_qbo_mapping_context",
    "_qbo_payment_context",
    "_qbo_cancel_note",
}
MOVED_PREFIXES = ("_qbo_prepare_",)


def sources():
    for path in sorted(ADDON.rglob("*.py")):
        relative = path.relative_to(ADDON)
        if relative.parts[0] != "tests":
            yield relative, ast.parse(path.read_text(encoding="utf-8"), str(relative))


def model_of(cls):
    """The Odoo model a class defines or extends (None for a plain class)."""
    name = inherit = None
    for node in cls.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not isinstance(target, ast.Name):
            continue
        if target.id == "_name" and isinstance(node.value, ast.Constant):
            name = node.value.value
        elif target.id == "_inherit":
            values = node.value.elts if isinstance(node.value, ast.List) else [node.value]
            if values and isinstance(values[0], ast.Constant):
                inherit = values[0].value
    return name or inherit


def imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_one_model_per_file_and_each_method_once():
    files = collections.defaultdict(set)
    methods = collections.defaultdict(list)
    for relative, tree in sources():
        for cls in tree.body:
            model = isinstance(cls, ast.ClassDef) and model_of(cls)
            if not model:
                continue
            files[model].add(str(relative))
            for node in cls.body:
                if isinstance(node, ast.FunctionDef):
                    methods[(model, node.name)].append(f"{relative}:{node.lineno}")
    spread = {model: sorted(paths) for model, paths in files.items() if len(paths) > 1}
    assert not spread, f"models spread over several files: {spread}"
    twice = {key: where for key, where in methods.items() if len(where) > 1}
    assert not twice, f"methods defined more than once for a model: {twice}"


def test_at_most_four_positional_parameters():
    offenders = []
    for relative, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                positional = [a.arg for a in node.args.posonlyargs + node.args.args]
                if positional and positional[0] in ("self", "cls"):
                    positional = positional[1:]
                if len(positional) > MAX_POSITIONAL:
                    name = getattr(node, "name", "lambda")
                    offenders.append(f"{relative}:{node.lineno} {name}({', '.join(positional)})")
    assert not offenders, "more than 4 positional parameters:\n" + "\n".join(offenders)


def test_connection_is_one_file_of_bounded_size():
    path = ADDON / "models" / "qbo_connection.py"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_CONNECTION_LINES, f"{path.name}: {lines} lines"
    defining = [
        str(relative)
        for relative, tree in sources()
        for cls in tree.body
        if isinstance(cls, ast.ClassDef) and model_of(cls) == "biller_genie_qbo.connection"
    ]
    assert defining == ["models/qbo_connection.py"], defining


def test_tools_are_pure_and_sync_does_no_http():
    for relative, tree in sources():
        modules = set(imported_modules(tree))
        if relative.parts[0] == "tools":
            odoo = sorted(m for m in modules if m == "odoo" or m.startswith("odoo."))
            assert not odoo, f"{relative} imports {odoo}"
        if relative.parts[0] == "sync":
            http = sorted(
                m for m in modules if any(m == h or m.startswith(h + ".") for h in HTTP_MODULES)
            )
            assert not http, f"{relative} imports {http}"


def model_methods():
    """(model, method name, where) of every method of every model of the addon."""
    for relative, tree in sources():
        for cls in tree.body:
            model = isinstance(cls, ast.ClassDef) and model_of(cls)
            if model:
                for node in cls.body:
                    if isinstance(node, ast.FunctionDef):
                        yield model, node, f"{relative}:{node.lineno}"


def test_entity_syncs_are_registered_and_hold_both_directions():
    for name in ("base", "sales_lines", "credit_application"):
        assert (ADDON / "sync" / f"{name}.py").is_file(), name
    assert set(sync.ENTITY_SYNC) == set(sync.ENTITY_ORDER), sorted(sync.ENTITY_SYNC)
    for entity, (module, class_name) in ENTITY_FILES.items():
        sync_class = sync.ENTITY_SYNC[entity]
        assert (ADDON / "sync" / f"{module}.py").is_file(), module
        assert (sync_class.__module__.rsplit(".", 1)[-1], sync_class.__name__) == (
            module,
            class_name,
        ), entity
        assert issubclass(sync_class, EntitySync), entity
        assert "to_odoo" in dir(sync_class), f"{class_name} has no inbound mapper"
    assert set(sync.PUSH_ORDER) <= set(sync.MODEL_SYNC), sorted(sync.MODEL_SYNC)
    for model in sync.PUSH_ORDER:
        sync_class = sync.MODEL_SYNC[model]
        assert sync_class.model == model, model
        assert "to_qbo" in vars(sync_class), f"{sync_class.__name__} has no push mapper"


def test_core_models_keep_fields_and_hooks_only():
    left = [
        f"{where} {model}.{node.name}"
        for model, node, where in model_methods()
        if node.name in MOVED_METHODS or node.name.startswith(MOVED_PREFIXES)
    ]
    assert not left, "entity sync code left on models:\n" + "\n".join(left)


def test_push_flag_set_in_one_place():
    def marks_dirty(node):
        return any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "_qbo_mark_dirty"
            for call in ast.walk(node)
        )

    writers = [
        where
        for model, node, where in model_methods()
        if node.name == "write" and marks_dirty(node)
    ]
    assert writers and all(w.startswith("models/qbo_push_mixin.py:") for w in writers), writers
