"""IIIF Presentation 3.0 resources built from catalog records: Manifests, Collections, annotations.

Pure functions of a record and the URL builder (`catalog.urls.Urls`, absolute), so every
representation names the same ids. Values that carry links are the small HTML subset the
Presentation API allows, with every record string escaped.

Languages say who wrote a value: the document's own words (its title, its parts' titles, its
transcription) carry the record's `language`; what the catalog writes (summaries, metadata, notes
such as "(label supplied)") carries INTERFACE_LANGUAGE; a printed page label is language-neutral
(`none`).
"""

from __future__ import annotations

from markupsafe import escape

from catalog import facts
from catalog.model import ImageService
from catalog.model import Page
from catalog.model import Part
from catalog.model import Record
from catalog.model import slugify
from catalog.urls import Urls
from manifests import images
from manifests import typescript

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
RIGHTS_URI_PREFIXES = ("http://creativecommons.org/licenses/", "http://creativecommons.org/publicdomain/",
                       "http://rightsstatements.org/vocab/")
"""The official schema accepts only these (and only in their http:// form)."""
INTERFACE_LANGUAGE = "en"
SEARCH1_PROFILE = "http://iiif.io/api/search/1/search"
AUTOCOMPLETE1_PROFILE = "http://iiif.io/api/search/1/autocomplete"
RENDERING_NOTE = "Rendering of the transcription, not a facsimile"


def lang(value: str, language: str = INTERFACE_LANGUAGE) -> dict:
    return {language: [value]}


def entry(label: str, *values: str) -> dict:
    return {"label": lang(label), "value": lang(values[0]) if len(values) == 1 else {"en": list(values)}}


def link_html(url: str, text: str) -> str:
    return f'<a href="{escape(url)}">{escape(text)}</a>'


# -- manifests --------------------------------------------------------------------------------

def manifest(record: Record, links: Urls, provider: dict) -> dict:
    """The record's Manifest: descriptive metadata, one Canvas per page, Ranges for parts."""
    rid = record.id
    canvases = [canvas(record, links, n, part, page) for n, (part, page) in enumerate(record.all_pages(), 1)]
    out = {
        "@context": PRESENTATION_CONTEXT,
        "id": links.manifest(rid),
        "type": "Manifest",
        "label": lang(record.title, record.language),
        "summary": summary(record),
        "metadata": metadata(record, links),
        "requiredStatement": required_statement(record),
        "navDate": f"{record.date.date.isoformat()}T00:00:00Z",
        "homepage": [{"id": links.record(rid), "type": "Text", "label": lang(f"Catalog record: {record.title}"),
                      "format": "text/html", "language": [INTERFACE_LANGUAGE]}],
        "seeAlso": [{"id": links.api_record(rid), "type": "Dataset", "format": "application/json",
                     "profile": links.record_schema(),
                     "label": lang("Catalog record (JSON)")}],
        "rendering": [{"id": links.transcription_text(rid), "type": "Text",
                       "format": "text/plain", "label": lang("Transcription (plain text)")}],
        "partOf": [collection_reference(record.provenance.collection.name, links)],
        "thumbnail": canvases[0]["thumbnail"],
        "behavior": [behavior(record)],
        "service": search_services(rid, links),
        "items": canvases,
    }
    rights = rights_uri(record.rights.uri)
    if rights:
        out["rights"] = rights
    out["provider"] = [provider]
    if record.parts:
        out["structures"] = structures(record, links)
    return out


def summary(record: Record) -> dict:
    """The cataloger's summary, in the catalog's language; without one, the document's title in its own."""
    if record.description.summary:
        return lang(record.description.summary)
    return lang(record.title, record.language)


def search_services(record_id: str, links: Urls) -> list[dict]:
    """What a manifest declares so viewers offer search: Content Search 1 and 2, each with autocomplete."""
    return [
        {"@id": links.content_search(record_id, 1), "@type": "SearchService1", "profile": SEARCH1_PROFILE,
         "service": [{"@id": links.autocomplete(record_id, 1), "@type": "AutoCompleteService1",
                      "profile": AUTOCOMPLETE1_PROFILE}]},
        {"id": links.content_search(record_id, 2), "type": "SearchService2",
         "service": [{"id": links.autocomplete(record_id, 2), "type": "AutoCompleteService2"}]},
    ]


def behavior(record: Record) -> str:
    """Printed book pages (FRUS page numbers) turn as a book; loose sheets are individuals."""
    labels = [page.label for _, page in record.all_pages()]
    return "paged" if len(labels) > 1 and all(label.isdigit() for label in labels) else "individuals"


def rights_uri(uri: str | None) -> str | None:
    if not uri:
        return None
    plain = "http://" + uri.split("://", 1)[1]
    return plain if plain.startswith(RIGHTS_URI_PREFIXES) else None


def required_statement(record: Record) -> dict:
    holder = record.rights.holder or record.provenance.repository.name
    return {"label": lang("Attribution"), "value": lang(f"{holder}. {record.rights.statement}")}


def provider(name: str, homepage: str) -> dict:
    return {"id": homepage, "type": "Agent", "label": lang(name),
            "homepage": [{"id": homepage, "type": "Text", "label": lang(name), "format": "text/html"}]}


def _person(person: facts.Person) -> str:
    agent = person.agent
    text = agent.name + (f", {agent.office}" if agent.office else "")
    return text + (f" (printed “{agent.as_printed}”)" if agent.as_printed and agent.as_printed != agent.name else "")


def metadata(record: Record, links: Urls) -> list[dict]:
    """Date, people, type, provenance and publication, in the order an archivist reads them."""
    p = record.provenance
    date = record.date
    out = [entry("Date", f"{facts.cited_date(date)} ({facts.iso_date(date)})"
                 + (f", printed “{date.as_printed}”" if date.as_printed else ""))]
    for name, people in (("From", facts.creators(record)), ("To", facts.recipients(record))):
        if people:
            out.append(entry(name, *[_person(p) for p in people]))
    out.append(entry("Type", *facts.document_types(record)))
    place_names = facts.place_names(record)
    if place_names:
        out.append(entry("Places", *place_names))
    collection = p.collection.name + "".join(f", {x}" for x in (p.collection.series, p.collection.file) if x)
    out.append(entry("Collection", collection))
    out.append(entry("Holding repository", p.repository.name + (f", {p.repository.division}"
                                                                 if p.repository.division else "")))
    if facts.file_numbers(record):
        out.append(entry("File number", *facts.file_numbers(record)))
    marked = "; ".join(p.classification.as_marked)
    out.append(entry("Original classification", facts.classification_label(p.classification)
                     + (f" (marked “{marked}”)" if marked else "")))
    if p.markings:
        out.append(entry("Markings", *[f"{m.kind}: {m.text}" + (f" ({facts.locator_text(m.located_at)})"
                                                                 if m.located_at else "") for m in p.markings]))
    authorities = list(dict.fromkeys(d.authority for d in facts.declassifications(record) if d.authority))
    if authorities:
        out.append(entry("Declassification authority", *authorities))
    if p.editions:
        out.append(entry("Published in", *[edition_html(e) for e in p.editions]))
    related = [link_html(relation_url(r, links), r.as_printed or r.target or r.uri) if relation_url(r, links)
               else r.as_printed for r in record.relations]
    if related:
        out.append(entry("Related", *[f"<span>{x}</span>" if x.startswith("<a ") else x for x in related]))
    if record.description.subjects:
        out.append(entry("Subjects", *record.description.subjects))
    out.append(entry("Language", record.language))
    return out


def relation_url(relation, links: Urls) -> str | None:
    """Where a related document is: its catalog record, else its URI."""
    return links.record(relation.target) if relation.target else relation.uri


def edition_html(edition) -> str:
    text = facts.edition_text(edition)
    return f"<span>{link_html(edition.url, text)}</span>" if edition.url else text


def collection_reference(name: str, links: Urls) -> dict:
    return {"id": links.iiif_collection(slugify(name)), "type": "Collection", "label": lang(name)}


# -- canvases and annotations -----------------------------------------------------------------

def page_image(page: Page, record_id: str, n: int, links: Urls) -> tuple[dict, int, int]:
    """The image a Canvas paints: the record's own scan or image, else the typescript rendering."""
    if page.image_service:
        scan = page.image_service
        full = "max" if scan.type == "ImageService3" else "full"  # Image API 3 has only `max`, 2 only `full`
        body = {"id": f"{scan_base(scan)}/full/{full}/0/default.jpg", "type": "Image", "format": "image/jpeg",
                "width": scan.width, "height": scan.height, "service": [scan_service(scan)]}
        return body, scan.width, scan.height
    if page.image_url:
        return {"id": page.image_url, "type": "Image", "width": page.width, "height": page.height}, \
            page.width, page.height
    width, height = typescript.page_size(page.text)
    service = links.image_service(record_id, n)
    body = {"id": f"{service}/full/max/0/default.png", "type": "Image", "format": "image/png",
            "width": width, "height": height, "label": lang(RENDERING_NOTE),
            "service": [images.service_reference(service)]}
    return body, width, height


def scan_base(scan: ImageService) -> str:
    return scan.id.rstrip("/")


def scan_service(scan: ImageService) -> dict:
    """The scan's service as Presentation 3 references each Image API version (2 keeps its JSON-LD keys)."""
    if scan.type == "ImageService3":
        return {"id": scan_base(scan), "type": "ImageService3", "profile": scan.profile}
    return {"@id": scan_base(scan), "@type": "ImageService2",
            "profile": f"http://iiif.io/api/image/2/{scan.profile}.json"}


def canvas(record: Record, links: Urls, n: int, part: Part | None, page: Page) -> dict:
    rid = record.id
    canvas_id = links.canvas(rid, n)
    body, width, height = page_image(page, rid, n, links)
    out = {
        "id": canvas_id,
        "type": "Canvas",
        "label": canvas_label(page),
        "width": width,
        "height": height,
        "thumbnail": [thumbnail(page, body)],
        "items": [{"id": f"{canvas_id}/paint", "type": "AnnotationPage", "items": [{
            "id": f"{canvas_id}/paint/image", "type": "Annotation", "motivation": "painting",
            "body": body, "target": canvas_id}]}],
        "annotations": [annotation_page(record, links, n, page)],
    }
    if body.get("label"):
        out["metadata"] = [entry("Image", RENDERING_NOTE)]
    return out


def canvas_label(page: Page) -> dict:
    """A printed page label is language-neutral; a supplied one is said so in English words, so the
    whole label is English (a language map cannot tag part of a string)."""
    if page.label_supplied:
        return lang(f"{page.label} (label supplied)")
    return {"none": [page.label]}


def annotation_page(record: Record, links: Urls, n: int, page: Page, with_context: bool = False) -> dict:
    """The page's transcription and the footnotes referenced on it, as supplementing text."""
    canvas_id = links.canvas(record.id, n)
    page_id = links.annotations(record.id, n)
    items = [text_annotation(f"{page_id}/transcription", canvas_id, page.text, record.language,
                             f"Transcription, page {page.label}")]
    for note in record.footnotes:
        if note.referenced_at and note.referenced_at.page == page.label and _in_part(record, n, page):
            items.append(text_annotation(f"{page_id}/footnote-{slugify(note.number)}",
                                         footnote_target(canvas_id, page, note),
                                         f"Footnote {note.number}: {note.text}", record.language,
                                         f"Footnote {note.number}"))
    out = {"id": page_id, "type": "AnnotationPage", "items": items}
    return {"@context": PRESENTATION_CONTEXT, **out} if with_context else out


def footnote_target(canvas_id: str, page: Page, note) -> str:
    """Where the footnote's mark is: on a page the server draws, the box of the last word the mark
    follows (`referenced_at.after`, its `occurrence`); elsewhere, or when the words are not found, the page."""
    after = note.referenced_at.after
    if not after or page.image_service or page.image_url:
        return canvas_id
    at = -1
    for _ in range(note.referenced_at.occurrence or 1):
        at = page.text.find(after, at + 1)
        if at < 0:
            return canvas_id
    end = at + len(after)
    last_word = end - len(after.rstrip().split()[-1]) if after.split() else at  # the mark follows it
    box = typescript.text_box(page.text, last_word, end)
    return f"{canvas_id}#xywh={','.join(map(str, box))}" if box else canvas_id


def _in_part(record: Record, n: int, page: Page) -> bool:
    """A footnote names a page label; in a compound item the first page with that label carries it."""
    first = next(i for i, (_, p) in enumerate(record.all_pages(), 1) if p.label == page.label)
    return first == n


def text_annotation(annotation_id: str, target: str, text: str, language: str, label: str) -> dict:
    return {"id": annotation_id, "type": "Annotation", "motivation": "supplementing", "label": lang(label),
            "body": {"type": "TextualBody", "value": text_html(text), "format": "text/html", "language": language},
            "target": target}


def text_html(text: str) -> str:
    """Transcribed text as HTML that keeps its line breaks (viewers collapse those of plain text): one
    paragraph, the text escaped, each line break a `<br/>`, the HTML the Presentation API allows (`p`
    and `br` among its few tags; well-formed XML, starting with '<' and ending with '>')."""
    return "<p>" + "<br/>".join(str(escape(line)) for line in text.splitlines()) + "</p>"


THUMBNAIL_WIDTH = 200
"""Thumbnails asked of a scan's service: wide enough for a viewer's strip, a few KB to fetch."""


def thumbnail(page: Page, body: dict) -> dict:
    """A small image for a Canvas: a viewer loads it as it is rather than work out a size of its own."""
    if page.image_service:
        return scan_thumbnail(page.image_service)
    if page.image_url:
        return dict(body)  # a plain image offers no smaller size
    small = images.sizes(body["width"], body["height"])[0]  # our rendering: the size its service lists first
    service = body["service"][0]["id"]
    return {"id": f"{service}/full/{small['width']},{small['height']}/0/default.png", "type": "Image",
            "format": "image/png", "width": small["width"], "height": small["height"]}


def scan_thumbnail(scan: ImageService) -> dict:
    """Level 1 and 2 services draw any width; a level-0 service only the sizes its info.json lists (the
    smallest of 150 px or more is taken), and with none listed, the full image is all there is."""
    v3 = scan.type == "ImageService3"
    if scan.profile != "level0":
        width = min(THUMBNAIL_WIDTH, scan.width)
        height = max(1, round(scan.height * width / scan.width))
    elif scan.sizes:
        wide_enough = [s for s in scan.sizes if s.width >= 150] or [max(scan.sizes, key=lambda s: s.width)]
        size = min(wide_enough, key=lambda s: s.width)
        width, height = size.width, size.height
    else:
        width, height = scan.width, scan.height
    size = ("max" if v3 else "full") if (width, height) == (scan.width, scan.height) \
        else (f"{width},{height}" if v3 else f"{width},")
    return {"id": f"{scan_base(scan)}/full/{size}/0/default.jpg", "type": "Image", "format": "image/jpeg",
            "width": width, "height": height, "service": [scan_service(scan)]}


def structures(record: Record, links: Urls) -> list[dict]:
    """One Range per part, so the viewer's table of contents names each document in the item."""
    ranges, n = [], 1
    for index, part in enumerate(record.parts or [], 1):
        members = [{"id": links.canvas(record.id, n + i), "type": "Canvas"} for i in range(len(part.pages))]
        n += len(part.pages)
        ranges.append({"id": links.range(record.id, index), "type": "Range",
                       "label": lang(part.title, record.language), "items": members})
    return ranges


def transcription_text(record: Record) -> str:
    """The whole transcription as plain text, with page markers and the footnotes at the end."""
    lines = [record.title, ""]
    current = None
    for part, page in record.all_pages():
        if part is not None and part is not current:
            current = part
            lines += [f"=== {part.title} ===", ""]
        lines += [f"[Page {page.label}]", page.text.rstrip(), ""]
    if record.footnotes:
        lines += ["Footnotes", ""] + [f"{note.number}. {note.text}" for note in record.footnotes]
    return "\n".join(lines).rstrip() + "\n"


# -- collections ------------------------------------------------------------------------------

def collection(collection_id: str, label: str, summary: str | None, items: list[dict],
               part_of: dict | None = None) -> dict:
    out = {"@context": PRESENTATION_CONTEXT, "id": collection_id, "type": "Collection", "label": lang(label)}
    if summary:
        out["summary"] = lang(summary)
    if part_of:
        out["partOf"] = [part_of]
    out["items"] = items
    return out


def manifest_reference(row, links: Urls) -> dict:
    return {"id": links.manifest(row["id"]), "type": "Manifest", "label": lang(row["title"]),
            "navDate": f"{row['date']}T00:00:00Z"}
