"""The `catalog` command: validate records, print the schema, serve, rebuild the index, import records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from catalog.config import PROJECT_ROOT
from catalog.model import record_json_schema
from catalog.validation import Problem
from catalog.validation import check_bytes
from catalog.validation import record_warnings


def validate_paths(paths: list[Path]) -> tuple[dict, list[Problem]]:
    """Check files (folders are searched for *.json): a summary and every problem, errors first."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    errors: list[Problem] = []
    warnings: list[Problem] = []
    owners: dict[str, str] = {}
    bad_files: set[str] = set()
    for file in files:
        shown = str(file)
        try:
            data = file.read_bytes()
        except OSError as exc:
            errors.append(Problem(shown, f"cannot be read ({exc.strerror})"))
            bad_files.add(shown)
            continue
        record, problems = check_bytes(data, shown)
        errors += problems
        if problems:
            bad_files.add(shown)
        if record is None:
            continue
        if record.id in owners:
            errors.append(Problem(shown, f"id: {record.id!r} is also the id of {owners[record.id]}"))
            bad_files.add(shown)
        else:
            owners[record.id] = shown
        warnings += record_warnings(record, shown)
    summary = {
        "files": len(files),
        "valid": len(files) - len(bad_files),
        "with_errors": len(bad_files),
        "errors": len(errors),
        "warnings": len(warnings),
    }
    return summary, errors + warnings


def cmd_validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [Path("records") if Path("records").is_dir() else PROJECT_ROOT / "records"]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"catalog validate: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    summary, problems = validate_paths(paths)
    if args.format == "json":
        print(json.dumps({"summary": summary, "problems": [p.as_dict() for p in problems]},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{summary['files']} files checked: {summary['valid']} valid, "
              f"{summary['with_errors']} with errors, {summary['warnings']} warnings")
        for problem in problems:
            print(f"{problem.severity}: {problem}")
    failed = summary["errors"] > 0 or (args.strict and summary["warnings"] > 0)
    return 1 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(record_json_schema(), ensure_ascii=False, indent=2))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from catalog import create_app

    create_app().run(host=args.host, port=args.port, debug=args.debug, threaded=True)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from catalog import create_app

    app = create_app()
    result = app.extensions["catalog.index"].rebuild(accept_deletions=args.accept_deletions)
    print(f"reindexed: {result.added + result.changed} records, {result.invalid} bad files, "
          f"{result.removed} deletions recorded")
    if result.fault:
        print(f"not done: {result.fault}", file=sys.stderr)
        return 1
    return 0


def _index():
    """The index of the configured folders, opened without scanning the records."""
    from catalog.config import defaults
    from catalog.config import from_environment
    from catalog.index import open_index

    settings = {**defaults(), **from_environment()}
    return open_index(settings["CATALOG_RECORDS_DIR"], settings["CATALOG_INSTANCE_DIR"])


def cmd_ledger_export(args: argparse.Namespace) -> int:
    from catalog.index import ledger

    lines = [json.dumps(entry, ensure_ascii=False) + "\n" for entry in ledger.export_entries(_index().db)]
    if args.file == "-":
        sys.stdout.writelines(lines)
    else:
        Path(args.file).write_text("".join(lines), encoding="utf-8")
    count = len(lines)
    print(f"exported {count} ledger entries", file=sys.stderr)
    return 0


def cmd_ledger_import(args: argparse.Namespace) -> int:
    from catalog.index import ledger

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    try:
        entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        count = ledger.import_entries(_index().db, entries)
    except ValueError as error:
        print(f"{args.file}: {error}; nothing imported", file=sys.stderr)
        return 1
    print(f"imported {count} ledger entries", file=sys.stderr)
    return 0


def _record_files(paths: list[str]) -> list[Path]:
    """The record files named, folders expanded to their *.json files (default: records/)."""
    roots = [Path(p) for p in paths] or [Path("records") if Path("records").is_dir() else PROJECT_ROOT / "records"]
    files: list[Path] = []
    for root in roots:
        files += sorted(root.glob("*.json")) if root.is_dir() else [root]
    return files


def cmd_migrate(args: argparse.Namespace) -> int:
    from catalog.migrate import migrate_file

    files = _record_files(args.paths)
    outcomes = [(path, *migrate_file(path, args.write)) for path in files]
    changed = [o for o in outcomes if o[1] in ("migrated", "would migrate")]
    refused = [o for o in outcomes if o[1].startswith("refused")]
    verb = "migrated" if args.write else "would migrate"
    print(f"{len(files)} files, {len(changed)} {verb}, {len(refused)} refused, "
          f"{len(files) - len(changed) - len(refused)} already current")
    for path, status, diff in outcomes:
        if status != "unchanged":
            print(f"{path}: {status}")
            if diff and not args.write:
                print(diff, end="")
    if changed and not args.write:
        print("dry run: nothing written; run `catalog migrate --write` to apply")
    return 1 if refused else 0


def _records_dir(args: argparse.Namespace) -> Path:
    """Where imports write: --records, else CATALOG_RECORDS_DIR, else records/ as `validate` finds it."""
    from catalog.config import from_environment

    if args.records:
        return Path(args.records)
    configured = from_environment().get("CATALOG_RECORDS_DIR")
    if configured:
        return Path(str(configured))
    return Path("records") if Path("records").is_dir() else PROJECT_ROOT / "records"


def _run_import(args: argparse.Namespace, read, unit: str) -> int:
    """Read the candidates (a file problem is a usage error, exit 2), then report and write the batch."""
    from catalog.importing import batch
    from catalog.importing.fields import apply_settings
    from catalog.importing.fields import parse_settings

    try:
        settings = parse_settings(args.set)
        candidates, skipped = read()
        for candidate in candidates:
            apply_settings(candidate.record, settings)
    except ValueError as error:  # SettingError, SpreadsheetError, TeiError: the input, not its records
        print(f"catalog import {args.import_command}: {error}", file=sys.stderr)
        return 2
    return batch.run(candidates, _records_dir(args), write=args.write, partial=args.partial,
                     update=args.update, unit=unit, skipped=skipped)


def cmd_import_csv(args: argparse.Namespace) -> int:
    from catalog.importing import spreadsheet

    def read():
        mapping = spreadsheet.read_mapping(Path(args.mapping)) if args.mapping else None
        return spreadsheet.candidates(Path(args.file), mapping), []

    return _run_import(args, read, "rows")


def cmd_import_tei(args: argparse.Namespace) -> int:
    from catalog.importing import tei

    return _run_import(args, lambda: tei.read(Path(args.file)), "documents")


def cmd_draft(args: argparse.Namespace) -> int:
    from catalog.importing.draft import run

    return run(Path(args.file), args.write, _records_dir(args))


def cmd_export_static(args: argparse.Namespace) -> int:
    from catalog import create_app
    from catalog.static_export import ExportError
    from catalog.static_export import export_static

    for option, value in (("--base-url", args.base_url), ("--image-server", args.image_server)):
        if value is not None and not value.startswith(("http://", "https://")):
            print(f"catalog export-static: {option} must be an http(s) URL, not {value!r}", file=sys.stderr)
            return 2
    app = create_app()
    config = app.config
    try:
        done = export_static(app.extensions["catalog.index"], Path(args.dir), args.base_url,
                             config["CATALOG_INSTITUTION_NAME"], config["CATALOG_INSTITUTION_URL"],
                             Path(config["CATALOG_INSTANCE_DIR"]) / "iiif-images", args.workers,
                             args.image_server or "")
    except ExportError as error:
        print(f"catalog export-static: {error}", file=sys.stderr)
        return 2
    print(f"exported {done.records} public records to {args.dir}: {done.documents} documents, "
          f"{done.images} page images drawn, {done.images_reused} copied from the image cache, "
          f"in {done.seconds:.1f} s")
    return 0


def _import_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--write", action="store_true",
                         help="write the records, only if every one is valid (default: a dry run, the report only)")
    command.add_argument("--partial", action="store_true",
                         help="write the valid records and list the others")
    command.add_argument("--update", action="store_true",
                         help="replace the importer's fields in existing records (other fields are kept)")
    command.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                         help="a value for every record that has none, e.g. --set access.status=open (repeatable)")
    command.add_argument("--records", metavar="DIR",
                         help="the records folder (default: CATALOG_RECORDS_DIR, else records/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="catalog", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check record files and report every problem")
    validate.add_argument("paths", nargs="*", help="files or folders (default: records/)")
    validate.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.set_defaults(func=cmd_validate)

    schema = commands.add_parser("schema", help="print the published record schema")
    schema.set_defaults(func=cmd_schema)

    serve = commands.add_parser("serve", help="run the server (development server; use gunicorn in production)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--debug", action="store_true")
    serve.set_defaults(func=cmd_serve)

    reindex = commands.add_parser("reindex", help="rebuild the index from the record files (datestamps kept)")
    reindex.add_argument("--accept-deletions", action="store_true",
                         help="record deletions even when most record files vanished at once")
    reindex.set_defaults(func=cmd_reindex)

    migrate = commands.add_parser("migrate", help="bring record files to the current schema (dry run unless --write)")
    migrate.add_argument("paths", nargs="*", help="files or folders (default: records/)")
    migrate.add_argument("--write", action="store_true", help="rewrite the files (each only if it still validates)")
    migrate.set_defaults(func=cmd_migrate)

    ledger = commands.add_parser("ledger", help="back up or restore the OAI-PMH ledger (datestamps, deletions)")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    export = ledger_commands.add_parser("export", help="write every ledger entry as JSON Lines")
    export.add_argument("file", nargs="?", default="-", help="output file (default: standard output)")
    export.set_defaults(func=cmd_ledger_export)
    restore = ledger_commands.add_parser("import", help="restore entries written by `catalog ledger export`")
    restore.add_argument("file", nargs="?", default="-", help="input file (default: standard input)")
    restore.set_defaults(func=cmd_ledger_import)

    importing = commands.add_parser("import", help="make records from a spreadsheet or a FRUS TEI volume "
                                                   "(dry run unless --write)")
    import_commands = importing.add_subparsers(dest="import_command", required=True)
    from_csv = import_commands.add_parser("csv", help="one record per row of a CSV or .xlsx file")
    from_csv.add_argument("file", help="the spreadsheet: a header row of field paths, then one row per record")
    from_csv.add_argument("--mapping", metavar="FILE",
                          help="JSON or CSV naming the field of each other header: {\"Box\": \"provenance.collection.box\"}")
    _import_options(from_csv)
    from_csv.set_defaults(func=cmd_import_csv)
    from_tei = import_commands.add_parser("tei", help="one record per document of a FRUS TEI volume")
    from_tei.add_argument("file", help="the volume, e.g. frus1943v01.xml")
    _import_options(from_tei)
    from_tei.set_defaults(func=cmd_import_tei)

    draft = commands.add_parser("draft", help="a draft record from a raw transcription (printed unless --write)")
    draft.add_argument("file", help="the transcription, a UTF-8 text file")
    draft.add_argument("--write", action="store_true", help="write the draft into the records folder")
    draft.add_argument("--records", metavar="DIR",
                       help="the records folder (default: CATALOG_RECORDS_DIR, else records/)")
    draft.set_defaults(func=cmd_draft)

    static = commands.add_parser("export-static", help="write the public IIIF (manifests, collections, annotation "
                                                       "pages, page images, record JSON) as plain files")
    static.add_argument("dir", help="a new or empty folder (written as DIR.tmp, renamed when complete)")
    static.add_argument("--base-url", required=True,
                        help="where DIR will be served, e.g. https://static.example.org/catalog (every id points there)")
    static.add_argument("--workers", type=int, default=None, help="processes drawing page images (default: one per core)")
    static.add_argument("--image-server", default=None,
                        help="the live catalog's URL, e.g. https://catalog.example.org: page images are its Image API "
                             "instead of files (drawing them is almost all of an export's time)")
    static.set_defaults(func=cmd_export_static)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
