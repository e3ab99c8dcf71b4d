"""IIIF Content Search 1.0 and 2.0 inside a document: the answers have the shapes the specifications
give (and Mirador, Universal Viewer and Clover read), find what the catalog's search finds (case and
diacritics folded, phrases kept together), point at the right page, and keep restricted records closed."""

from __future__ import annotations

import re

import pytest

from tests.conftest import RESTRICTED_ID
from tests.conftest import write_record

STALIN = "stalin-truman-1946-04-06"


def manifest_pages(client, record_id: str) -> dict[str, str]:
    """canvas id → the verbatim text of its page, from the record as stored (pages in reading order)."""
    record = client.get(f"/api/records/{record_id}").get_json()
    pages = record.get("pages") or [page for part in record["parts"] for page in part["pages"]]
    return {f"http://localhost/iiif/{record_id}/canvas/{n}": page["text"] for n, page in enumerate(pages, 1)}


def occurrences(texts, word: str) -> int:
    return sum(len(re.findall(rf"\b{word}\b", text, re.IGNORECASE)) for text in texts)


def test_version_1_is_an_annotation_list_with_hits(read_client):
    answer = read_client.get(f"/iiif/{STALIN}/search/1?q=iran")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_json(force=True)
    assert body["@context"] == ["http://iiif.io/api/presentation/2/context.json",
                                "http://iiif.io/api/search/1/context.json"]
    assert body["@type"] == "sc:AnnotationList" and body["@id"].endswith(f"/iiif/{STALIN}/search/1?q=iran")
    pages = manifest_pages(read_client, STALIN)
    assert body["within"] == {"@type": "sc:Layer", "total": occurrences(pages.values(), "iran")} and body["hits"]
    resources = {r["@id"]: r for r in body["resources"]}
    assert len(resources) == len(body["hits"]) == body["within"]["total"]
    for hit in body["hits"]:
        assert hit["@type"] == "search:Hit" and hit["match"].lower() == "iran"
        annotation = resources[hit["annotations"][0]]
        assert annotation["@type"] == "oa:Annotation" and annotation["motivation"] == "sc:painting"
        assert annotation["resource"] == {"@type": "cnt:ContentAsText", "chars": hit["match"]}
        canvas, _, box = annotation["on"].partition("#xywh=")
        assert hit["before"] + hit["match"] + hit["after"] in pages[canvas]  # on the page it names
        assert re.fullmatch(r"\d+,\d+,\d+,\d+", box)  # boxed: the server draws these pages


def test_version_2_is_an_annotation_page_of_highlights_with_text_quotes(read_client):
    body = read_client.get(f'/iiif/{STALIN}/search/2?q="soviet government"').get_json(force=True)
    assert body["@context"] == "http://iiif.io/api/search/2/context.json" and body["type"] == "AnnotationPage"
    pages = manifest_pages(read_client, STALIN)
    assert body["partOf"]["total"] == len(body["items"]) == occurrences(pages.values(), "soviet government") > 0
    for item in body["items"]:
        assert item["type"] == "Annotation" and item["motivation"] == "highlighting"
        target = item["target"]
        assert target["type"] == "SpecificResource" and target["source"]["type"] == "Canvas"
        assert target["source"]["partOf"] == [{"id": f"http://localhost/iiif/{STALIN}/manifest", "type": "Manifest"}]
        quote = target["selector"][0]
        assert quote["type"] == "TextQuoteSelector" and quote["exact"].lower() == "soviet government"
        assert quote["prefix"] + quote["exact"] + quote["suffix"] in pages[target["source"]["id"]]


def test_case_and_diacritics_fold_and_phrases_stay_together(make_app, records_dir, synthetic):
    record = synthetic(3)
    record["access"] = {"status": "open"}
    pages = record["pages"] if "pages" in record else record["parts"][0]["pages"]
    pages[0]["text"] = "The Foxtröt memorandum. FOXTROT again; foxtrot alone. Trot fox."
    write_record(records_dir, record)
    client = make_app(records_dir).test_client()
    found = client.get(f"/iiif/{record['id']}/search/1?q=foxtrot").get_json(force=True)
    assert [hit["match"] for hit in found["hits"]] == ["Foxtröt", "FOXTROT", "foxtrot"]
    phrase = client.get(f'/iiif/{record["id"]}/search/1?q="trot fox"').get_json(force=True)
    assert [hit["match"] for hit in phrase["hits"]] == ["Trot fox"]
    excluded = client.get(f"/iiif/{record['id']}/search/1?q=foxtrot -memorandum").get_json(force=True)
    assert excluded["within"]["total"] == 0  # as in the catalog: a document with the excluded word is no match


def test_autocomplete_offers_the_documents_own_words(read_client):
    one = read_client.get(f"/iiif/{STALIN}/autocomplete/1?q=Sov").get_json(force=True)
    assert one["@type"] == "search:TermList" and one["terms"]
    assert all(term["match"].startswith("sov") and term["count"] > 0 for term in one["terms"])
    assert one["terms"][0]["url"].endswith(f"/iiif/{STALIN}/search/1?q={one['terms'][0]['match']}")
    two = read_client.get(f"/iiif/{STALIN}/autocomplete/2?q=sov").get_json(force=True)
    assert two["type"] == "TermPage" and [i["value"] for i in two["items"]] == [t["match"] for t in one["terms"]]


@pytest.mark.parametrize("path", [f"/iiif/{RESTRICTED_ID}/search/1?q=telegram", f"/iiif/{RESTRICTED_ID}/search/2?q=a",
                                  f"/iiif/{RESTRICTED_ID}/autocomplete/1?q=t", "/iiif/no-such-record/search/1?q=a"])
def test_restricted_and_unknown_documents_are_404(read_client, path):
    assert read_client.get(path).status_code == 404


@pytest.mark.parametrize("query", ["", "?q=", '?q="', "?q=-alone"])
def test_a_search_with_nothing_to_look_for_is_400_with_a_message(read_client, query):
    answer = read_client.get(f"/iiif/{STALIN}/search/1{query}")
    assert answer.status_code == 400 and answer.get_json()["error"]["message"]


def test_each_hit_is_boxed_where_its_words_are_drawn(read_client):
    """The box the answer gives is where the renderer put the words: drawing the page again with those
    words blanked out changes pixels inside the box only, and the box is as wide as the words."""
    from PIL import ImageChops

    from manifests import typescript

    body = read_client.get(f"/iiif/{STALIN}/search/2?q=iran").get_json(force=True)
    pages = manifest_pages(read_client, STALIN)
    assert body["items"]
    for item in body["items"]:
        text = pages[item["target"]["source"]["id"]]
        quote, fragment = item["target"]["selector"]
        x, y, w, h = map(int, fragment["value"].removeprefix("xywh=").split(","))
        assert fragment["type"] == "FragmentSelector" and w == round(len(quote["exact"]) * typescript._font().getlength("M"))
        at = text.index(quote["prefix"] + quote["exact"] + quote["suffix"]) + len(quote["prefix"])
        blanked = text[:at] + " " * len(quote["exact"]) + text[at + len(quote["exact"]):]
        changed = ImageChops.difference(typescript.draw_sheet(text), typescript.draw_sheet(blanked)).getbbox()
        assert changed is not None
        left, top, right, bottom = changed
        assert x - 2 <= left and right <= x + w + 2 and y <= top and bottom <= y + h, (changed, (x, y, w, h))


def test_footnote_annotations_target_the_words_their_mark_follows(read_client):
    """The two footnotes after the two rows of dots (occurrences 1 and 2) point at different places,
    each where the renderer drew the last word before its mark."""
    from manifests import typescript

    record_id = "harriman-roosevelt-1943-11-04"
    manifest = read_client.get(f"/iiif/{record_id}/manifest").get_json(force=True)
    record = read_client.get(f"/api/records/{record_id}").get_json()
    text = record["pages"][0]["text"]
    targets = {a["id"].rsplit("/", 1)[1]: a["target"] for a in manifest["items"][0]["annotations"][0]["items"]
               if "footnote" in a["id"]}
    second, third = targets["footnote-2"], targets["footnote-3"]
    assert second != third and "#xywh=" in second and "#xywh=" in third
    dots = record["footnotes"][1]["referenced_at"]["after"]
    first_row = text.find(dots)
    second_row = text.find(dots, first_row + 1)
    for target, row in ((second, first_row), (third, second_row)):
        end = row + len(dots)
        expected = typescript.text_box(text, end - len(dots.split()[-1]), end)
        assert target.endswith("#xywh=" + ",".join(map(str, expected)))
