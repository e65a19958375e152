"""A local onOffice API: same protocol, same rules, seeded data, switchable faults.

from importer.sandbox import Sandbox
with Sandbox() as sb:          # the sample agency, on a free port of 127.0.0.1
    print(sb.url, sb.credentials.token)
"""

from .fixtures import Fixtures, fixtures_from_dict, load_fixtures
from .server import Faults, Sandbox, Stats

__all__ = ["Faults", "Fixtures", "Sandbox", "Stats", "fixtures_from_dict", "load_fixtures"]
