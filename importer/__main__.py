"""``python -m importer``: the same as the ``onoffice-import`` command."""

from .cli import main

main()
