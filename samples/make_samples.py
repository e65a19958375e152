"""Regenerate the sample files: python samples/make_samples.py

viewings.xlsx  a German office list of viewings (title above the header, Excel date/time cells)
termine.csv    a cp1252 semicolon export with dd.mm.yyyy HH:MM, ja/nein, quoted ; and line breaks
series.csv     UTF-8, ISO datetimes, series appointments with attendees and groups
outlook.ics, google.ics, apple.ics
               one office's viewings as each calendar exports them (mappings/ics.yaml)
outlook-de.csv, outlook-en.csv, outlook-uk.csv
               Outlook's CSV export in German, US and UK settings (mappings/outlook-csv.yaml)
google.csv     Google Calendar's documented import CSV (mappings/google-csv.yaml)

A few rows in each are deliberately faulty; the comments say which and why.
"""

from __future__ import annotations

import csv
import io
from datetime import date, time
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent

VIEWINGS = [
    # Datum, Beginn, Ende, Objekt-Nr., Interessent, E-Mail, Makler, Terminart, Erinnerung,
    # Ressourcen, abgesagt, Bemerkung
    (
        date(2027, 3, 1),
        time(10, 0),
        time(10, 45),
        "AC-1042",
        "Sabine Krüger",
        "sabine.krueger@example.de",
        "mmueller",
        "Besichtigung",
        "15 Min",
        "Firmenfahrzeug",
        "",
        "Erstbesichtigung, Unterlagen mitbringen",
    ),
    (
        date(2027, 3, 1),
        time(11, 30),
        time(12, 0),
        "0815",
        "Ahmet Yılmaz",
        "ahmet.yilmaz@example.de",
        "Maria Müller",
        "Besichtigung",
        "30 Min",
        "",
        "",
        "Parkplatz im Hof",
    ),
    (
        date(2027, 3, 2),
        time(9, 0),
        time(9, 30),
        "AC-1043",
        "Julia Hoffmann",
        "julia.hoffmann@example.de",
        "jschmidt",
        "Besichtigung",
        "1 Std",
        "Firmenfahrzeug, Schlüsselbund Objekt",
        "",
        "",
    ),
    (
        date(2027, 3, 2),
        time(14, 0),
        time(15, 30),
        "K-2201",
        "Peter Schäfer",
        "p.schaefer@schaefer-soehne.example",
        "aweber",
        "Übergabe",
        "1 Tag",
        "Schlüsselbund Objekt",
        "",
        "Zählerstände ablesen; Protokoll =2 Exemplare",
    ),
    (
        date(2027, 3, 3),
        time(16, 0),
        time(16, 30),
        "00077",
        "Élodie Martin",
        "elodie.martin@example.fr",
        "tkoch",
        "Besichtigung",
        "15 Min",
        "",
        "x",
        "Abgesagt per Telefon",
    ),
    (
        date(2027, 3, 4),
        time(10, 0),
        time(11, 0),
        "AC-1050",
        "Lukas Neumann",
        "l.neumann@uni.example",
        "lbecker",
        "Beratung",
        "",
        "Beamer, Konferenzraum",
        "",
        "Gewerbefläche, Präsentation vorbereiten",
    ),
    (
        date(2027, 3, 4),
        time(11, 0),
        time(12, 0),
        "K-2305",
        "Notariat Dr. Berg",
        "kanzlei@notar-berg.example",
        "skaya",
        "Notartermin",
        "2 Std",
        "",
        "",
        "Kaufvertrag",
    ),
    # Faulty: the end (09:15) is before the start (10:00).
    (
        date(2027, 3, 5),
        time(10, 0),
        time(9, 15),
        "AC-1042",
        "Fatima Al-Hassan",
        "fatima.alhassan@example.de",
        "mmueller",
        "Besichtigung",
        "15 Min",
        "",
        "",
        "",
    ),
    # Faulty: "10 Min" is not a reminder onOffice knows (5, 15 or 30 minutes are).
    (
        date(2027, 3, 5),
        time(13, 0),
        time(13, 30),
        "0815",
        "Tobias Richter",
        "tobias.richter@example.de",
        "jschmidt",
        "Besichtigung",
        "10 Min",
        "",
        "",
        "",
    ),
    # Faulty: the start time is missing.
    (
        date(2027, 3, 6),
        None,
        time(11, 0),
        "AC-1043",
        "Nina Zimmermann",
        "nina.zimmermann@example.de",
        "aweber",
        "Besichtigung",
        "15 Min",
        "",
        "",
        "",
    ),
    # Faulty with --resolve: no estate AC-9999 in the CRM.
    (
        date(2027, 3, 8),
        time(10, 0),
        time(10, 30),
        "AC-9999",
        "Sabine Krüger",
        "sabine.krueger@example.de",
        "mmueller",
        "Besichtigung",
        "15 Min",
        "",
        "",
        "",
    ),
    # Faulty with --resolve: no agent "fmeier".
    (
        date(2027, 3, 8),
        time(15, 0),
        time(15, 45),
        "K-2201",
        "Julia Hoffmann",
        "julia.hoffmann@example.de",
        "fmeier",
        "Besichtigung",
        "15 Min",
        "",
        "",
        "",
    ),
    # Faulty: "Kaffee" is not an appointment type of this mapping.
    (
        date(2027, 3, 9),
        time(9, 0),
        time(9, 30),
        "AC-1050",
        "Lukas Neumann",
        "lukas.neumann@example.de",
        "lbecker",
        "Kaffee",
        "",
        "",
        "",
        "",
    ),
    (
        date(2027, 3, 9),
        time(17, 45),
        time(18, 15),
        "AC-1042",
        "Markus Wagner",
        "markus.wagner@example.de",
        "tkoch",
        "Besichtigung",
        "5 Min",
        "Firmenfahrzeug",
        "",
        "Abendtermin 😀",
    ),
]
HEADER = [
    "Datum",
    "Beginn",
    "Ende",
    "Objekt-Nr.",
    "Interessent",
    "E-Mail",
    "Makler",
    "Terminart",
    "Erinnerung",
    "Ressourcen",
    "abgesagt",
    "Bemerkung",
]


def viewings() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Besichtigungen"
    sheet["A1"] = "Besichtigungen März 2027 – Immobilien Rheinland GmbH"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append([])
    sheet.append(HEADER)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for values in VIEWINGS:
        sheet.append([v if v != "" else None for v in values])
        row = sheet.max_row
        sheet.cell(row, 1).number_format = "DD.MM.YYYY"
        sheet.cell(row, 2).number_format = "HH:MM"
        sheet.cell(row, 3).number_format = "HH:MM"
        sheet.cell(row, 12).alignment = Alignment(wrap_text=True)
    for col, width in zip(
        "ABCDEFGHIJKL", (12, 8, 8, 11, 20, 32, 14, 13, 11, 32, 9, 40), strict=True
    ):
        sheet.column_dimensions[col].width = width
    notes = book.create_sheet("Notizen")
    notes["A1"] = "Interne Notizen, nicht importieren"
    book.save(HERE / "viewings.xlsx")


TERMINE_HEADER = [
    "Start",
    "Ende",
    "Betreff",
    "Objekt",
    "Kunde (KdNr)",
    "Mitarbeiter",
    "Privat",
    "Ganztägig",
    "Notiz",
]
TERMINE = [
    [
        "15.03.2027 09:00",
        "15.03.2027 09:30",
        "Telefonat Finanzierung",
        "",
        "132",
        "mmueller",
        "nein",
        "nein",
        "Rückruf wegen Grundbuchauszug; bitte Unterlagen prüfen",
    ],
    [
        "15.03.2027 11:00",
        "15.03.2027 12:30",
        "Bewertung Einfamilienhaus",
        "0815",
        "141",
        "jschmidt",
        "nein",
        "nein",
        'Gutachten: "Zustand gut"; Keller feucht',
    ],
    [
        "16.03.2027 00:00",
        "16.03.2027 00:00",
        "Messe Köln",
        "",
        "",
        "aweber",
        "nein",
        "ja",
        "Ganztägig auf der Immobilienmesse\nStand B12",
    ],
    [
        "16.03.2027 14:00",
        "16.03.2027 15:00",
        "Übergabe Wohnung",
        "K-2201",
        "0150",
        "tkoch",
        "nein",
        "nein",
        "Schlüsselübergabe, Zählerstände",
    ],
    [
        "17.03.2027 08:30",
        "17.03.2027 09:00",
        "Arzttermin",
        "",
        "",
        "lbecker",
        "ja",
        "nein",
        "privat",
    ],
    # Faulty: 31.02. does not exist.
    [
        "31.02.2027 10:00",
        "31.02.2027 11:00",
        "Besichtigung",
        "AC-1042",
        "133",
        "skaya",
        "nein",
        "nein",
        "",
    ],
    # Faulty: "vielleicht" is no yes/no value.
    [
        "18.03.2027 10:00",
        "18.03.2027 10:30",
        "Besichtigung",
        "AC-1043",
        "140",
        "mmueller",
        "vielleicht",
        "nein",
        "",
    ],
    # Faulty with --resolve: customer number 1207 belongs to two addresses (a couple).
    [
        "18.03.2027 16:00",
        "18.03.2027 17:00",
        "Beratung Verkauf",
        "00077",
        "1207",
        "jschmidt",
        "nein",
        "nein",
        "Ehepaar Wagner; beide kommen",
    ],
    [
        "19.03.2027 10:00",
        "19.03.2027 10:45",
        "Besichtigung",
        "AC-1050",
        "1300",
        "aweber",
        "nein",
        "nein",
        "Mit Beamer – Präsentation",
    ],
]


def termine() -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(TERMINE_HEADER)
    writer.writerows(TERMINE)
    (HERE / "termine.csv").write_bytes(buffer.getvalue().encode("cp1252"))


SERIES_HEADER = [
    "start",
    "end",
    "subject",
    "type",
    "repeat",
    "every",
    "until",
    "except",
    "attendees",
    "groups",
    "reminder",
    "reminder_by",
    "location",
]
SERIES = [
    [
        "2027-03-01T08:30:00",
        "2027-03-01T09:00:00",
        "Team-Meeting Vertrieb",
        "Intern",
        "weekly",
        "1",
        "2027-06-28",
        "2027-04-05, 2027-05-24",
        "mmueller, jschmidt, aweber",
        "Vertrieb Aachen",
        "15 minutes",
        "popup",
        "Büro Aachen, Konferenzraum 2",
    ],
    [
        "2027-03-02T16:00:00",
        "2027-03-02T17:00:00",
        "Jour fixe Vermietung",
        "Intern",
        "weekly",
        "2",
        "",
        "",
        "tkoch, lbecker",
        "Vermietung",
        "1 hours",
        "email|popup",
        "",
    ],
    [
        "2027-03-05T12:00:00",
        "2027-03-05T12:30:00",
        "Monatsabschluss",
        "Intern",
        "monthly",
        "1",
        "2027-12-31",
        "",
        "skaya",
        "Büro Köln",
        "1 days",
        "email",
        "Büro Köln",
    ],
    [
        "2027-04-01T10:00:00",
        "2027-04-01T11:00:00",
        "Eigentümerversammlung Pontstraße",
        "Sonstiges",
        "yearly",
        "1",
        "",
        "",
        "mmueller",
        "",
        "1 weeks",
        "email",
        "Pontstraße 88",
    ],
    [
        "2027-03-03T09:00:00",
        "2027-03-03T09:15:00",
        "Daily Standup",
        "Intern",
        "daily",
        "1",
        "2027-03-31",
        "",
        "mmueller, jschmidt",
        "",
        "",
        "",
        "",
    ],
    [
        "2027-03-10T14:00:00+01:00",
        "2027-03-10T15:00:00+01:00",
        "Schulung CRM",
        "Intern",
        "",
        "",
        "",
        "",
        "aweber, tkoch, lbecker, skaya",
        "Region West",
        "2 hours",
        "email",
        "Online",
    ],
    # Faulty: every 0 weeks.
    [
        "2027-03-04T09:00:00",
        "2027-03-04T09:30:00",
        "Kurzer Austausch",
        "Intern",
        "weekly",
        "0",
        "",
        "",
        "jschmidt",
        "",
        "",
        "",
        "",
    ],
    # Faulty: the series ends before it begins.
    [
        "2027-03-08T11:00:00",
        "2027-03-08T11:30:00",
        "Objektcheck",
        "Intern",
        "weekly",
        "1",
        "2027-02-01",
        "",
        "tkoch",
        "",
        "",
        "",
        "",
    ],
    # Faulty: reminder types without a reminder time.
    [
        "2027-03-09T15:00:00",
        "2027-03-09T15:30:00",
        "Rückblick",
        "Intern",
        "",
        "",
        "",
        "",
        "aweber",
        "",
        "",
        "sms",
        "",
    ],
    # Faulty with --resolve: no group "Marketing".
    [
        "2027-03-11T10:00:00",
        "2027-03-11T11:00:00",
        "Kampagnenplanung",
        "Intern",
        "",
        "",
        "",
        "",
        "skaya",
        "Marketing",
        "15 minutes",
        "popup",
        "",
    ],
]


def series() -> None:
    with (HERE / "series.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(SERIES_HEADER)
        writer.writerows(SERIES)


# --- calendar exports ------------------------------------------------------------------------
# The same viewings in each export's own dialect: Outlook (Windows time zone names with their
# VTIMEZONE, CRLF, folded lines), Google (UTC times with Z, TZID=Europe/Berlin, UNTIL in UTC),
# Apple (TZID with VTIMEZONE, all-day events as DATE, alarms with X- properties). Each holds a
# weekly series with a date left out and one occurrence moved, an all-day handover, an alarm
# onOffice cannot offer exactly (20 minutes: a warning), a cancelled viewing, and one rule no
# onOffice series can express (the last Friday of each month: an error naming BYSETPOS).

OUTLOOK_TZ = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
"""
BERLIN_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def _fold(text: str) -> str:
    """RFC 5545 line folding at 75 octets, CRLF line ends."""
    out = []
    for line in text.splitlines():
        data = line.encode("utf-8")
        while len(data) > 75:
            cut = 75
            while (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
                cut -= 1
            out.append(data[:cut].decode("utf-8"))
            data = b" " + data[cut:]
        out.append(data.decode("utf-8"))
    return "\r\n".join(out) + "\r\n"


def _calendar(prodid: str, zone: str, events: list[str], extra: str = "") -> str:
    body = "".join(events)
    return _fold(
        f"BEGIN:VCALENDAR\nPRODID:{prodid}\nVERSION:2.0\nCALSCALE:GREGORIAN\n"
        f"METHOD:PUBLISH\n{extra}{zone}{body}END:VCALENDAR"
    )


def _event(uid: str, lines: str) -> str:
    return f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20261201T090000Z\n{lines.strip()}\nEND:VEVENT\n"


def _alarm(trigger: str, extra: str = "") -> str:
    return (
        f"BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Erinnerung\nTRIGGER:{trigger}\n{extra}"
        "END:VALARM"
    )


AGENT = "ORGANIZER;CN=Maria Müller:mailto:m.mueller@immo-rheinland.example"
AGENT2 = "ORGANIZER;CN=Jonas Schmidt:mailto:j.schmidt@immo-rheinland.example"


def _viewings(when: dict[str, str], uid: str, alarm_extra: str = "") -> list[str]:
    """The office's viewings; ``when`` holds each export's way of writing the times."""
    return [
        _event(
            f"{uid}-1",
            f"""
SUMMARY:Besichtigung AC-1042 mit Sabine Krüger
{when["single"]}
LOCATION:Aachen, Theaterstraße 12
DESCRIPTION:Schlüssel beim Hausmeister abholen.\\nParkplatz im Hof.
{AGENT}
ATTENDEE;CN=Sabine Krüger;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:sabine.krueger@example.de
{AGENT.replace("ORGANIZER", "ATTENDEE")}
STATUS:CONFIRMED
{_alarm("-PT15M", alarm_extra)}
""",
        ),
        _event(
            f"{uid}-2",
            f"""
SUMMARY:Sprechstunde Vermietung
{when["weekly"]}
RRULE:FREQ=WEEKLY;{when["until"]};BYDAY=FR
{when["exdate"]}
LOCATION:Büro Aachen
{AGENT2}
""",
        ),
        _event(
            f"{uid}-2",
            f"""
SUMMARY:Sprechstunde Vermietung (verschoben)
{when["moved_id"]}
{when["moved"]}
LOCATION:Büro Aachen
{AGENT2}
""",
        ),
        _event(
            f"{uid}-3",
            f"""
SUMMARY:Übergabe K-2201 an Ahmet Yılmaz
{when["allday"]}
{AGENT}
ATTENDEE;CN=Ahmet Yılmaz:mailto:ahmet.yilmaz@example.de
""",
        ),
        _event(
            f"{uid}-4",
            f"""
SUMMARY:Besichtigung 0815 mit Julia Hoffmann
{when["alarmed"]}
{AGENT2}
ATTENDEE;CN=Julia Hoffmann:mailto:julia.hoffmann@example.de
{_alarm("-PT20M", alarm_extra)}
""",
        ),
        _event(
            f"{uid}-5",
            f"""
SUMMARY:Besichtigung AC-1043 (abgesagt)
{when["cancelled"]}
STATUS:CANCELLED
{AGENT}
""",
        ),
        _event(
            f"{uid}-6",
            f"""
SUMMARY:Eigentümerversammlung
{when["monthly"]}
RRULE:FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=6
{AGENT}
""",
        ),
    ]


def calendars() -> None:
    outlook = {
        "single": 'DTSTART;TZID="W. Europe Standard Time":20270305T100000\n'
        'DTEND;TZID="W. Europe Standard Time":20270305T104500',
        "weekly": 'DTSTART;TZID="W. Europe Standard Time":20270305T160000\n'
        'DTEND;TZID="W. Europe Standard Time":20270305T180000',
        "until": "UNTIL=20270430T140000Z",
        "exdate": 'EXDATE;TZID="W. Europe Standard Time":20270326T160000',
        "moved_id": 'RECURRENCE-ID;TZID="W. Europe Standard Time":20270409T160000',
        "moved": 'DTSTART;TZID="W. Europe Standard Time":20270408T160000\n'
        'DTEND;TZID="W. Europe Standard Time":20270408T180000',
        "allday": "DTSTART;VALUE=DATE:20270310\nDTEND;VALUE=DATE:20270311",
        "alarmed": 'DTSTART;TZID="W. Europe Standard Time":20270311T143000\n'
        'DTEND;TZID="W. Europe Standard Time":20270311T151500',
        "cancelled": 'DTSTART;TZID="W. Europe Standard Time":20270312T090000\n'
        'DTEND;TZID="W. Europe Standard Time":20270312T093000',
        "monthly": 'DTSTART;TZID="W. Europe Standard Time":20270326T180000\n'
        'DTEND;TZID="W. Europe Standard Time":20270326T200000',
    }
    google = {  # Google writes UTC (Z) for single events, TZID for series
        "single": "DTSTART:20270305T090000Z\nDTEND:20270305T094500Z",
        "weekly": "DTSTART;TZID=Europe/Berlin:20270305T160000\n"
        "DTEND;TZID=Europe/Berlin:20270305T180000",
        "until": "UNTIL=20270430T215959Z",
        "exdate": "EXDATE;TZID=Europe/Berlin:20270326T160000",
        "moved_id": "RECURRENCE-ID;TZID=Europe/Berlin:20270409T160000",
        "moved": "DTSTART:20270408T140000Z\nDTEND:20270408T160000Z",
        "allday": "DTSTART;VALUE=DATE:20270310\nDTEND;VALUE=DATE:20270311",
        "alarmed": "DTSTART:20270311T133000Z\nDURATION:PT45M",
        "cancelled": "DTSTART:20270312T080000Z\nDTEND:20270312T083000Z",
        "monthly": "DTSTART;TZID=Europe/Berlin:20270326T180000\n"
        "DTEND;TZID=Europe/Berlin:20270326T200000",
    }
    apple = {
        key: value.replace('"W. Europe Standard Time"', "Europe/Berlin")
        for key, value in outlook.items()
    } | {"until": "COUNT=8"}
    outlook_events = _viewings(outlook, "040000008200E00074C5B7101A82E00800000000A0C5")
    (HERE / "outlook.ics").write_bytes(
        _calendar(
            "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
            OUTLOOK_TZ,
            outlook_events,
            "X-MS-OLK-FORCEINSPECTOROPEN:TRUE\n",
        ).encode("utf-8")
    )
    (HERE / "google.ics").write_bytes(
        _calendar(
            "-//Google Inc//Google Calendar 70.9054//EN",
            BERLIN_TZ,
            _viewings(google, "7kq1m2n3o4p5@google.com"),
            "X-WR-CALNAME:Besichtigungen\nX-WR-TIMEZONE:Europe/Berlin\n",
        ).encode("utf-8")
    )
    (HERE / "apple.ics").write_bytes(
        _calendar(
            "-//Apple Inc.//macOS 15.1//EN",
            BERLIN_TZ,
            _viewings(apple, "A1B2C3D4-E5F6-4711-8899-0A0B0C0D0E0F", "X-WR-ALARMUID:A1\n"),
            "X-WR-CALNAME:Besichtigungen\n",
        ).encode("utf-8")
    )


OUTLOOK_DE = [
    "Betreff", "Beginnt am", "Beginnt um", "Endet am", "Endet um", "Ganztägiges Ereignis",
    "Erinnerung Ein/Aus", "Erinnerung am", "Erinnerung um", "Besprechungsplanung",
    "Erforderliche Teilnehmer", "Optionale Teilnehmer", "Besprechungsressourcen",
    "Abrechnungsinformationen", "Beschreibung", "Kategorien", "Ort", "Priorität", "Privat",
    "Reisekilometer", "Vertraulichkeit", "Zeitspanne zeigen als",
]  # fmt: skip
OUTLOOK_EN = [
    "Subject", "Start Date", "Start Time", "End Date", "End Time", "All day event",
    "Reminder on/off", "Reminder Date", "Reminder Time", "Meeting Organizer",
    "Required Attendees", "Optional Attendees", "Meeting Resources", "Billing Information",
    "Categories", "Description", "Location", "Mileage", "Priority", "Private", "Sensitivity",
    "Show time as",
]  # fmt: skip
# subject, start, end (date, time), all day, organizer, attendees, description, location,
# private; the last row's end is before its start (a row error naming both columns)
OUTLOOK_ROWS = [
    ("Besichtigung AC-1042", (5, 3, 10, 0), (5, 3, 10, 45), False, "Maria Müller",
     "Sabine Krüger", "Schlüssel beim Hausmeister.\nParkplatz im Hof.", "Aachen", False),
    ("Übergabe K-2201", (10, 3, 0, 0), (11, 3, 0, 0), True, "Maria Müller",
     "Ahmet Yılmaz", "", "Köln", False),
    ("Besichtigung 0815", (11, 3, 14, 30), (11, 3, 15, 15), False, "Jonas Schmidt",
     "Julia Hoffmann", "", "Aachen", True),
    ("Rückruf Notar", (12, 3, 16, 0), (12, 3, 15, 30), False, "Anna Weber", "", "", "", False),
]  # fmt: skip


# The UK export: English headers, day/month dates, 24-hour times; one more row, on 13 April,
# whose day proves the order (05/03/2027 is 5 March, not May 3)
OUTLOOK_UK_ROWS = [
    *OUTLOOK_ROWS,
    ("Notartermin K-2305", (13, 4, 9, 0), (13, 4, 10, 0), False, "Anna Weber",
     "Notariat Dr. Berg", "Kaufvertrag", "Köln", False),
]  # fmt: skip


def outlook_csv() -> None:
    for name, header, style, rows in (
        ("outlook-de.csv", OUTLOOK_DE, "de", OUTLOOK_ROWS),
        ("outlook-en.csv", OUTLOOK_EN, "us", OUTLOOK_ROWS),
        ("outlook-uk.csv", OUTLOOK_EN, "uk", OUTLOOK_UK_ROWS),
    ):
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        english = style != "de"
        for (
            subject,
            start,
            end,
            all_day,
            organizer,
            attendees,
            text,
            place,
            private,
        ) in rows:
            row = dict.fromkeys(header, "")
            values = [
                subject,
                _outlook_date(start, style),
                _outlook_time(start, style),
                _outlook_date(end, style),
                _outlook_time(end, style),
                _outlook_flag(all_day, english),
                _outlook_flag(False, english),
            ]
            row.update(zip(header[:7], values, strict=True))
            row[header[9]] = organizer
            row[header[10]] = attendees
            row["Description" if english else "Beschreibung"] = text
            row["Location" if english else "Ort"] = place
            row["Private" if english else "Privat"] = _outlook_flag(private, english)
            row["Priority" if english else "Priorität"] = "Normal"
            row["Sensitivity" if english else "Vertraulichkeit"] = "Normal"
            row["Show time as" if english else "Zeitspanne zeigen als"] = "2"
            writer.writerow([row[h] for h in header])
        # Outlook writes ANSI (Windows-1252) CSV
        (HERE / name).write_bytes(buffer.getvalue().encode("cp1252", "replace"))


def _outlook_date(moment: tuple[int, int, int, int], style: str) -> str:
    day, month = moment[0], moment[1]
    if style == "us":
        return f"{month}/{day}/2027"
    if style == "uk":
        return f"{day:02d}/{month:02d}/2027"
    return f"{day:02d}.{month:02d}.2027"


def _outlook_time(moment: tuple[int, int, int, int], style: str) -> str:
    hour, minute = moment[2], moment[3]
    if style == "us":
        return f"{(hour % 12) or 12}:{minute:02d}:00 {'AM' if hour < 12 else 'PM'}"
    return f"{hour:02d}:{minute:02d}:00"


def _outlook_flag(value: bool, english: bool) -> str:
    return ("True" if value else "False") if english else ("Ein" if value else "Aus")


# Google Calendar's import CSV as its help page documents it ("Create or edit a CSV file"):
# Subject, Start Date (05/30/2020), Start Time (10:00 AM), End Date, End Time, All Day Event,
# Description, Location, Private (True/False); UTF-8, comma-separated.
GOOGLE_CSV = [
    "Subject", "Start Date", "Start Time", "End Date", "End Time", "All Day Event",
    "Description", "Location", "Private",
]  # fmt: skip
GOOGLE_ROWS = [
    ("Besichtigung AC-1042", "03/05/2027", "10:00 AM", "03/05/2027", "10:45 AM", "False",
     "Schlüssel beim Hausmeister, Parkplatz im Hof", "Aachen, Theaterstraße 12", "False"),
    ("Übergabe K-2201", "03/10/2027", "", "03/11/2027", "", "True", "", "Köln", "False"),
    ("Besichtigung 0815", "03/11/2027", "2:30 PM", "03/11/2027", "3:15 PM", "False", "",
     "Aachen", "True"),
    ("Eigentümerversammlung", "03/26/2027", "6:00 PM", "03/26/2027", "8:00 PM", "False",
     "Tagesordnung: Dach, Heizung", "Aachen", "False"),
    # 12:30 PM is half past noon, 12:00 AM midnight: Google's own clock words
    ("Mittagstermin Notar", "03/29/2027", "12:30 PM", "03/29/2027", "1:30 PM", "False", "",
     "", "False"),
]  # fmt: skip


def google_csv() -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(GOOGLE_CSV)
    writer.writerows(GOOGLE_ROWS)
    (HERE / "google.csv").write_bytes(buffer.getvalue().encode("utf-8"))


if __name__ == "__main__":
    viewings()
    termine()
    series()
    calendars()
    outlook_csv()
    google_csv()
