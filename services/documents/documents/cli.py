"""Command-line tools of the documents service (console scripts).

    documents-reindex                      # rebuild the search index from MongoDB, swap the alias
    documents-import docs.jsonl            # bulk import (also .csv, or a folder + metadata.csv)
        [--rejects rejected.csv] [--checkpoint import.checkpoint] [--batch 500]

Both read the same environment as the service (``MONGO_URI``, ``ELASTICSEARCH_URL``,
``PORTAL_NAMESPACE``, ``AMQP_URI``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from elasticsearch import Elasticsearch

from portal_common.logs import configure_logging
from portal_common.mongo import make_client
from portal_common.settings import get_settings

from documents.articles import ArticleCopies
from documents.register import DocumentRegister
from documents.search_index import SearchIndex, Sources, rebuild


def _backends(app: str):
    settings = get_settings()
    mongo = make_client(app)
    database = mongo[settings.database_name("documents")]
    register, articles = DocumentRegister(database), ArticleCopies(database)
    register.ensure_indexes()  # the unique number index, also when the service never ran
    articles.ensure_indexes()
    client = Elasticsearch(settings.elasticsearch_url, request_timeout=60, max_retries=2,
                           retry_on_timeout=True)
    index = SearchIndex(client, settings.index_name("search"),
                        sources=lambda: Sources(register, articles))
    return settings, mongo, client, register, articles, index


def _progress(total: int | None, description: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit=" docs", disable=not enabled,
                file=sys.stderr, dynamic_ncols=True)


def reindex_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="documents-reindex",
        description="Rebuild the search index from MongoDB (the register and the article "
                    "copies) and swap the alias to it atomically; searches keep working.")
    parser.add_argument("--chunk-size", type=int, default=500, help="documents per bulk request")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    configure_logging("documents-reindex", os.environ.get("LOG_LEVEL", "WARNING"))
    _, mongo, client, register, articles, index = _backends("documents-reindex")
    try:
        total = (register.documents.count_documents({"deleted": {"$ne": True}})
                 + articles.articles.count_documents({"published": True}))
        with _progress(total, "reindex", not args.quiet) as bar:
            result = rebuild(index, Sources(register, articles), chunk_size=args.chunk_size,
                             progress=bar.update)
    finally:
        client.close()
        mongo.close()
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["failed"] == 0 else 1


def import_main(argv: list[str] | None = None) -> int:
    from documents.importer import Importer, read_rows, source_key, write_rejects

    parser = argparse.ArgumentParser(
        prog="documents-import",
        description="Bulk import documents into the register and the search index.")
    parser.add_argument("path", type=Path, help="a .jsonl or .csv file, or a folder of PDF/DOCX "
                                                "files with a metadata sheet")
    parser.add_argument("--format", choices=["jsonl", "csv", "folder"],
                        help="default: from the file name")
    parser.add_argument("--metadata", type=Path,
                        help="folder imports: the sheet (default <folder>/metadata.csv)")
    parser.add_argument("--rejects", type=Path, default=Path("rejected.csv"),
                        help="report of rejected rows with reasons (CSV; default rejected.csv)")
    parser.add_argument("--checkpoint", type=Path,
                        help="progress file; run again with the same one to resume "
                             "(default <input>.checkpoint)")
    parser.add_argument("--batch", type=int, default=500, help="documents per batch")
    parser.add_argument("--no-events", action="store_true",
                        help="do not publish document_indexed events (a first load that no "
                             "subscriber needs to hear about)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    configure_logging("documents-import", os.environ.get("LOG_LEVEL", "WARNING"))
    if not args.path.exists():
        parser.error(f"{args.path} does not exist")
    checkpoint = args.checkpoint or args.path.with_name(args.path.name + ".checkpoint")
    resumed = checkpoint.exists()
    settings, mongo, client, register, _articles, index = _backends("documents-import")
    publisher = None
    if not args.no_events:
        from portal_common.events.publisher import ConfirmingPikaPublisher

        # connects on first use; if the broker is down the import stops and can be resumed
        publisher = ConfirmingPikaPublisher(settings.amqp_uri)
    importer = Importer(register, index, publish=publisher.publish if publisher else None,
                        batch_size=args.batch, source=source_key(args.path))
    try:
        with _progress(None, "import", not args.quiet) as bar:
            report = importer.run(read_rows(args.path, args.format, args.metadata),
                                  checkpoint=checkpoint, progress=bar.update)
    finally:
        if publisher:
            publisher.close()
        client.close()
        mongo.close()
    write_rejects(args.rejects, report.rejects, append=resumed)
    print(json.dumps({**report.as_dict(), "rejects_file": str(args.rejects),
                      "checkpoint": str(checkpoint)}, ensure_ascii=False))
    return 0
