"""The production `records/` folder validates, whatever it holds.

This is the one test that reads `records/`: every other test reads the fixture corpus in
tests/fixtures/records, so adding or editing a record there breaks no test, while a record that
`catalog validate` refuses fails this one (the message lists its problems, as the command does).
"""

import pytest

from catalog.cli import main
from tests.conftest import PROJECT

RECORDS = PROJECT / "records"


def validate(capsys, folder) -> tuple[int, str]:
    code = main(["validate", str(folder)])
    return code, capsys.readouterr().out


def test_every_file_in_the_records_folder_validates(capsys):
    if not RECORDS.is_dir():
        pytest.skip(f"{RECORDS} is absent: there is nothing to validate")
    code, out = validate(capsys, RECORDS)
    assert code == 0, out
    files = len(list(RECORDS.glob("*.json")))
    assert out.splitlines()[0].startswith(f"{files} files checked: {files} valid, 0 with errors,"), out


def test_an_empty_records_folder_validates(tmp_path, capsys):
    """A catalog starts with no records: that is not an error."""
    code, out = validate(capsys, tmp_path)
    assert code == 0, out
    assert out.splitlines()[0] == "0 files checked: 0 valid, 0 with errors, 0 warnings"
