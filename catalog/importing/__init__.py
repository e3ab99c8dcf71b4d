"""Importers: turn what archivists already have (spreadsheets, FRUS TEI volumes, transcriptions) into
record files. Each importer only builds candidate records; `batch` validates, reports and writes them
into the records folder, all or nothing."""
