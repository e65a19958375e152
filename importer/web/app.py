"""The pages of the local web app: connection, file, mapping, check, import, history.

Flask: a small, well-kept WSGI framework with server-rendered Jinja templates, a test client
for the route tests and nothing to build; the library is synchronous (pandas, requests), so
a WSGI app with a thread per request and a thread per job fits it. Each route reads the form,
calls the :class:`~importer.web.workspace.Workspace` (which calls the library) and renders a
template; the only script (``static/app.js``) polls a job's progress and refreshes the
mapping preview.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time as clock
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

from flask import (
    Flask,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response

from ..core import contract, i18n
from ..core.errors import ImporterError
from ..core.excel import OUTCOME_FILLS
from ..core.i18n import N_, _, ngettext
from ..core.problems import problem_text
from ..output.results import sheet_rows
from ..run.undo import undo_word
from ..source.load import Limits
from . import editor
from .guard import Guard, kept
from .workspace import MOVED, Imported, Workspace, list_of, read_about

PAGE_ROWS = 50
# A job's page after the app was started again (its jobs end with it): where the work is now.
GONE = N_(
    "this page's work is not open in this browser (the app may have been started again since): "
    "every import is in History, to open or undo"
)
# Where the language switch may send the browser back to: a path of this app, nothing that a
# browser could read as another site ("//evil", "/\t/evil", "/\\evil").
SAFE_NEXT = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%=&?+-]*")
STEPS = (
    ("start", "index"),
    ("file", "file_page"),
    ("mapping", "mapping_page"),
    ("check", "check_page"),
    ("import", "import_page"),
    ("history", "history_page"),
)
TONES = {"good": "good", "neutral": "warn", "bad": "bad"}  # excel.OUTCOME_FILLS, as CSS says


class Sessions:
    """Each browser's workspace, by the random id in its cookie: what one browser uploads,
    maps, checks and imports is never another's, nor is its language. The first browser gets
    the workspace the app was made with; at most MAX_SESSIONS are kept (the one longest unused
    and without a running job goes first)."""

    MAX_SESSIONS = 64

    def __init__(self, first: Workspace) -> None:
        self.first = first
        self.by_id: dict[str, Workspace] = {}
        self.used: dict[str, float] = {}  # when each browser was last seen
        self.lock = threading.Lock()

    def get(self, key: str) -> Workspace | None:
        with self.lock:
            found = self.by_id.get(key) if key else None
            if found is not None:
                self.used[key] = clock.monotonic()
            return found

    def new(self) -> tuple[str, Workspace]:
        key = secrets.token_urlsafe(24)
        with self.lock:
            workspace = self.first if not self.by_id else self.first.session()
            if len(self.by_id) >= self.MAX_SESSIONS:  # the longest unused without a running job
                idle = sorted(
                    (k for k, w in self.by_id.items() if not w.busy()), key=self.used.__getitem__
                )
                for old in idle[: len(self.by_id) - self.MAX_SESSIONS + 1]:
                    self.by_id.pop(old).forget()
                    del self.used[old]
            self.by_id[key] = workspace
            self.used[key] = clock.monotonic()
        return key, workspace


def create_app(workspace: Workspace, guard: Guard | None = None) -> Flask:
    app = Flask(__name__)
    # A little more than the loader's own limit, for the form around the file.
    app.config["MAX_CONTENT_LENGTH"] = Limits().max_bytes + 64 * 1024
    guard = guard or Guard()
    guard.install(app)
    sessions = Sessions(workspace)
    app.extensions["onoffice"] = (sessions, guard)
    # a browser that chose none speaks the program's language (--lang, config, locale): the
    # request threads start with an empty context, so it is taken here, once
    program = i18n.language()

    @app.before_request
    def browser() -> None:
        """This browser's workspace (after the guard let the request in), and its language."""
        key = request.cookies.get(guard.browser_cookie, "")
        found = sessions.get(key)
        if found is None:
            key, found = sessions.new()
            g.new_browser = key
            # a browser new to the app speaks its own language (Accept-Language), if we do
            own = request.accept_languages.best_match(i18n.LANGUAGES)
            if own is not None and found.language is None:
                found.language = own
        g.workspace = found
        g.speaking = ExitStack()
        g.speaking.enter_context(i18n.use(found.language or program))

    @app.after_request
    def remember(response: Response) -> Response:
        if "new_browser" in g:
            kept(response, guard.browser_cookie, g.new_browser)
        return response

    @app.teardown_request
    def done(_exc: BaseException | None) -> None:
        if "speaking" in g:
            g.speaking.close()

    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_, ngettext=ngettext, newstyle=True
    )
    app.jinja_env.globals.update(
        steps=STEPS,
        # only pages of a signed-in browser carry the token (never a 403 or 400 page)
        csrf=lambda: guard.csrf if "workspace" in g else "",
        language=i18n.language,
        number=i18n.number,
        decimal=i18n.decimal,
        tone=tone,
        send_counts=send_counts,
        tone_counts=tone_counts,
        place_word=lambda kind: _(PLACE_WORDS[kind]) if kind in PLACE_WORDS else kind,
        list_of=list_of,
        status_word=_status_word,
        plan_word=_plan_word,
        problem_text=problem_text,
        flat=flat,
        undo_word=undo_word,
        step_of=step_of,
    )
    app.jinja_env.filters["cell"] = cell
    app.jinja_env.filters["utc_local"] = utc_local
    _routes(app, WS)
    return app


def tone(status: str) -> str:
    """The colour class of a status: good, warn or bad (its meaning, excel.OUTCOME_FILLS)."""
    return TONES[OUTCOME_FILLS.get(status, "neutral")]


def cell(value: Any) -> str:
    """A cell as the user typed it (:func:`importer.core.i18n.as_typed`)."""
    return i18n.as_typed(value)


def utc_local(text: str) -> str:
    """A ledger's UTC time ("2026-11-30 17:19:50") as the office's clock reads it (Berlin, as
    the workbooks and the appointments, whatever zone this computer is set to): 30.11.2026
    18:19."""
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.strptime(text, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return text
    return i18n.when(moment.astimezone(ZoneInfo(contract.LOCAL_TIMEZONE)).replace(tzinfo=None))


def _status_word(status: str) -> str:
    from ..core.excel import status_word

    if status == "valid":
        return _("valid")
    word = status_word(status)
    return word.replace("-", " ") if word == status else word  # English words are the codes


def _plan_word(action: str | None) -> str:
    from ..output.report import PLAN_WORDS

    return _(PLAN_WORDS[action]) if action in PLAN_WORDS else ""


# The requesting browser's workspace (create_app sets g.workspace before every page).
WS = cast(Workspace, LocalProxy(lambda: g.workspace))


def _routes(app: Flask, ws: Workspace) -> None:
    """The pages, step by step; ``ws`` is the requesting browser's workspace."""
    for add in (
        _error_pages,
        _start_routes,
        _file_routes,
        _mapping_routes,
        _check_routes,
        _import_routes,
        _undo_routes,
        _history_routes,
    ):
        add(app, ws)


def page(template: str, **context: Any) -> str:
    # a page the guard refused has no workspace: it shows nothing of anyone's work
    return render_template(template, ws=WS if "workspace" in g else None, **context)


def back(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


def table_page(
    template: str,
    columns: list[str],
    filtered: Callable[[str], list[Any]],
    build: Callable[[list[Any]], list[dict[str, Any]]],
    **context: Any,
) -> str:
    """A table's page: the rows its filter shows, PAGE_ROWS of them, built for the page."""
    shown = request.args.get("filter", "all")
    number, pages, shown_rows = _paged(filtered(shown))
    return page(
        template,
        rows=build(shown_rows),
        columns=columns,
        shown=shown,
        page_number=number,
        pages=pages,
        **context,
    )


def _error_pages(app: Flask, ws: Workspace) -> None:
    """Errors as pages in the user's words."""

    @app.errorhandler(ImporterError)
    def importer_error(exc: ImporterError) -> tuple[str, int]:
        return page("error.html", message=ws.say(exc)), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
        limit = i18n.number(Limits().max_bytes // (1024 * 1024))
        message = _("the file is larger than {limit} MB; split it").format(limit=limit)
        return page("error.html", message=message), 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        return page("error.html", message=exc.description or exc.name), exc.code or 500


def _start_routes(app: Flask, ws: Workspace) -> None:
    """Step 1: the language and the connection."""

    # --- start: language and connection -------------------------------------------------------
    @app.get("/")
    def index() -> str:
        connection = ws.connection()
        return page(
            "start.html",
            connection=connection,
            account=_account_report(ws, connection),
            config=_config_name(ws),
            env_credentials=bool(ws.env.get("ONOFFICE_TOKEN") and ws.env.get("ONOFFICE_SECRET")),
        )

    @app.post("/language")
    def language() -> Response:
        """This browser's language (the others keep theirs); back to the page it came from."""
        try:
            ws.language = i18n.choose(request.form.get("lang", "en"))
        except ValueError:
            abort(400)
        target = request.form.get("next", "")
        return redirect(target if SAFE_NEXT.fullmatch(target) else "/", 303)

    @app.post("/connection")
    def connection() -> Response:
        if "sandbox" in request.form:
            ws.set_sandbox(request.form["sandbox"] == "on")
        elif "token" in request.form:
            ws.save_credentials(
                request.form.get("url", ""), request.form["token"], request.form["secret"]
            )
        ws.connection(fresh=True)
        return back("index")


def _account_report(ws: Workspace, connection: Any) -> list[tuple[str, str]]:
    """What the account answered, asked once per proven connection (read calls only)."""
    from ..core.errors import ApiError
    from ..onoffice.account import account_lines, survey
    from ..run.journal import recall_account

    if not connection.ok:
        return []
    if connection.survey is None:
        try:
            with ws.client() as client:
                recall_account(client, ws.journal_path())  # what runs here learned of it
                connection.survey = survey(client)
        except ApiError as exc:
            return [(_("onOffice"), str(exc))]
    return account_lines(connection.survey)


def _file_routes(app: Flask, ws: Workspace) -> None:
    """Step 2: the file, its sheet and header row."""

    # --- file ---------------------------------------------------------------------------------
    @app.get("/file")
    def file_page() -> str:
        table, problem = None, None
        if ws.upload is not None:
            try:
                table = ws.table()
            except ImporterError as exc:
                problem = ws.say(exc)
        return page("file.html", table=table, problem=problem, sheets=_sheets(ws))

    @app.post("/file")
    def upload() -> Response:
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            abort(400, _("choose a file first"))
        ws.add_upload(sent.filename, sent.stream)
        return back("file_page")

    @app.post("/file/options")
    def file_options() -> Response:
        upload = ws.uploaded()
        sheet = request.form.get("sheet", "")
        header = request.form.get("header_row", "").strip()
        upload.sheet = sheet if sheet in _sheets(ws) else None
        upload.header_row = int(header) if header.isdecimal() and int(header) > 0 else None
        ws.check_job = None
        return back("file_page")


def _mapping_routes(app: Flask, ws: Workspace) -> None:
    """Step 3: the mapping, its form, text and preview."""

    # --- mapping ------------------------------------------------------------------------------
    @app.get("/mapping")
    def mapping_page() -> str:
        raw = editor.parse(ws.mapping_text)
        columns: list[str] = []
        if ws.upload is not None:
            try:
                columns = ws.table().columns
            except ImporterError:
                columns = []
        return page(
            "mapping.html",
            files=ws.mapping_files(),
            groups=editor.GROUPS,
            values=editor.form_values(raw),
            lookups=editor.lookups,
            location_types=editor.location_types(),
            columns=columns,
            matchings=ws.matchings(raw) if ws.upload is not None else {},
            fitting=ws.mapping_name
            if ws.mapping_name in ws.mapping_files()
            else (ws.fitting_mapping() if ws.upload is not None else None),
            lookup_words=editor.LOOKUP_WORDS,
            preview=_preview(ws) if ws.mapping_text and ws.upload else None,
        )

    @app.post("/mapping/open")
    def mapping_open() -> Response:
        ws.open_mapping(request.form.get("name", ""))
        return back("mapping_page")

    @app.post("/mapping/draft")
    def mapping_draft() -> Response:
        ws.draft()
        return back("mapping_page")

    @app.post("/mapping/form")
    def mapping_form() -> Response | str:
        form = {k: v for k, v in request.form.items() if k != "csrf"}
        current = editor.readable(ws.mapping_text)
        if current is None:  # the text has an error: the form would overwrite the user's text
            abort(409, _("the mapping's text is not valid YAML; correct it in the text view first"))
        doc = editor.apply_form(current, form)
        ws.set_mapping(ws.mapping_name or "mapping", editor.dump(doc))
        if request.headers.get("X-Preview"):
            return render_template("preview.html", preview=_preview(ws), ws=ws)
        return back("mapping_page")

    @app.post("/mapping/text")
    def mapping_text() -> Response:
        ws.set_mapping(ws.mapping_name or "mapping", request.form.get("text", ""))
        return back("mapping_page")

    @app.post("/mapping/save")
    def mapping_save() -> Response:
        ws.save_mapping(request.form.get("name", "").strip())
        return back("mapping_page", saved=1)


def _check_routes(app: Flask, ws: Workspace) -> None:
    """Step 4: the check of every row, and its report."""

    # --- check --------------------------------------------------------------------------------
    @app.post("/check")
    def check_start() -> Response:
        ws.start_check()
        return back("check_page")

    @app.get("/check")
    def check_page() -> str:
        job = ws.check_job
        if job is None or job.running or job.result is None:
            return page("check.html", job=job, result=None)
        result = job.result
        return table_page(
            "check.html",
            result.table.columns,
            partial(_check_rows, result),
            partial(_check_page, result),
            job=job,
            result=result,
            counts=_check_counts(result),
        )

    @app.post("/check/cancel")
    def check_cancel() -> Response:
        """The check is left to finish unseen; the page is the check's start again."""
        job = ws.check_job
        if job is not None and job.running:
            job.cancel()
            ws.check_job = None
        return back("check_page")

    @app.get("/check/report")
    def check_report() -> Response:
        job = ws.check_job
        if job is None or job.result is None or job.result.report_path is None:
            abort(404)
        name = Path(ws.uploaded().name).stem + ".check.xlsx"
        return send_file(job.result.report_path, as_attachment=True, download_name=name)


def _import_routes(app: Flask, ws: Workspace) -> None:
    """Step 5: the import, its progress and results, sending failed rows again."""

    # --- import -------------------------------------------------------------------------------
    @app.get("/import")
    def import_page() -> str | Response:
        if ws.imports and ws.imports[-1].job.running:
            return back("import_job", job_id=ws.imports[-1].job.id)
        job = ws.check_job
        result = job.result if job is not None and not job.running else None
        plan = Counter(result.plan.values()) if result is not None else Counter()
        return page("confirm.html", result=result, plan=plan, connection=ws.connection())

    @app.post("/import")
    def import_start() -> Response:
        # the check this page showed, not one another tab of this browser made since
        started = ws.start_import(_choices(request.form), shown=request.form.get("check"))
        return back("import_job", job_id=started.job.id)

    @app.get("/import/<job_id>")
    def import_job(job_id: str) -> str:
        imported = _imported(ws, job_id)
        job = imported.job
        if job.running:
            return page("progress.html", job=job, imported=imported)
        if job.error or job.result is None:  # said once, with what to do: never reloaded
            return page("failed.html", job=job, imported=imported)
        report = job.result
        return table_page(
            "result.html",
            report.check.table.columns,
            partial(_result_rows, report),
            partial(_result_page, report, imported.only_failed),
            job=job,
            imported=imported,
            report=report,
            counts=report.counts(),
        )

    @app.post("/import/<job_id>/cancel")
    def import_cancel(job_id: str) -> Response:
        _imported(ws, job_id).job.cancel()
        return back("import_job", job_id=job_id)

    @app.get("/import/<job_id>/results")
    def import_results(job_id: str) -> Response:
        imported = _imported(ws, job_id)
        report = imported.job.result
        if report is None or report.results_path is None:
            abort(404)
        return send_file(report.results_path, as_attachment=True)

    @app.post("/import/<job_id>/again")
    def import_again(job_id: str) -> Response:
        """Write the corrections into the results workbook, then send its failed rows."""
        imported = _imported(ws, job_id)
        report = imported.job.result
        if report is None or report.results_path is None:
            abort(409, _("this import has no results workbook"))
        columns = report.check.table.columns
        places = sheet_rows(report)
        cells: dict[tuple[int, str], str] = {}
        for key, value in request.form.items():
            parts = key.split(":")
            if len(parts) != 3 or parts[0] != "cell" or not all(p.isdecimal() for p in parts[1:]):
                continue
            row, column = int(parts[1]), int(parts[2])
            if row not in places or column >= len(columns):
                continue
            if value.strip() == cell(report.check.table.frame.loc[row].iloc[column]).strip():
                continue  # unchanged: the cell keeps its type (a date stays a date)
            cells[(places[row], columns[column])] = value
        started = ws.send_again(imported, report.results_path, cells)
        return back("import_job", job_id=started.job.id)


def _undo_routes(app: Flask, ws: Workspace) -> None:
    """Undo of an import (of this session, or of any earlier day from History), and the
    progress of any job."""

    def plan_page(results: Path, account: str | None, back: str, start: str) -> str:
        plan = ws.undo_plan(results, account)
        number, pages, shown = _paged(undo_rows(plan))
        shown = undo_described(plan, shown)
        name = read_about(results).get("source_name") or list_of(results)[0]
        return page(
            "undo.html",
            plan=plan,
            rows=shown,
            page_number=number,
            pages=pages,
            name=name,
            back=back,
            start=start,
            job=None,
        )

    @app.get("/import/<job_id>/undo")
    def undo_page(job_id: str) -> str:
        imported = _imported(ws, job_id)
        report = imported.job.result
        if report is None or report.results_path is None:
            abort(409, _("this import has no results workbook"))
        back = url_for("import_job", job_id=job_id)
        return plan_page(
            report.results_path, imported.account, back, url_for("undo_start", job_id=job_id)
        )

    @app.post("/import/<job_id>/undo")
    def undo_start(job_id: str) -> Response:
        imported = _imported(ws, job_id)
        report = imported.job.result
        if report is None or report.results_path is None:
            abort(409, _("this import has no results workbook"))
        job = ws.start_undo(report.results_path, imported.account)
        return back("undo_job", job_id=job.id)

    @app.get("/history/<name>/undo")
    def past_undo_page(name: str) -> str:
        results = ws.past(name)
        start = url_for("past_undo_start", name=name)
        account = ws.past_about(name).get("account")
        return plan_page(results, account, url_for("history_page"), start)

    @app.post("/history/<name>/undo")
    def past_undo_start(name: str) -> Response:
        results = ws.past(name)
        job = ws.start_undo(results, ws.past_about(name).get("account"))
        return back("undo_job", job_id=job.id)

    @app.get("/undo/<job_id>")
    def undo_job(job_id: str) -> str:
        job = ws.jobs.get(job_id)
        if job is None or job.kind != "undo":
            abort(404, _(GONE))
        if job.running or job.error or job.result is None:
            return page("undo.html", plan=None, job=job, name=_undone_name(job))
        items = [i for i in job.result.items if i.status != "deleted"]
        number, pages, shown = _paged(items)
        return page(
            "undo.html",
            plan=None,
            job=job,
            name=_undone_name(job),
            rows=shown,
            page_number=number,
            pages=pages,
        )

    @app.post("/undo/<job_id>/cancel")
    def undo_cancel(job_id: str) -> Response:
        job = ws.jobs.get(job_id)
        if job is None or job.kind != "undo":
            abort(404)
        job.cancel()
        return back("undo_job", job_id=job_id)

    @app.get("/jobs/<job_id>")
    def job_state(job_id: str) -> Response:
        job = ws.jobs.get(job_id)
        if job is None:
            abort(404)
        return jsonify(job.snapshot())


def _undone_name(job: Any) -> str:
    if job.results is None:
        return ""
    return str(read_about(job.results).get("source_name") or list_of(job.results)[0])


def _history_routes(app: Flask, ws: Workspace) -> None:
    """Step 6: the history of this account."""

    # --- history ------------------------------------------------------------------------------
    @app.get("/history")
    def history_page() -> str:
        number, pages, shown = _paged(ws.past_imports())
        return page(
            "history.html",
            imports=shown,
            page_number=number,
            pages=pages,
            connection=ws.connection(),
            practice=ws.sandbox_wanted,
            moved=MOVED,
        )

    @app.post("/history/<name>/open")
    def past_open(name: str) -> Response:
        """An import of any earlier day, opened from its results workbook: its failed rows
        can be corrected and sent again, and it can be undone, as on the day itself."""
        imported = ws.reopen(ws.past(name), ws.past_about(name))
        return back("import_job", job_id=imported.job.id)

    @app.post("/history/<name>/found")
    def past_found(name: str) -> Response:
        """A moved results workbook given back: History opens and undoes it again."""
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            abort(400, _("choose a file first"))
        ws.found_again(name, sent.stream)
        return back("history_page")

    @app.get("/history/<name>")
    def history_file(name: str) -> Response:
        known = {p.name: p for p in ws.results_files()}
        if name not in known and name.startswith("run-"):  # the ledger's, where it was written
            known = {p.key: p.results for p in ws.past_imports() if not p.missing}
        if name not in known:  # only a name from the listing, never a path
            abort(404)
        return send_file(known[name], as_attachment=True, download_name=known[name].name)


# --- helpers -----------------------------------------------------------------------------------
def send_counts(counts: Counter[str]) -> tuple[list[tuple[str, int]], dict[str, int]]:
    """A send of the failed rows again: what this send did, good news first (rows created
    earlier are not its work), and the import's totals by tone (in onOffice, to look at, not
    imported)."""
    rank = {"good": 0, "warn": 1, "bad": 2}
    this = sorted(
        ((k, n) for k, n in counts.items() if k not in ("already-created", "exists") and n),
        key=lambda kn: (rank[tone(kn[0])], -kn[1]),
    )
    totals = {"good": 0, "warn": 0, "bad": 0}
    for status, n in counts.items():
        totals[tone(status)] += n
    return this, totals


def tone_counts(counts: Counter[str], undone: int = 0) -> tuple[int, int, int]:
    """Rows in onOffice (less those undone since), to look at, not imported: History's
    numbers of one import."""
    totals = {"good": 0, "warn": 0, "bad": 0}
    for status, n in counts.items():
        totals[tone(status)] += n
    return max(0, totals["good"] - undone), totals["warn"], totals["bad"]


def undo_rows(plan: Any) -> list[tuple[Any, Any]]:
    """What an undo would remove, in the file's order: (source row, item)."""
    rows = plan.workbook.ids if plan.workbook is not None else {}
    out = [(rows.get(i.appointment_id, i.source_row), i) for i in plan.items]
    return sorted(out, key=lambda r: (r[0] is None, r[0] or 0))


def undo_described(plan: Any, rows: list[tuple[Any, Any]]) -> list[tuple[Any, ...]]:
    """One page of :func:`undo_rows` with date, time and subject as the import wrote them
    (only the page's: a list of 20,000 pages without delay)."""
    from ..output.undo_book import described

    out = []
    for row, item in rows:
        imported = plan.imported.get(item.appointment_id)
        out.append((row, item, *described(imported.payload if imported else {})))
    return out


# The step of the header a page belongs to.
STEP_OF = {
    "import_job": "import_page",
    "undo_page": "import_page",
    "undo_job": "import_page",
    "history_file": "history_page",
    "past_undo_page": "history_page",
}


def step_of(endpoint: str | None) -> str:
    return STEP_OF.get(endpoint or "", endpoint or "")


def _config_name(ws: Workspace) -> str:
    from ..onoffice.config import config_path

    return str(config_path(ws.env, ws.config))


def _sheets(ws: Workspace) -> list[str]:
    return ws.sheets() if ws.upload is not None else []


def _preview(ws: Workspace) -> dict[str, Any]:
    """The first rows converted, or why the mapping cannot be read."""
    try:
        result = ws.preview()
    except ImporterError as exc:
        return {"error": ws.say(exc)}
    try:
        names = ws.preview_names(ws.mapping(), ws.table())
    except ImporterError:
        names = ws.names()
    return {"result": result, "fields": _fields_shown(result), "names": names}


# The preview's columns: what the API receives, in the editor's words.
FIELD_LABELS = {
    "start_dt": N_("Start"),
    "end_dt": N_("End"),
    "description": N_("Subject"),
    "art": N_("Appointment type"),
    "status": N_("Status"),
    "subscribers.users": N_("Agents (onOffice users)"),
    "subscribers.groups": N_("Groups and teams"),
    "relatedAddressIds": N_("Contacts (addresses)"),
    "relatedEstateId": N_("Estate"),
    "location": N_("Location"),
    "erinnerung": N_("Reminder"),
    "reminderTypes": N_("Reminder channels"),
    "ressources": N_("Resources"),
    "note": N_("Note"),
    "abgesagt": N_("Cancelled"),
    "ganztags": N_("All day"),
    "private": N_("Private"),
    "origin": N_("From a calendar file"),
    "von": N_("Organiser"),
    "allowTransitTime": N_("Travel time"),
    "transitTime": N_("Travel time"),
    "transitTimePre": N_("Travel time before"),
    "transitTimePost": N_("Travel time after"),
    "rp_flag": N_("Repeats"),
    "rp_type": N_("Repeats every"),
    "rp_tage": N_("Interval"),
    "rp_beginn_datum": N_("Series from"),
    "rp_ende_datum": N_("Series until"),
    "rp_ende_status": N_("Series ends"),
    "rp_exception": N_("Except on"),
}
# A location's kind, as the office says it (contract.LOCATION_KEYS).
PLACE_WORDS = {
    "address": N_("at the contact's"),
    "estate": N_("at the estate"),
    "user": N_("at the agent's"),
    "group": N_("at the group's"),
    "mandant": N_("at the office"),
    "sonstiges": N_("elsewhere"),
    "customVideoUrl": N_("video call"),
    "userMeetingUrl": N_("the agent's video meeting"),
}
SERIES_ENDS = {1: N_("on its last date"), 2: N_("never")}
# Which names (Workspace.preview_names) say an id of each field.
NAMED_BY = {
    "art": "types",
    "ressources": "resources",
    "relatedAddressIds": "address",
    "relatedEstateId": "estate",
    "von": "users",
}
LOCATION_NAMED_BY = {"estate": "estate", "address": "address", "user": "users", "group": "groups"}


def flat(
    parameters: dict[str, Any] | None, names: dict[str, dict[Any, str]] | None = None
) -> dict[str, str]:
    """What a row sends, one text per field, as the office reads it: names instead of ids
    where ``names`` knows them (agents, contacts, estates, resources, types), reminders,
    repeats, dates and flags in words."""
    if not parameters:
        return {}
    names = names or {}
    out = dict(parameters.get("data", {}))
    out.update({k: v for k, v in parameters.items() if k not in ("data", "subscribers")})
    for kind, ids in (parameters.get("subscribers") or {}).items():
        known = names.get(kind, {})
        out[f"subscribers.{kind}"] = [known.get(i, i) for i in ids]
    return {name: _worded(name, value, names) for name, value in out.items()}


def _worded(name: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    from .workspace import REPEAT_NAMES, STATUS_WORDS

    if name in NAMED_BY:
        known = names.get(NAMED_BY[name], {})
        items = value if isinstance(value, list) else [value]
        return ", ".join(str(known.get(v, v)) for v in items)
    if name == "location" and isinstance(value, dict):
        return ", ".join(_place(kind, v, names) for kind, v in value.items())
    if name == "erinnerung" and isinstance(value, str):
        return i18n.reminder(value)
    if name == "status" and value in STATUS_WORDS:
        return _(STATUS_WORDS[value])
    if name == "rp_type" and value in REPEAT_NAMES:
        return _(REPEAT_NAMES[value])
    if name == "rp_ende_status" and value in SERIES_ENDS:
        return _(SERIES_ENDS[value])
    if name == "rp_exception" and isinstance(value, str):
        return ", ".join(_shown(day) for day in value.split("#") if day)
    return _shown(value)


def _place(kind: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    word = _(PLACE_WORDS[kind]) if kind in PLACE_WORDS else kind
    known = names.get(LOCATION_NAMED_BY.get(kind, ""), {})
    return f"{word}: {known.get(value, _shown(value))}" if value not in (None, "") else word


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    if isinstance(value, str) and len(value) in (10, 19):
        for form in (contract.DATETIME_FORMAT, "%Y-%m-%d"):
            try:
                moment = datetime.strptime(value, form)
            except ValueError:
                continue
            return i18n.when(moment if len(value) == 19 else moment.date())
    return str(value)


def _fields_shown(result: Any) -> list[tuple[str, str]]:
    """(field, label) of the fields any previewed row sends, in the editor's order."""
    present = {name for o in result.outcomes for name in flat(o.parameters)}
    known = [(name, _(label)) for name, label in FIELD_LABELS.items() if name in present]
    return known + [(name, name) for name in sorted(present - set(FIELD_LABELS))]


def _cells(table: Any, row: int) -> list[Any]:
    return list(table.frame.loc[row].tolist())


def _check_rows(result: Any, shown: str) -> list[Any]:
    """The outcomes the filter shows (cheap: a 100,000-row check pages without delay)."""
    plan = result.plan
    keep: Callable[[Any], bool] | None = {
        "invalid": lambda o: not o.valid,
        "warnings": lambda o: bool(o.warnings),
        "update": lambda o: plan.get(o.row) == "update",
    }.get(shown)
    return [o for o in result.outcomes if keep is None or keep(o)]


def _check_page(result: Any, outcomes: list[Any]) -> list[dict[str, Any]]:
    """One page of rows with their cells, status and problems."""
    rows = []
    for outcome in outcomes:
        status = "valid" if outcome.valid else "invalid"
        if outcome.valid and outcome.warnings:
            status = "warnings"
        rows.append(
            {
                "row": outcome.row,
                "shown_row": outcome.row,
                "status": status,
                "plan": result.plan.get(outcome.row),
                "problems": outcome.problems,
                "marks": _marks(outcome.problems),
                "cells": _cells(result.table, outcome.row),
            }
        )
    return rows


def _marks(problems: list[Any]) -> dict[str, list[Any]]:
    marks: dict[str, list[Any]] = {}
    for p in problems:
        for column in p.columns:
            marks.setdefault(column, []).append(p)
    return marks


def _check_counts(result: Any) -> dict[str, int]:
    return {
        "all": len(result.outcomes),
        "valid": result.valid_count - result.unconfirmed_count,  # unconfirmed: not vouched for
        "unconfirmed": result.unconfirmed_count,
        "invalid": result.invalid_count,
        "warnings": sum(1 for o in result.outcomes if o.warnings),
        "update": sum(1 for a in result.plan.values() if a == "update"),
    }


def _result_rows(report: Any, shown: str) -> list[int]:
    rows = report.check.table.row_numbers
    if shown != "failed":
        return list(rows)
    return [r for r in rows if r not in report.results or tone(report.results[r].status) != "good"]


def _result_page(report: Any, again: bool, rows: list[int]) -> list[dict[str, Any]]:
    outcomes = {o.row: o for o in report.check.outcomes}
    page = []
    for row in rows:
        result = report.results.get(row)
        status = str(result.status) if result is not None else "not-sent"
        outcome = outcomes.get(row)
        problems = outcome.problems if outcome is not None else []
        page.append(
            {
                "row": row,
                "shown_row": report.earlier.get(row, (None, None, row))[2],
                "status": status,
                # sent again: rows this import created earlier are simply in onOffice
                "word": _("in onOffice") if again and status == "already-created" else "",
                "id": result.appointment_id if result is not None else None,
                "message": (result.error if result is not None else None) or "",
                "marks": _marks(problems),
                "cells": _cells(report.check.table, row),
                "fixable": tone(status) != "good",
            }
        )
    return page


def _paged(rows: list[Any]) -> tuple[int, int, list[Any]]:
    pages = max(1, math.ceil(len(rows) / PAGE_ROWS))
    try:
        number = min(max(1, int(request.args.get("page", "1"))), pages)
    except ValueError:
        number = 1
    return number, pages, rows[(number - 1) * PAGE_ROWS : number * PAGE_ROWS]


def _choices(form: Any) -> dict[int, int | None]:
    """The answers to the plan's questions: ``pair-ROW`` = an appointment id, or "new"; an
    empty answer leaves the row out (it is asked again)."""
    out: dict[int, int | None] = {}
    for name, value in form.items():
        row = contract.record_id(name.removeprefix("pair-"))
        appointment = contract.record_id(value)
        if name.startswith("pair-") and isinstance(row, int):
            if value == "new":
                out[row] = None
            elif isinstance(appointment, int):
                out[row] = appointment
    return out


def _imported(ws: Workspace, job_id: str) -> Imported:
    found = next((i for i in ws.imports if i.job.id == job_id), None)
    if found is None:
        abort(404, _(GONE))
    return found


__all__ = ["create_app"]
