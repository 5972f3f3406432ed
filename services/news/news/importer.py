"""``news-import``: load articles from JSON lines, JSON or HTML files into the newsroom.

    news-import export/                 # every *.jsonl, *.json, *.html in the folder (sorted)
    news-import a.jsonl b.html --draft  # import as drafts instead of publishing
    news-import export/ --report rejected.jsonl

Each item becomes an article through the news service's own ``import_article`` RPC entrypoint,
so imported articles obey every rule editors' articles do (validation, sanitising, slugs,
revisions) and are announced with the same events (the search index and the gateway's cache
follow). Talking RPC rather than writing the database also means the tool needs only the
broker's address, and the news service stays the only writer of its database.

Items are keyed by ``source_id`` (HTML: the file's path inside the folder): running the same
import again changes nothing, and an edited item updates its article instead of duplicating it.
A progress bar shows the run; every rejected item is listed at the end with its reasons (and
written to ``--report`` as JSON lines). Exit status: 0 all imported, 1 some rejected, 2 bad
arguments, 3 the news service or the broker cannot be reached.

JSON items are ``ImportItem`` objects: ``title``, ``summary``, ``body_html``, ``category`` (a
slug), ``credits``, ``source_unit``, ``tags``, ``cover``, ``source_id``, ``published_at``.
HTML files: the title is the first ``<h1>`` (or ``<title>``), the body the ``<article>`` (or the
``<body>`` without that ``<h1>``); ``<meta name="…">`` gives ``category``, ``description``
(summary), ``credits``, ``source-unit``, ``keywords`` (tags, comma-separated) and
``published_time``; without a credits meta, a last paragraph starting "Bài:" or "Tin, ảnh:"
becomes the credits.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from bs4 import BeautifulSoup
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from portal_common.errors import PortalError, field_errors_from_pydantic
from portal_common.schemas.news import ImportItem
from portal_common.settings import get_settings

SUFFIXES = (".jsonl", ".ndjson", ".json", ".html", ".htm")
_CREDIT_LINE = re.compile(r"^\s*(bài|tin|ảnh|tin, ảnh|bài và ảnh)\s*:", re.IGNORECASE)


@dataclass
class Item:
    origin: str                      # "file:line" for the report
    payload: dict[str, Any] | None   # None when the file itself could not be read
    problem: str | None = None


@dataclass
class Outcome:
    counts: dict[str, int] = field(default_factory=lambda: {
        "created": 0, "updated": 0, "unchanged": 0, "rejected": 0})
    rejected: list[dict[str, Any]] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------------
def discover(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES
                                and p.is_file()))
        else:
            files.append(path)
    return files


def read_items(path: Path, root: Path | None = None) -> Iterator[Item]:
    name = str(path.relative_to(root)) if root and path.is_relative_to(root) else path.name
    suffix = path.suffix.lower()
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield Item(name, None, f"cannot read the file: {exc}")
        return
    if suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Item(f"{name}:{number}", None, f"not JSON: {exc.msg} (column {exc.colno})")
                continue
            yield _with_source(f"{name}:{number}", value)
    elif suffix == ".json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Item(name, None, f"not JSON: {exc.msg} (line {exc.lineno})")
            return
        values = value if isinstance(value, list) else [value]
        for number, entry in enumerate(values, 1):
            yield _with_source(name if len(values) == 1 else f"{name}[{number}]", entry)
    elif suffix in (".html", ".htm"):
        yield Item(name, {"source_id": name, **parse_html(text)})
    else:
        yield Item(name, None, "not a .jsonl, .json or .html file")


def _with_source(origin: str, value: Any) -> Item:
    if not isinstance(value, dict):
        return Item(origin, None, "an item must be a JSON object")
    if "source_id" not in value and isinstance(value.get("title"), str):
        # no id of its own: the title (and category) identify it across runs
        digest = hashlib.sha256(f"{value.get('category')}|{value['title'].strip()}".encode())
        value = {**value, "source_id": f"title:{digest.hexdigest()[:24]}"}
    return Item(origin, value)


def parse_html(text: str) -> dict[str, Any]:
    """An article page as an import item (see the module docstring for the conventions)."""
    soup = BeautifulSoup(text, "html.parser")
    meta = {m.get("name", m.get("property", "")).lower(): m.get("content", "").strip()
            for m in soup.find_all("meta") if m.get("content")}
    heading = soup.find("h1")
    title = heading.get_text(" ", strip=True) if heading else (
        soup.title.get_text(" ", strip=True) if soup.title else "")
    container = soup.find("article") or soup.body or soup
    if heading is not None:
        heading.decompose()
    credits = meta.get("credits")
    if not credits:
        paragraphs = container.find_all("p")
        if paragraphs and _CREDIT_LINE.match(paragraphs[-1].get_text(" ", strip=True)):
            credits = paragraphs[-1].get_text(" ", strip=True)
            paragraphs[-1].decompose()
    item: dict[str, Any] = {
        "title": title,
        "summary": meta.get("description", ""),
        "body_html": "".join(str(child) for child in container.children).strip(),
        "category": meta.get("category", ""),
        "credits": credits or None,
        "source_unit": meta.get("source-unit") or None,
        "tags": [t.strip() for t in meta.get("keywords", "").split(",") if t.strip()],
    }
    published = meta.get("published_time") or meta.get("article:published_time")
    if published:
        item["published_at"] = published
    return item


# -- importing ----------------------------------------------------------------------------------
class ServiceDown(Exception):
    pass


def import_items(items: list[Item], call, *, actor: str, publish: bool,
                 on_item=None) -> Outcome:
    """Send each item to ``call(payload, actor)`` (the ``import_article`` entrypoint)."""
    outcome = Outcome()
    for item in items:
        title = (item.payload or {}).get("title") if isinstance(item.payload, dict) else None
        reasons = _local_problems(item, publish)
        if not reasons:
            try:
                payload = {**item.payload, "publish": item.payload.get("publish", publish)}
                answer = call(payload, actor)
                outcome.counts[answer["outcome"]] += 1
                outcome.articles.append(answer["article"])
            except PortalError as exc:
                reasons = exc.errors or [{"field": "-", "message": exc.detail}]
            except (RpcTimeout, UnknownService, ConnectionError, OSError) as exc:
                raise ServiceDown(str(exc) or type(exc).__name__) from exc
        if reasons:
            outcome.counts["rejected"] += 1
            outcome.rejected.append({"item": item.origin, "title": title, "errors": reasons})
        if on_item:
            on_item()
    return outcome


def _local_problems(item: Item, publish: bool) -> list[dict[str, str]]:
    """Check the item against ``ImportItem`` before sending it (cheap, and names fields)."""
    if item.payload is None:
        return [{"field": "-", "message": item.problem or "unreadable"}]
    from pydantic import ValidationError

    try:
        ImportItem.model_validate({**item.payload, "publish": item.payload.get("publish", publish)})
    except ValidationError as exc:
        return field_errors_from_pydantic(exc)
    return []


def _report(console: Console, outcome: Outcome, report: Path | None) -> None:
    c = outcome.counts
    console.print(f"imported: {c['created']} created, {c['updated']} updated, "
                  f"{c['unchanged']} unchanged, {c['rejected']} rejected")
    if outcome.rejected:
        table = Table(title="Rejected items", show_lines=False)
        table.add_column("item")
        table.add_column("title", overflow="fold", max_width=40)
        table.add_column("field")
        table.add_column("reason", overflow="fold")
        for entry in outcome.rejected:
            for n, error in enumerate(entry["errors"]):
                table.add_row(entry["item"] if n == 0 else "", (entry["title"] or "")[:80]
                              if n == 0 else "", error.get("field", "-"), error.get("message", ""))
        console.print(table)
    if report is not None:
        with report.open("w", encoding="utf-8") as out:
            for entry in outcome.rejected:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        console.print(f"rejected items written to {report}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="news-import", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders to import")
    parser.add_argument("--draft", action="store_true",
                        help="create drafts (default: publish, keeping published_at)")
    parser.add_argument("--actor", default="import",
                        help="who the revisions name (default: import)")
    parser.add_argument("--report", type=Path, help="write rejected items here (JSON lines)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per item")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    console = Console(stderr=False, highlight=False)

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        console.print(f"no such file or folder: {', '.join(missing)}")
        return 2
    items: list[Item] = []
    for path in discover(args.paths):
        root = next((p for p in args.paths if p.is_dir() and path.is_relative_to(p)), None)
        items.extend(read_items(path, root))
    if not items:
        console.print("nothing to import (no .jsonl, .json or .html files)")
        return 2

    config = {"AMQP_URI": get_settings().amqp_uri}
    try:
        with ClusterRpcProxy(config, timeout=args.timeout) as rpc, Progress(
                TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, disable=args.quiet, transient=False) as progress:
            task = progress.add_task("import", total=len(items))
            outcome = import_items(items, rpc.news.import_article, actor=args.actor,
                                   publish=not args.draft,
                                   on_item=lambda: progress.advance(task))
    except ServiceDown as exc:
        console.print(f"the news service cannot be reached ({exc}); nothing more was imported")
        return 3
    except (ConnectionError, OSError) as exc:
        console.print(f"the message broker cannot be reached ({exc})")
        return 3
    _report(console, outcome, args.report)
    published = [a for a in outcome.articles if a.get("status") == "published"]
    if published and len(published) <= 20:
        for article in published:  # soft_wrap: a path stays on one line, whatever the width
            console.print(f"  published: /api/v1/news/{article['slug']}", soft_wrap=True)
    return 1 if outcome.rejected else 0


if __name__ == "__main__":
    sys.exit(main())
