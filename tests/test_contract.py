"""The API contract's own rules (importer/core/contract.py): onOffice's clock is Berlin's."""

from __future__ import annotations

import subprocess
import sys


def test_past_dates_are_judged_in_berlin() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from importer.core import contract

    berlin = datetime.now(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    assert abs((contract.local_now() - berlin).total_seconds()) < 5
    code = (
        "import time, os; os.environ['TZ'] = 'Pacific/Kiritimati'; time.tzset();"
        "from datetime import datetime; from importer.core import contract;"
        "print(round((datetime.now() - contract.local_now()).total_seconds() / 3600))"
    )
    ahead = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert int(ahead.stdout) >= 12  # a machine 13-14 h ahead still sees Berlin's now
