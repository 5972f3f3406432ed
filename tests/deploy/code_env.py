"""Which environment variables the portal's code reads, found in the code itself.

Three places are read, so a variable another engineer adds is found without touching this file:

* pydantic-settings classes (any class deriving from ``BaseSettings``, directly or through another
  settings class): each field's ``alias``/``validation_alias``, or its name upper-cased with the
  class's ``env_prefix``;
* ``os.environ.get("X")``, ``os.environ["X"]``, ``os.getenv("X")`` calls in the packages'
  modules (``gateway/gunicorn.conf.py`` included); ``os.environ.setdefault`` is a write, not a read;
* ``${VAR}`` and ``${VAR:default}`` substitutions in the services' Nameko ``config.yaml``.

Each variable comes with where it is read and its default there (``None``: no default).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The portal's processes: what runs in the images (not the tests, the local stack or bench/).
CODE_DIRS = ("common", "gateway", "services")
SUBSTITUTION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")
NO_DEFAULT = object()
SKIPPED_DIRS = {"__pycache__", "build", "dist"}  # build output: copies, not the code


@dataclass(frozen=True)
class Read:
    name: str
    where: str
    default: object  # the default in the code, or NO_DEFAULT when the read has none


def python_files(root: Path = ROOT) -> list[Path]:
    files = []
    for directory in CODE_DIRS:
        files += [p for p in sorted((root / directory).rglob("*.py"))
                  if not SKIPPED_DIRS & set(p.relative_to(root).parts)
                  and not any(part.endswith(".egg-info") for part in p.parts)]
    return files


def _literal(node: ast.AST | None) -> object:
    if node is None:
        return NO_DEFAULT
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)  # e.g. Path("var"), 2 * 1024 * 1024: a default all the same


def _base_names(cls: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else b.attr for b in cls.bases
            if isinstance(b, (ast.Name, ast.Attribute))}


def _env_prefix(cls: ast.ClassDef) -> str:
    for stmt in cls.body:
        if (isinstance(stmt, ast.Assign) and any(getattr(t, "id", None) == "model_config" for t in stmt.targets)
                and isinstance(stmt.value, ast.Call)):
            for kw in stmt.value.keywords:
                if kw.arg == "env_prefix" and isinstance(kw.value, ast.Constant):
                    return kw.value.value
    return ""


def _settings_fields(cls: ast.ClassDef, where: str) -> list[Read]:
    prefix, reads = _env_prefix(cls), []
    for stmt in cls.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        field, name, default = stmt.target.id, None, _literal(stmt.value)
        if isinstance(stmt.value, ast.Call) and getattr(stmt.value.func, "id", None) == "Field":
            call = stmt.value
            default = _literal(call.args[0]) if call.args else NO_DEFAULT
            for kw in call.keywords:
                if kw.arg in ("alias", "validation_alias") and isinstance(kw.value, ast.Constant):
                    name = kw.value.value
                elif kw.arg == "default":
                    default = _literal(kw.value)
        reads.append(Read(name or (prefix + field).upper(), where, default))
    return reads


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` or a bare ``environ``."""
    return ((isinstance(node, ast.Attribute) and node.attr == "environ")
            or (isinstance(node, ast.Name) and node.id == "environ"))


def _environ_reads(tree: ast.AST, where: str) -> list[Read]:
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            key = node.args[0]
            is_get = node.func.attr == "get" and _is_environ(node.func.value)
            is_getenv = node.func.attr == "getenv"
            if (is_get or is_getenv) and isinstance(key, ast.Constant) and isinstance(key.value, str):
                default = node.args[1] if len(node.args) > 1 else None
                reads.append(Read(key.value, where, _literal(default) if default is not None else NO_DEFAULT))
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value)
              and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            reads.append(Read(node.slice.value, where, NO_DEFAULT))
    return reads


def python_reads(files: list[Path], root: Path = ROOT) -> list[Read]:
    trees = {path: ast.parse(path.read_text(), filename=str(path)) for path in files}
    classes = [(path, node) for path, tree in trees.items() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)]
    settings_classes, grown = {"BaseSettings"}, True
    while grown:  # a settings class may derive from another one, in another module
        grown = False
        for _, cls in classes:
            if cls.name not in settings_classes and _base_names(cls) & settings_classes:
                settings_classes.add(cls.name)
                grown = True
    reads = []
    for path, cls in classes:
        if cls.name != "BaseSettings" and _base_names(cls) & settings_classes:
            reads += _settings_fields(cls, f"{path.relative_to(root)}:{cls.name}")
    for path, tree in trees.items():
        reads += _environ_reads(tree, str(path.relative_to(root)))
    return reads


def config_reads(root: Path = ROOT) -> list[Read]:
    reads = []
    for path in sorted((root / "services").glob("*/config.yaml")):
        # comments may show the syntax (`${VAR:default}`) without reading anything
        text = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in path.read_text().splitlines())
        for match in SUBSTITUTION.finditer(text):
            default = match.group(2) if match.group(2) is not None else NO_DEFAULT
            reads.append(Read(match.group(1), str(path.relative_to(root)), default))
    return reads


def variables(root: Path = ROOT) -> dict[str, list[Read]]:
    """Every variable read by the portal's code, with each place that reads it."""
    found: dict[str, list[Read]] = {}
    for read in python_reads(python_files(root), root) + config_reads(root):
        found.setdefault(read.name, []).append(read)
    return found


def has_default(reads: list[Read]) -> bool:
    return all(read.default is not NO_DEFAULT and read.default is not None for read in reads)


def loopback_default(reads: list[Read]) -> str | None:
    """The default that points at this machine (127.0.0.1, localhost), if any read has one."""
    for read in reads:
        if isinstance(read.default, str) and re.search(r"//[^/]*(127\.0\.0\.1|localhost)", read.default):
            return read.default
    return None
