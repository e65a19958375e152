"""Regenerate the sample files: python samples/make_samples.py

viewings.xlsx  a German office list of viewings (title above the header, Excel date/time cells)
termine.csv    a cp1252 semicolon export with dd.mm.yyyy HH:MM, ja/nein, quoted ; and line breaks
series.csv     UTF-8, ISO datetimes, series appointments with attendees and groups

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


if __name__ == "__main__":
    viewings()
    termine()
    series()
