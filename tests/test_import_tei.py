"""`catalog import tei`: a FRUS volume becomes one record per document; re-importing updates them.

Runs on small volumes written here in FRUS's encoding (with the pitfalls its maintainers list:
documents without a source note, `persName` without `corresp`, page breaks inside paragraphs) and,
where ../shared holds it, on the excerpt of a real volume (frus1944Quebec).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.cli import main
from tests.conftest import conformance_not_checked
from tests.conftest import shared_artifact

HEADER = """<teiHeader><fileDesc><titleStmt>
  <title type="complete">Foreign Relations of the United States, Diplomatic Papers, 1943, Test Volume</title>
  <title type="series">Foreign Relations of the United States</title>
  <title type="sub-series">Diplomatic Papers, 1943</title>
  <editor role="primary">William M. Franklin</editor>
  <editor role="general">E. Ralph Perkins</editor>
</titleStmt><publicationStmt>
  <publisher>United States Government Printing Office</publisher>
  <date calendar="gregorian" type="publication-date">1963</date>
  <idno type="frus">frus1943test</idno>
</publicationStmt><sourceDesc><p>test</p></sourceDesc></fileDesc></teiHeader>"""

PERSONS = """<div type="section" xml:id="persons"><head>Persons</head><list>
  <item><hi rend="strong"><persName xml:id="p_HWA1">Harriman, W. Averell</persName></hi>, Ambassador in the
    Soviet Union</item>
  <item><hi rend="strong"><persName xml:id="p_RFD1">Roosevelt, Franklin D.</persName></hi>, President</item>
  <item><hi rend="strong"><persName xml:id="p_HC1">Hull, Cordell</persName></hi>, Secretary of State</item>
  <item xml:id="p_MVM1"><persName>Molotov, Vyacheslav Mikhailovich</persName>, People's
    Commissar for Foreign Affairs</item>
</list></div>"""

TELEGRAM = """<pb n="101" xml:id="pg_101"/>
<div type="document" subtype="historical-document" n="{n}" xml:id="d{n}"
     frus:doc-dateTime-min="1943-11-04T21:00:00+03:00" frus:doc-dateTime-max="1943-11-04T21:00:00+03:00">
  <note rend="inline" type="source">740.0011 Moscow/11–443: Telegram</note>
  <head>{head_start}<persName type="from" corresp="#p_HWA1">Harriman</persName>) to the <persName
      type="to" corresp="#p_RFD1">President</persName><note n="7" xml:id="d{n}fn7">Sent via Navy
      channels.</note></head>
  <opener>
    <seg rendition="#left"><hi rend="smallcaps">secret</hi><lb/><hi rend="smallcaps">urgent</hi></seg>
    <dateline rendition="#right"><placeName>Moscow</placeName>, <date when="1943-11-04T21:00:00+03:00">November
        4, 1943—9 p.m.</date></dateline>
  </opener>
  <p>(Personal and secret for the President.) I saw <persName corresp="#p_MVM1">Molotov</persName> today and
    he spoke of the conference<note n="8" xml:id="d{n}fn8">See <ref target="#pg_99">p. 99</ref>.</note> at
    length. The talks went on into the</p>
  <pb n="102" xml:id="pg_102"/>
  <p>night.<note n="9" xml:id="d{n}fn9">The telegram ends here.</note></p>
  <p>Nothing more.</p>
  <closer><signed>[<hi rend="smallcaps">Harriman</hi>]</signed></closer>
</div>"""

UNSOURCED = """<div type="document" subtype="historical-document" n="12" xml:id="d12"
     frus:doc-dateTime-min="1943-11-05T00:00:00-05:00" frus:doc-dateTime-max="1943-11-07T23:59:59-05:00">
  <head><persName type="from">Hull</persName> to <persName type="to">Stalin</persName></head>
  <opener><dateline><placeName>Washington</placeName>, undated.</dateline></opener>
  <p>A message without a source note.</p>
</div>"""

MEMORANDUM = """<div type="document" subtype="historical-document" n="13" xml:id="d13">
  <note rend="inline" type="source">Hopkins Papers</note>
  <head>Memorandum of Conversation, by the <gloss type="from">Secretary of State</gloss></head>
  <opener><dateline><date when="1943-11-08">November 8, 1943</date>.</dateline></opener>
  <p>The conversation.</p>
</div>"""


def volume(tmp_path: Path, *documents: str, name: str = "frus1943test.xml") -> Path:
    text = (f'<?xml version="1.0" encoding="UTF-8"?>\n<TEI xmlns="http://www.tei-c.org/ns/1.0" '
            f'xmlns:frus="http://history.state.gov/frus/ns/1.0">{HEADER}<text><front>{PERSONS}</front><body>'
            f'<div type="chapter" xml:id="ch1">{"".join(documents)}</div></body></text></TEI>')
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def telegram(n: int = 11, head_start: str = "The Ambassador in the Soviet Union (") -> str:
    return TELEGRAM.format(n=n, head_start=head_start)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "records"
    path.mkdir()
    return path


def run(capsys, *args) -> tuple[int, str]:
    code = main(["import", "tei", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def load(folder: Path, record_id: str) -> dict:
    return json.loads((folder / f"{record_id}.json").read_text(encoding="utf-8"))


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_document_becomes_a_record_field_by_field(tmp_path, folder, capsys):
    code, out = run(capsys, volume(tmp_path, telegram(), MEMORANDUM), "--records", folder, "--write")
    assert code == 0, out
    record = load(folder, "frus1943test-d11")
    assert record["title"] == "The Ambassador in the Soviet Union (Harriman) to the President"
    assert record["document_type"] == "telegram"
    assert record["dates"] == [{"type": "sent", "date": "1943-11-04", "time": "21:00",
                                "as_printed": "November 4, 1943—9 p.m."}]
    assert record["dateline"] == "Moscow, November 4, 1943—9 p.m."
    assert record["places"] == [{"name": "Moscow", "role": "sent from", "as_printed": "Moscow"}]
    assert record["creators"] == [{"name": "Harriman, W. Averell", "role": "sender",
                                   "office": "Ambassador in the Soviet Union",
                                   "as_printed": "The Ambassador in the Soviet Union (Harriman)"}]
    assert record["recipients"] == [{"name": "Roosevelt, Franklin D.", "role": "addressee", "office": "President",
                                     "as_printed": "the President"}]
    assert record["persons_mentioned"] == [{"name": "Molotov, Vyacheslav Mikhailovich", "as_printed": "Molotov"}]
    provenance = record["provenance"]
    assert provenance["file_number"] == "740.0011 Moscow/11–443"  # the en dash kept
    assert provenance["collection"] == {"name": "Department of State Central Decimal File"}
    assert provenance["repository"]["name"] == "National Archives and Records Administration"
    assert provenance["transmission"] == {"channel": "Telegram"}
    assert provenance["classification"] == {"level": "secret", "as_marked": ["secret"]}
    assert provenance["markings"] == [{"kind": "precedence", "text": "urgent"}]
    assert provenance["editions"] == [{
        "publisher": "Office of the Historian, U.S. Department of State",
        "title": "Foreign Relations of the United States, Diplomatic Papers, 1943, Test Volume",
        "series": "Foreign Relations of the United States: Diplomatic Papers, 1943",
        "editors": [{"name": "William M. Franklin", "role": "volume editor"},
                    {"name": "E. Ralph Perkins", "role": "general editor"}],
        "volume_id": "frus1943test", "year": 1963, "document_number": "11", "pages": "101–102",
        "url": "https://history.state.gov/historicaldocuments/frus1943test/d11",
        "source_note": "740.0011 Moscow/11–443: Telegram"}]
    assert record["signature"] == "[Harriman]"
    assert record["access"] == {"status": "open"}
    memo = load(folder, "frus1943test-d13")
    assert memo["document_type"] == "memorandum of conversation"
    assert memo["creators"][0]["name"] == "Secretary of State"
    assert memo["creators"][0]["as_printed"] == "the Secretary of State"
    assert memo["provenance"]["repository"]["name"] == "Franklin D. Roosevelt Library"
    assert memo["provenance"]["classification"] == {"level": "unmarked", "as_marked": []}
    assert main(["validate", "--strict", str(folder)]) == 0


def test_pages_split_at_page_breaks_even_inside_a_paragraph(tmp_path, folder, capsys):
    run(capsys, volume(tmp_path, telegram()), "--records", folder, "--write")
    pages = load(folder, "frus1943test-d11")["pages"]
    assert [page["label"] for page in pages] == ["101", "102"]
    assert pages[0]["text"].startswith("740.0011 Moscow/11–443: Telegram\n\nThe Ambassador in the Soviet Union "
                                       "(Harriman) to the President7\n\nsecret\nurgent\n\nMoscow, November 4")
    assert pages[0]["text"].endswith("spoke of the conference8 at length. The talks went on into the")
    assert pages[1]["text"] == "night.9\n\nNothing more.\n\n[Harriman]"


def test_footnotes_keep_their_numbers_and_anchors(tmp_path, folder, capsys):
    run(capsys, volume(tmp_path, telegram()), "--records", folder, "--write")
    footnotes = load(folder, "frus1943test-d11")["footnotes"]
    assert footnotes == [
        {"number": "7", "text": "Sent via Navy channels.",
         "referenced_at": {"page": "101", "after": "Ambassador in the Soviet Union (Harriman) to the President"}},
        {"number": "8", "text": "See p. 99.",
         "referenced_at": {"page": "101", "after": "I saw Molotov today and he spoke of the conference"}},
        {"number": "9", "text": "The telegram ends here.", "referenced_at": {"page": "102", "after": "night."}},
    ]


def test_a_document_without_a_source_note_is_reported_by_field(tmp_path, folder, capsys):
    path = volume(tmp_path, telegram(), UNSOURCED)
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 1
    assert out.splitlines()[0] == "2 documents checked: 1 valid, 1 with errors, 0 warnings"
    assert "error: frus1943test.xml:d12: provenance.collection: missing (required)" in out
    assert "error: frus1943test.xml:d12: provenance.repository: missing (required)" in out
    assert "error: frus1943test.xml:d12: document_type: missing (required)" in out
    assert files(folder) == {}
    code, out = run(capsys, path, "--records", folder, "--partial")
    assert code == 1
    assert out.splitlines()[-1] == f"wrote 1 record (1 new, 0 updated) to {folder}; left out 1: frus1943test.xml:d12"
    assert set(files(folder)) == {"frus1943test-d11.json"}


def test_editorial_notes_are_listed_not_imported(tmp_path, folder, capsys):
    note = ('<div type="document" subtype="editorial-note" xml:id="d10"><head>Editorial Note</head>'
            '<p>The editors explain.</p></div>')
    code, out = run(capsys, volume(tmp_path, note, telegram()), "--records", folder, "--write")
    assert code == 0, out
    assert out.splitlines()[0] == "1 documents checked: 1 valid, 0 with errors, 0 warnings"
    assert "skipped: frus1943test.xml:d10" in out
    assert set(files(folder)) == {"frus1943test-d11.json"}


def test_settings_fill_what_the_volume_does_not_say(tmp_path, folder, capsys):
    code, out = run(capsys, volume(tmp_path, UNSOURCED), "--records", folder, "--write",
                    "--set", "document_type=letter", "--set", "provenance.collection.name=Hull Papers",
                    "--set", "provenance.repository.name=Library of Congress")
    assert code == 0, out
    record = load(folder, "frus1943test-d12")
    assert record["provenance"]["collection"] == {"name": "Hull Papers"}


def test_unlinked_names_are_resolved_only_when_the_persons_list_is_unambiguous(tmp_path, folder, capsys):
    run(capsys, volume(tmp_path, UNSOURCED), "--records", folder, "--partial", "--set", "document_type=letter",
        "--set", "provenance.collection.name=Hull Papers", "--set", "provenance.repository.name=Library of Congress")
    record = load(folder, "frus1943test-d12")
    hull, stalin = record["creators"][0], record["recipients"][0]
    assert hull["name"] == "Hull, Cordell" and "has no @corresp" in hull["note"]
    assert stalin["name"] == "Stalin" and "Not resolved through the volume's persons list" in stalin["note"]
    date = record["dates"][0]
    assert (date["date"], date["certainty"], date["not_before"], date["not_after"], date["edtf"]) == (
        "1943-11-05", "inferred", "1943-11-05", "1943-11-07", "1943-11-05/1943-11-07")


def test_reimporting_an_unchanged_volume_changes_nothing(tmp_path, folder, capsys):
    path = volume(tmp_path, telegram(), MEMORANDUM)
    run(capsys, path, "--records", folder, "--write")
    before = files(folder)
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 0
    assert f"unchanged: {folder / 'frus1943test-d11.json'} (frus1943test.xml:d11)" in out
    assert "nothing to write" in out
    assert files(folder) == before


def test_reimport_refuses_changes_without_update_and_lists_them(tmp_path, folder, capsys):
    run(capsys, volume(tmp_path, telegram()), "--records", folder, "--write")
    before = files(folder)
    changed = volume(tmp_path, telegram(head_start="The Ambassador in Moscow ("))
    code, out = run(capsys, changed, "--records", folder, "--write")
    assert code == 1
    assert ("error: frus1943test.xml:d11: id: 'frus1943test-d11' is already a record "
            f"({folder / 'frus1943test-d11.json'}) and the import would change title, creators, pages, footnotes")\
        in out
    assert files(folder) == before


def test_reimport_with_update_keeps_the_catalogers_edits(tmp_path, folder, make_app, capsys):
    run(capsys, volume(tmp_path, telegram()), "--records", folder, "--write")
    target = folder / "frus1943test-d11.json"
    record = json.loads(target.read_text())
    record["description"]["summary"] = "Harriman reports on Molotov."
    record["provenance"]["repository"]["division"] = "Corrected by a cataloger"
    record["provenance"]["editions"].append({"publisher": "Elsewhere", "title": "Another printing",
                                            "url": "https://example.org/another"})
    record["cataloging"]["created"] = record["cataloging"]["modified"] = "2020-01-01T00:00:00Z"
    target.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    changed = volume(tmp_path, telegram(head_start="The Ambassador in Moscow ("))
    code, out = run(capsys, changed, "--records", folder, "--write", "--update")
    assert code == 0, out
    assert f"update: {target} (frus1943test.xml:d11): title, creators, pages, footnotes" in out
    updated = json.loads(target.read_text())
    assert updated["title"] == "The Ambassador in Moscow (Harriman) to the President"
    assert updated["description"]["summary"] == "Harriman reports on Molotov."
    assert updated["provenance"]["repository"]["division"] == "Corrected by a cataloger"
    assert [e["title"] for e in updated["provenance"]["editions"]] == [
        "Foreign Relations of the United States, Diplomatic Papers, 1943, Test Volume", "Another printing"]
    assert updated["cataloging"]["created"] == "2020-01-01T00:00:00Z"
    assert updated["cataloging"]["modified"] > "2020-01-01T00:00:00Z"
    assert main(["validate", str(folder)]) == 0


def test_imported_records_are_served_and_a_restriction_survives_reimport(tmp_path, records_dir, make_app, capsys):
    path = volume(tmp_path, telegram(), MEMORANDUM)
    code, out = run(capsys, path, "--records", records_dir, "--write")
    assert code == 0, out
    target = records_dir / "frus1943test-d13.json"
    record = json.loads(target.read_text())
    record["access"] = {"status": "restricted", "reason": "Under review."}
    target.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    code, out = run(capsys, path, "--records", records_dir, "--write", "--update")
    assert code == 0, out
    assert json.loads(target.read_text())["access"]["status"] == "restricted"
    client = make_app(records_dir).test_client()
    response = client.get("/api/records/frus1943test-d11")
    assert response.status_code == 200
    assert response.get_data() == (records_dir / "frus1943test-d11.json").read_bytes()
    assert client.get("/api/records/frus1943test-d13").status_code == 404


def test_a_malformed_volume_is_a_usage_error(tmp_path, folder, capsys):
    broken = tmp_path / "broken.xml"
    broken.write_text("<TEI>\n<text>\n</TEI>\n", encoding="utf-8")
    code, out = run(capsys, broken, "--records", folder)
    assert code == 2
    assert "broken.xml:3: not well-formed XML" in out
    empty = volume(tmp_path, "", name="empty.xml")
    code, out = run(capsys, empty, "--records", folder)
    assert code == 2 and "has no div[@type='document']" in out


def test_the_shared_frus_excerpt(folder, capsys):
    """The teiHeader and three documents of frus1944Quebec, as the Office of the Historian encodes them."""
    path = shared_artifact("frus", "tei_examples", "frus1944Quebec_excerpts.xml")
    if path is None:
        conformance_not_checked("frus", "tei_examples", "frus1944Quebec_excerpts.xml")
        return
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 0, out
    assert out.splitlines()[0] == "3 documents checked: 3 valid, 0 with errors, 0 warnings"
    d25 = load(folder, "frus1944quebec-d25")
    assert d25["title"] == "President Roosevelt to Prime Minister Churchill"
    assert d25["document_type"] == "telegram"
    assert d25["provenance"]["classification"] == {"level": "top secret", "as_marked": ["top secret"]}
    assert d25["provenance"]["markings"] == [{"kind": "precedence", "text": "priority"}]
    assert d25["provenance"]["collection"] == {"name": "Roosevelt Papers"}
    assert d25["dateline"] == "[U.S.S. “Cummings”,] 11 August 1944."
    assert d25["signature"] == "Roosevelt"
    assert [f["number"] for f in d25["footnotes"]] == ["1", "2", "3", "4"]
    assert d25["footnotes"][2]["referenced_at"]["after"] == "Your 750"
    edition = d25["provenance"]["editions"][0]
    assert (edition["volume_id"], edition["year"], edition["document_number"], edition["url"]) == (
        "frus1944Quebec", 1972, "25", "https://history.state.gov/historicaldocuments/frus1944Quebec/d25")
    assert [e["name"] for e in edition["editors"]] == ["Richardson Dougall", "Arthur G. Kogan",
                                                      "Richard S. Patterson", "Irving L. Thomson"]
    d28 = load(folder, "frus1944quebec-d28")
    assert [p["label"] for p in d28["pages"]] == ["18", "19"]
    assert d28["pages"][0].get("label_supplied") is True
    assert "assist ants" in d28["pages"][0]["text"]  # the source's typo kept
    assert d28["pages"][1]["text"].startswith("I am therefore limiting those officers")
    d73 = load(folder, "frus1944quebec-d73")
    assert d73["provenance"]["file_number"] == "740.00119 Control (Germany)/8–2844"
    assert d73["document_type"] == "memorandum"
    assert d73["pages"][0]["label"] == "48"
    assert d73["provenance"]["editions"][0]["pages"] == "48"
    assert main(["validate", "--strict", str(folder)]) == 0
