"""The local web app (``onoffice-import ui``): the import in a browser, for the whole office.

:func:`importer.web.app.create_app` builds the Flask app over a
:class:`~importer.web.workspace.Workspace`; :func:`importer.web.server.serve` runs it on
127.0.0.1. The app adds no import logic: every step calls the library, as the CLI does.
"""
