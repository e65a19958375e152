"""Started in every Python process of a bench/mutation.py run (it puts this folder on
PYTHONPATH): the CLI processes the tests start load mutmut's configuration from the run's folder.

In mutmut's first pass (``MUTANT_UNDER_TEST=stats``) a mutated function records that it was
called, which reads mutmut's configuration from the working folder; a CLI process works in a
test's temporary folder, where there is none, and would fail. With the configuration loaded
here the call is recorded in that process and forgotten (mutmut sees only its own process), and
the CLI runs the original code, as every process does in that pass.
"""

import os

_FOLDER = os.environ.get("MUTATION_BENCH_FOLDER")
if _FOLDER and os.environ.get("MUTANT_UNDER_TEST") == "stats":
    from mutmut.configuration import config

    _here = os.getcwd()
    os.chdir(_FOLDER)
    try:
        config()
    finally:
        os.chdir(_here)
