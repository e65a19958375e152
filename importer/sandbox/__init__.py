"""A local onOffice API: same protocol, same rules, seeded data, switchable faults.

from importer.sandbox import Sandbox
with Sandbox() as sb:          # the sample agency, on a free port of 127.0.0.1
    print(sb.url, sb.credentials.token)
"""

from .dialects import POINTS, Dialect, DialectError
from .fixtures import FixtureError, Fixtures, fixtures_from_dict, load_fixtures
from .server import Credentials, Faults, Sandbox, Stats

__all__ = [
    "POINTS",
    "Credentials",
    "Dialect",
    "DialectError",
    "Faults",
    "FixtureError",
    "Fixtures",
    "Sandbox",
    "Stats",
    "fixtures_from_dict",
    "load_fixtures",
]
