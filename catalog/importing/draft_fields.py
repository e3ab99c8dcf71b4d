"""Readers for the pieces of a transcription a cataloger records: markings, dates, stamps, headings.

Each reader takes printed text and returns what it proposes with the exact text it read, so the
drafter can mark every value `needs review` with its source. OCR slips are read through (a fuzzy
"TOD SEGRET" is a top secret marking) but never corrected in what is kept as printed.
"""

from __future__ import annotations

import datetime as dt
import re

from catalog.facts import MONTHS

MONTH = r"(?:" + "|".join(MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.)"
FULL_DATE = re.compile(rf"\b({MONTH}) (\d{{1,2}}), (\d{{4}})\b")
TIME = r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.\s?m\."
DATE_CODE = re.compile(r"/(\d{1,2})[–-](\d{1,2})(\d{2})$")

LEVELS = (("top secret", ("TOP", "SECRET")), ("secret", ("SECRET",)), ("confidential", ("CONFIDENTIAL",)),
          ("restricted", ("RESTRICTED",)))
PRECEDENCE = ("urgent", "priority", "niact", "immediate", "flash", "operational priority", "most urgent",
              "triple priority", "routine")


def month_number(name: str) -> int:
    key = name.rstrip(".")[:3].lower()
    return [m[:3].lower() for m in MONTHS].index(key) + 1


def parse_date(match: re.Match) -> dt.date | None:
    """A FULL_DATE match as a date, or None when impossible (an OCR slip such as "June 31")."""
    try:
        return dt.date(int(match.group(3)), month_number(match.group(1)), int(match.group(2)))
    except ValueError:
        return None


def clock(hour: str, minute: str | None, half: str) -> str:
    """'6', '38', 'p' → '18:38'."""
    h = int(hour) % 12 + (12 if half.lower() == "p" else 0)
    return f"{h:02d}:{int(minute or 0):02d}"


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def classification_level(line: str) -> str | None:
    """The level a standalone marking line stands for, OCR slips allowed ("TOD SEGRET", "TOP OECHET"):
    each word within a third of its length of the level's word, the first of two within one letter."""
    words = re.sub(r"[^A-Za-z ]", "", line).upper().split()
    for level, wanted in LEVELS:
        if len(words) != len(wanted):
            continue
        slack = [1, len(wanted[1]) // 2] if len(wanted) == 2 else [max(1, len(wanted[0]) // 5)]
        if all(edit_distance(w, x) <= s for w, x, s in zip(words, wanted, slack, strict=True)):
            return level
    return None


def standalone_marking(line: str) -> tuple[str, str] | None:
    """(kind, text) for a line that is a marking by itself: precedence, paraphrase, routing, stamp,
    a parenthesized handling instruction. Typist's initials before a notation are left out."""
    bare = line.strip()
    if not bare:
        return None
    if bare.lower().rstrip(".") in PRECEDENCE:
        return "precedence", bare
    paraphrase = re.match(r"^(?:[A-Z]{2,4}\s+)?(\[Paraphrase\]|No paraphrase necessary\.?|Paraphrase)$", bare)
    if paraphrase:
        return "paraphrase", paraphrase.group(1)
    if re.match(r"^(?:ACTION|INFO|IWFO)\s*:", bare):
        return "routing", bare
    if re.match(r"^RECEIVED\s+\d{6,7}", bare):
        return "stamp", bare
    if re.fullmatch(r"\((?:Personal|Secret|Strictly|For the|Eyes only)[^()]*\)", bare):
        return "handling", bare
    return None


def initials_before(line: str) -> str | None:
    match = re.match(r"^([A-Z]{2,4})\s+\S", line.strip())
    return match.group(1) if match and standalone_marking(line) else None


# -- dates --------------------------------------------------------------------------------------

DATELINE = re.compile(
    rf"^(?P<place>[A-Z][A-Za-z .'-]+?), (?P<date>{MONTH} \d{{1,2}}, \d{{4}})"
    rf"(?:[—–-]+\s*(?P<time>{TIME}|noon|midnight))?\.?$")
RECEIVED = re.compile(rf"^\[Received (?P<date>{MONTH} \d{{1,2}}(?:, \d{{4}})?)(?:[—–-]+\s*(?P<time>{TIME}))?\]$")
STATION_LINE = re.compile(
    rf"^(?P<place>[A-Z][A-Za-z .'-]+?)(?: (?P<route>via [A-Z][A-Za-z]+))?\s+Dated (?P<date>{MONTH} \d{{1,2}}, \d{{4}})"
    rf"(?:\s+(?P<received>Rec'?d\.? {TIME}))?")
"""The head of a State Department incoming telegram: "Moscow via War Dated April 5, 1946 Rec'd 6:38 p.m."."""
TELEGRAM_LINE = re.compile(rf"^(?P<number>\d{{1,5}}), (?P<date>{MONTH} \d{{1,2}}), (?P<time>{TIME})\.?$")
DTG_PARAGRAPH = re.compile(r"^(\d{2})(\d{2})(\d{2})Z?\.\s", re.MULTILINE)
"""A FRUS date-time group opening the text: "160900. Subsequent to ..." (day 16, 09:00)."""
RECEIVED_STAMP = re.compile(r"^RECEIVED\s+(?P<dtg>\d{6,7}Z?)\s*(?:\((?P<local>\d{3,4})\s*(?P<half>[AP])M\s*(?P<zone>[A-Z]{2,4})\))?",
                            re.MULTILINE)
ZONES = {"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "GMT": 0, "Z": 0}


def time_of(text: str | None) -> str | None:
    if not text:
        return None
    if text in ("noon", "midnight"):
        return "12:00" if text == "noon" else "00:00"
    match = re.match(TIME, text)
    return clock(*match.groups()) if match else None


def received_stamp(match: re.Match, month: int, year: int) -> list[dict]:
    """A Signal Corps "RECEIVED 0603552 (1055 PM EST)": the date-time group read as day, hour and
    minute (a seventh digit is taken for a misread Z), and the local time printed beside it, whose
    day is worked out from the group's (03:55 GMT on the 6th is 10:55 p.m. EST on the 5th)."""
    dtg = match.group("dtg")
    garbled = len(dtg) == 7 and dtg[-1].isdigit()
    day, hour, minute = int(dtg[:2]), int(dtg[2:4]), int(dtg[4:6])
    try:
        utc = dt.datetime(year, month, day, hour, minute)
    except ValueError:
        return []
    certainty = {"certainty": "questionable"} if garbled else {}
    out = []
    if match.group("local") and match.group("zone") in ZONES:
        local = utc + dt.timedelta(hours=ZONES[match.group("zone")])
        printed = match.group(0)[match.group(0).index("("):]
        out.append({"type": "received", "date": local.date().isoformat(), **certainty,
                    "time": local.strftime("%H:%M"), "timezone": match.group("zone"), "as_printed": printed})
    out.append({"type": "received", "date": utc.date().isoformat(), **certainty,
                "time": utc.strftime("%H:%M"), "timezone": "Z", "as_printed": dtg})
    return out


def date_code(file_number: str) -> dt.date | None:
    """The M–DDYY date code after a decimal file number's slash, read in the 1940s ("10–3043")."""
    match = DATE_CODE.search(file_number)
    if not match:
        return None
    month, day, year = (int(g) for g in match.groups())
    try:
        return dt.date(1900 + year, month, day)
    except ValueError:
        return None


FOOTNOTE_SENT = re.compile(rf"\bSent\b[^.]*?\b((?:beginning )?on ({MONTH}) (\d{{1,2}}), (\d{{4}}))")
FOOTNOTE_RECEIVED = re.compile(
    rf"((?:apparently )?received in (?P<place>[A-Z][a-z]+) (?P<by>by|on) (?P<month>{MONTH}) (?P<day>\d{{1,2}})(?:, (?P<year>\d{{4}}))?)")
FOOTNOTE_SENT_FROM = re.compile(r"\bSent by [^,.]+, (?P<place>[A-Z][a-z]+),")
FOOTNOTE_CHANNEL = re.compile(r"\bvia ([A-Za-z]+ channels)\b")
FOOTNOTE_SECTIONS = re.compile(r"\bin (two|three|four|five|six|seven|eight|nine|ten) sections\b")
NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


# -- declassification stamps -----------------------------------------------------------------------

STAMP_HEAD = re.compile(r"^D.{0,2}CLASSIFIED\b")
STAMP_LINE = re.compile(r"^(?:E\.\s?O\.|By\b|\S{1,5} of State letter|NARS\b|Date\b)")
AUTHORITY = re.compile(r"(?:\bE\.\s?O\.|(?<=\s)O)\s?(?P<number>\d{5}),?\s*(?P<sections>Sec\..*?)"
                       r"(?=\s+By\b|\s+\S{1,5} of State letter|\n|$)")
LETTER = re.compile(r"\S{1,5} of State letter,?[^\n]*")
BY = re.compile(r"\bBy\s+(.+?)\s+Date\b")
STAMP_DATE = re.compile(r"\bDate\s+(\S[^\n]*?)\s*$", re.MULTILINE)


def declassification(stamp: str) -> dict:
    """Authority, agency letter, declassifier and date of a stamp, each as printed where it is garbled;
    the authority is also given in its normal citation form ("E.O. 11652, Sec. ...")."""
    found: dict = {}
    authority = AUTHORITY.search(stamp)
    if authority:
        found["authority"] = f"E.O. {authority.group('number')}, {authority.group('sections').strip()}"
        found["authority_as_printed"] = authority.group(0).strip()
    letter = LETTER.search(stamp)
    rest = ""
    if letter:
        text = letter.group(0)
        dated = re.match(rf".*?{MONTH} \d{{1,2}}, \d{{4}}", text)
        if dated:
            text, rest = dated.group(0), text[dated.end():]
        found["agency_letter"] = text.strip()
    by = BY.search(stamp) or re.match(r"\s*(.+?)\s+Date\b", rest)
    if by:
        found["by"] = by.group(1).strip()
    when = STAMP_DATE.search(stamp)
    if when:
        found["date_as_printed"] = when.group(1)
        clean = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{2})", when.group(1))
        try:
            found["date"] = dt.date(1900 + int(clean.group(3)), int(clean.group(1)), int(clean.group(2))).isoformat()
        except (AttributeError, ValueError):
            found["date_certainty"] = "questionable"
    found["as_printed"] = stamp
    return found


# -- people -------------------------------------------------------------------------------------

HEADING_TO = re.compile(r"^(?P<from>.+?\)|(?:The|the) [A-Z][^()]*?) to (?P<to>(?:the |The )?[A-Z].*)$")
HEADING_BY = re.compile(r"^(?P<type>Memorandum(?: of Conversation)?|Memorandum for the Record|Minutes|Report|Letter|"
                        r"Note|Telegram|Message),? by (?P<from>.+)$")
TITLES = ("President", "Prime Minister", "Secretary", "Marshal", "Generalissimo", "General", "Ambassador",
          "Mr.", "Mrs.", "Ambassador", "Premier", "Chairman")


def agent(heading: str) -> dict:
    """An agent from a heading phrase: "The Ambassador in the Soviet Union (Harriman)" → office and
    surname; "President Truman" → title and surname; "the Secretary of State" → office only."""
    bare = heading.strip()
    named = re.fullmatch(r"(?:[Tt]he )?(?P<office>.+?) \((?P<name>[^()]+)\)", bare)
    if named:
        return {"name": named.group("name"), "office": named.group("office"), "as_printed": bare}
    for title in TITLES:
        titled = re.fullmatch(rf"(?:[Tt]he )?({re.escape(title)}) ([A-Z][a-z]+)", bare)
        if titled:
            return {"name": titled.group(2), "office": titled.group(1), "as_printed": bare}
    office = re.sub(r"^[Tt]he ", "", bare)
    if office[:1].isupper() and not re.fullmatch(r"(?:[A-Z][a-z]*\.? )+[A-Z][a-z]+", office):
        return {"name": office, "office": office, "as_printed": bare, "office_only": True}
    return {"name": inverted(bare), "as_printed": bare}


def inverted(name: str) -> str:
    """'Harry S. Truman' → 'Truman, Harry S.'; 'J. STALIN' → 'Stalin, J.'; one word stays."""
    words = [w.capitalize() if w.isupper() and len(w) > 2 else w for w in name.split()]
    return words[0] if len(words) == 1 else f"{words[-1]}, {' '.join(words[:-1])}"


ITEM_TITLE = re.compile(
    rf"^(?P<title>(?P<type>[A-Z][a-z]+), (?P<from>[A-Z][^,]*?) to (?P<to>[A-Z][^,]*?),(?: [^.]*?,)? "
    rf"(?P<date>{MONTH} \d{{1,2}}, \d{{4}}))\.\s*(?P<citation>.*)$")
"""A library's item title and citation: "Telegram, Josef Stalin to Harry S. Truman, with related material,
April 6, 1946. President's Secretary's File, Truman Papers."."""
