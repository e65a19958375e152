"""The calendar create cases the sandbox accepts and refuses: shared by the sandbox's own tests
(test_sandbox_calendar.py) and the client-side rules that must agree with it (test_schema.py)."""

from __future__ import annotations

from typing import Any

BASE = {"start_dt": "2026-08-01 17:45:00", "end_dt": "2026-08-01 18:00:00"}
SERIES = {
    "rp_flag": True,
    "rp_type": "w",
    "rp_tage": 1,
    "rp_beginn_datum": "2026-08-01",
    "rp_ende_status": 2,
}


def params(data: dict[str, Any] | None = None, **other: Any) -> dict[str, Any]:
    return {"data": {**BASE, **(data or {})}, **other}


ACCEPTED = {
    "minimal": params(),
    "every-data-field": params(
        {
            "description": "Besichtigung AC-1042",
            "note": "Schlüssel im Büro 😀",
            "art": "Besichtigung",
            "ganztags": False,
            "allowTransitTime": True,
            "transitTime": "00:30:00",
            "transitTimePre": "00:15:00",
            "transitTimePost": "00:15:00",
            "abgesagt": False,
            "status": "completed",
            "private": True,
            "erinnerung": "15 minutes",
            "origin": False,
            "ressources": ["ind_Schl_3151", "ind_Schl_3152"],
            "von": "mmueller",
            **SERIES,
            "rp_ende_status": 1,
            "rp_ende_datum": "2026-09-30",
            "rp_exception": "#2026-08-08#2026-08-15",
        }
    ),
    "legacy-0-1-booleans": params({"ganztags": 1, "private": "0"}),
    "equal-start-end": params({"end_dt": BASE["start_dt"]}),
    "open-ended-series": params(SERIES),
    "every-erinnerung": params({"erinnerung": "3 weeks"}),
    "reminder-types-with-erinnerung": params(
        {"erinnerung": "1 days"}, reminderTypes=["email", "popup", "sms"]
    ),
    "links": params(
        relatedAddressIds=[5431, 5432],
        relatedEstateId=608,
        subscribers={"users": [17, 18], "groups": [3]},
    ),
    "estate-id-as-string": params(relatedEstateId="608"),
    "location-linked-estate": params(relatedEstateId=608, location={"estate": 608}),
    "location-string-id": params(relatedAddressIds=[5431], location={"address": "5431"}),
    "location-mandant": params(location={"mandant": True}),
    "location-sonstiges": params(location={"sonstiges": "Testr.1, 52062 Aachen"}),
    "location-video": params(location={"customVideoUrl": "https://meet.example/x"}),
    "location-user-meeting": params(location={"userMeetingUrl": 17}),
    "location-not-specified": params(location={"keine Angaben": ""}),
    "every-status": params({"status": "participantsAvailable"}),
}

REFUSED = {
    "missing-start": ({"data": {"end_dt": BASE["end_dt"]}}, 91),
    "missing-end": ({"data": {"start_dt": BASE["start_dt"]}}, 92),
    "no-data": ({}, 91),
    "start-without-seconds": (params({"start_dt": "2026-08-01 17:45"}), 255),
    "start-german-format": (params({"start_dt": "01.08.2026 17:45:00"}), 255),
    "impossible-date": (params({"start_dt": "2026-02-30 10:00:00"}), 255),
    "end-before-start": (params({"end_dt": "2026-08-01 17:00:00"}), 93),
    "unknown-data-field": (params({"subject": "x"}), 154),
    "description-not-text": (params({"description": 42}), 255),
    "description-too-long": (params({"description": "x" * 256}), 255),
    "boolean-as-text": (params({"ganztags": "ja"}), 255),
    "status-unknown": (params({"status": "done"}), 255),
    "erinnerung-unknown": (params({"erinnerung": "10 minutes"}), 255),
    "transit-not-hh-mm-ss": (params({"transitTime": "30 min"}), 255),
    "transit-minutes-over-59": (params({"transitTimePre": "00:75:00"}), 255),
    "rp-type-unknown": (params({**SERIES, "rp_type": "x"}), 255),
    "rp-tage-zero": (params({**SERIES, "rp_tage": 0}), 255),
    "rp-tage-1000": (params({**SERIES, "rp_tage": 1000}), 255),
    "rp-ende-status-3": (params({**SERIES, "rp_ende_status": 3}), 255),
    "rp-date-format": (params({**SERIES, "rp_beginn_datum": "01.08.2026"}), 255),
    "rp-exception-no-hash": (params({**SERIES, "rp_exception": "2026-08-08"}), 255),
    "rp-exception-bad-date": (params({**SERIES, "rp_exception": "#2026-13-08"}), 255),
    "rp-flag-without-type": (
        params(
            {"rp_flag": True, "rp_tage": 1, "rp_beginn_datum": "2026-08-01", "rp_ende_status": 2}
        ),
        167,
    ),
    "rp-ends-without-date": (params({**SERIES, "rp_ende_status": 1}), 167),
    "rp-ends-before-begin": (
        params({**SERIES, "rp_ende_status": 1, "rp_ende_datum": "2026-07-01"}),
        255,
    ),
    "reminder-types-without-erinnerung": (params(reminderTypes=["email"]), 255),
    "reminder-type-unknown": (params({"erinnerung": "1 days"}, reminderTypes=["fax"]), 255),
    "unknown-art": (params({"art": "Kaffeeklatsch"}), 252),
    "unknown-resource": (params({"ressources": ["Firmenfahrzeug"]}), 252),
    "unknown-von": (params({"von": "nobody"}), 251),
    "unknown-address": (params(relatedAddressIds=[1]), 292),
    "unknown-estate": (params(relatedEstateId=1), 293),
    "unknown-user": (params(subscribers={"users": [999]}), 80),
    "unknown-group": (params(subscribers={"groups": [999]}), 80),
    "users-not-array": (params(subscribers={"users": 17}), 301),
    "groups-not-array": (params(subscribers={"groups": 3}), 295),
    "too-many-ids": (params(subscribers={"users": [17] * 501}), 302),
    "location-two-keys": (params(location={"sonstiges": "x", "mandant": True}), 290),
    "location-unknown-key": (params(location={"room": "x"}), 290),
    "location-id-not-integer": (params(location={"estate": "AC-1042"}), 290),
}
