"""The web app on the days after, in a real browser: an office imports its list into its
account, closes the browser, stops the app; the next day, in a new app and a new browser, it
corrects the failed rows and sends them again from History, and on the day after undoes the
import from History. A job that fails shows its error, what was done and what to do, once (no
page that reloads forever), in the browser's own language. axe-core finds nothing on the new
pages. (Same tools as tests/test_web_browser.py: Debian's chromium and chromedriver.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.onoffice.client import OnOfficeClient
from importer.run.journal import ledger_path
from importer.run.submit import preflight
from importer.sandbox import Sandbox

from . import test_web_browser
from .conftest import SAMPLES
from .test_web_browser import SHOTS, serious, wait_for

browsers = test_web_browser.browsers  # the fixture: headless Chromium windows


class Computer:
    """The office's computer: its data folder stays; each :meth:`start` is the app started as
    the user starts it (its own process, a new token, another port), on the account."""

    def __init__(self, root: Path, sandbox: Sandbox) -> None:
        self.env = {
            **os.environ,
            "HOME": str(root / "home"),
            "ONOFFICE_IMPORT_DATA": str(root / "data"),
            "TMPDIR": str(root),
            "LANG": "C.UTF-8",
            "ONOFFICE_TOKEN": sandbox.credentials.token,
            "ONOFFICE_SECRET": sandbox.credentials.secret,
            "ONOFFICE_API_URL": sandbox.url,
        }
        self.root = root
        self.process: subprocess.Popen[str] | None = None

    def start(self, *options: str) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "importer", "ui", "--no-browser", "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            cwd=self.root,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        assert found, f"no address printed: {line!r}"
        return found.group(0)

    def stop(self) -> None:
        """Ctrl-C, as the user stops it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        assert self.process.returncode == 0 and "Traceback" not in output, output
        self.process = None


@pytest.fixture
def computer(tmp_path: Path, sandbox: Sandbox) -> Iterator[Computer]:
    made = Computer(tmp_path, sandbox)
    try:
        yield made
    finally:
        if made.process is not None and made.process.poll() is None:
            made.process.kill()
            made.process.wait(10)


def main_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return " ".join(str(driver.find_element(By.TAG_NAME, "main").text).split())


def shot(driver: Any, name: str, findings: dict[str, list[str]]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    findings[name] = serious(driver)


def with_mapping(driver: Any, url: str, sample: str, mapping: str, rows_said: str) -> Any:
    """A sample uploaded (its rows shown, saying ``rows_said``) and a saved mapping opened:
    the preview."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(url)
    driver.find_element(By.ID, "next").click()
    driver.find_element(By.ID, "file").send_keys(str(SAMPLES / sample))
    wait_for(lambda: rows_said in main_text(driver), "the file's rows")
    driver.find_element(By.ID, "next").click()
    Select(driver.find_element(By.ID, "open-name")).select_by_value(mapping)
    driver.find_element(By.CSS_SELECTOR, "#open-name + button").click()
    return wait_for(lambda: driver.find_element(By.ID, "preview"), "the mapping")


def checked(driver: Any, url: str, shots: dict[str, list[str]] | None = None) -> None:
    """The sample uploaded, its saved mapping opened, every row checked."""
    from selenium.webdriver.common.by import By

    preview = with_mapping(driver, url, "viewings.xlsx", "viewings", "14 rows below it")
    if shots is not None:  # a keyboard user skips the long form: a few Tabs to "Next"
        from selenium.webdriver.common.keys import Keys

        driver.find_element(By.ID, "jump").send_keys(Keys.ENTER)
        tabs = 0
        while driver.switch_to.active_element.get_attribute("id") != "next" and tabs < 30:
            driver.switch_to.active_element.send_keys(Keys.TAB)
            tabs += 1
        assert tabs <= 6, f"{tabs} Tab presses from the skip link to Next"
        print("Tab presses from the skip link to Next:", tabs)
    if shots is not None:  # the preview in the office's words, as wide as it is
        words = " ".join(preview.text.split())
        for shown in ("Sabine Krüger", "at the estate: AC-1042", "Firmenfahrzeug", "1 hour "):
            assert shown in words, shown
        for sent in ("5431", "estate: 608", "ind_Schl", "1 hours", "Uebergabe"):
            assert sent not in words, sent
        driver.set_window_size(2200, 1000)
        driver.execute_script(  # for the picture only: the preview alone, all its columns
            "document.querySelector('.columns').style.display = 'block';"
            "const box = arguments[0].querySelector('.scroll');"
            "box.style.overflow = 'visible'; box.style.maxHeight = 'none';"
            "arguments[0].scrollIntoView();",
            preview,
        )
        SHOTS.mkdir(parents=True, exist_ok=True)
        preview.screenshot(str(SHOTS / "later-0-preview-in-words.png"))
        shots["later-0-preview-in-words"] = serious(driver)
        driver.set_window_size(1400, 1000)
    driver.find_element(By.ID, "next").click()
    wait_for(lambda: driver.find_element(By.ID, "counts").text, "the check", 60)


def test_send_again_and_undo_from_history_after_restarts(
    computer: Computer, browsers: Callable[[], Any], sandbox: Sandbox
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    findings: dict[str, list[str]] = {}
    browser = browsers()
    checked(browser, computer.start(), findings)
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "start-import").click()
    result = wait_for(lambda: browser.find_element(By.ID, "counts").text, "the import", 60)
    assert "8 created" in result and "6 invalid" in result, result
    browser.quit()  # the browser closed, the app stopped: the evening
    computer.stop()
    assert sandbox.store.count_appointments() == 8

    browser = browsers()  # the next morning: a new app, a new browser
    browser.get(computer.start())
    browser.find_element(By.LINK_TEXT, "6. History").click()
    history = main_text(browser)
    assert "viewings.xlsx" in history and "8 rows in onOffice 6 rows not imported" in history
    shot(browser, "later-1-history", findings)
    browser.find_element(By.XPATH, "//button[text()='Open, correct and send again']").click()
    wait_for(lambda: browser.find_elements(By.ID, "counts"), "yesterday's import", 60)
    assert "8 created" in main_text(browser) and "6 invalid" in main_text(browser)
    shot(browser, "later-2-opened", findings)
    # row 11 of the file ends before it starts: the end typed right into its cell
    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#rows thead th")]
    column = header.index("Ende") - 4  # Row, Status, Appointment ID, Message come first
    row = browser.find_element(By.XPATH, "//table[@id='rows']//tr[th[normalize-space()='11']]")
    cell = row.find_element(By.CSS_SELECTOR, f"input[name$=':{column}']")
    cell.clear()
    cell.send_keys("11:15")
    bar = browser.find_element(By.ID, "sendbar")
    wait_for(lambda: bar.is_displayed(), "the send bar")
    cell.send_keys(Keys.ENTER)  # Enter in the corrected cell sends: no Tab past the table
    sent = wait_for(
        lambda: (
            browser.find_elements(By.ID, "sent-again")
            and browser.find_element(By.ID, "sent-again").text
        ),
        "the failed rows sent again",
        60,
    )
    assert " ".join(sent.split()) == "This send: 1 created 5 invalid", sent
    assert sandbox.store.count_appointments() == 9
    shot(browser, "later-3-sent-again", findings)
    browser.quit()
    computer.stop()

    browser = browsers()  # the day after: undo it, from History
    browser.get(computer.start())
    browser.find_element(By.LINK_TEXT, "6. History").click()
    assert "9 rows in onOffice 5 rows not imported" in main_text(browser), main_text(browser)
    browser.find_element(By.PARTIAL_LINK_TEXT, "Undo").click()
    assert "9 appointments this import created will be removed" in main_text(browser)
    listed = browser.find_elements(By.CSS_SELECTOR, "#undo-list tbody tr td:first-child")
    assert [int(td.text) for td in listed] == [4, 5, 6, 7, 8, 9, 10, 11, 17]  # the file's rows
    shot(browser, "later-4-undo-list", findings)
    sandbox.faults.latency = 0.25  # onOffice slow: the page's script shows what /jobs says
    browser.find_element(By.ID, "confirm-undo").click()
    closing = browser.find_element(By.ID, "may-close").text
    assert closing == "You may close this page: the work goes on, and History shows it."
    assert browser.find_element(By.ID, "cancel").is_displayed()
    left = re.compile(
        r"(\d+) of 9 appointments · [\d.]+ a second · "
        r"(less than a minute left|about \d+ minutes? left)"
    )
    shown = wait_for(
        lambda: left.fullmatch(browser.find_element(By.CLASS_NAME, "progress-text").text),
        "the count, rate and time left",
    )
    assert 0 < int(shown.group(1)) < 9, shown.group(0)
    sandbox.faults.latency = 0.0
    done = wait_for(lambda: browser.find_element(By.ID, "undo-done").text, "the undo", 60)
    assert "9 appointments removed" in done
    assert sandbox.store.count_appointments() == 0
    shot(browser, "later-5-undone", findings)
    browser.find_element(By.LINK_TEXT, "History").click()
    history = main_text(browser)
    assert "5 rows not imported 9 appointments undone" in history, history
    assert "rows in onOffice" not in history
    shot(browser, "later-6-history-undone", findings)
    computer.stop()
    assert {name: f for name, f in findings.items() if f} == {}, "axe-core: serious findings"


def test_a_failed_job_shows_its_error_in_the_browsers_language(
    computer: Computer, browsers: Callable[[], Any], sandbox: Sandbox
) -> None:
    from selenium.webdriver.common.by import By

    findings: dict[str, list[str]] = {}
    german = browsers("de-DE,de")  # her browser speaks German: so does the app, unasked
    german.get(computer.start())
    assert german.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    assert "1. Verbindung" in main_text(german)
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        account = preflight(client)
    ledger = Path(computer.env["ONOFFICE_IMPORT_DATA"]) / ledger_path(account).relative_to(
        ledger_path(account).parents[1]
    )
    german.find_element(By.ID, "next").click()
    german.find_element(By.ID, "file").send_keys(str(SAMPLES / "viewings.xlsx"))
    wait_for(lambda: "darunter 14 Zeilen" in main_text(german), "the file's rows")
    german.find_element(By.ID, "next").click()
    german.find_element(By.CSS_SELECTOR, "#open-name + button").click()
    wait_for(lambda: german.find_elements(By.ID, "preview"), "the mapping")
    german.find_element(By.ID, "next").click()
    wait_for(lambda: german.find_element(By.ID, "counts").text, "the check", 60)
    assert not ledger.exists()
    ledger.mkdir(parents=True)  # a folder where the ledger must be: the import cannot start
    german.find_element(By.ID, "next").click()
    german.find_element(By.ID, "start-import").click()
    error = wait_for(lambda: german.find_element(By.ID, "error").text, "the error", 60)
    assert "Der Import wurde angehalten:" in error, error
    words = main_text(german)
    assert "Nichts wurde an onOffice gesendet." in words and "Was zu tun ist" in words, words
    assert not german.find_elements(By.CSS_SELECTOR, "[data-job]")  # nothing polls, no reload
    assert ledger.name in error and str(ledger.parent) not in error  # its name, not its folder
    support = german.find_element(By.ID, "for-support")
    support.find_element(By.TAG_NAME, "summary").click()
    block = " ".join(support.text.split())
    assert block.startswith("Für den Support"), block
    for shown in ("Schritt Import", "Datei viewings.xlsx", f"Protokoll {ledger.name}"):
        assert shown in block, (shown, block)
    assert "Art des Fehlers ConfigurationError" in block, block
    assert "onoffice-import" in block and "Angehalten um" in block, block
    for path in (str(computer.root), "/tmp", "ledgers/", "data/", "uploads"):  # no folder at all
        assert path not in block, (path, block)
    shot(german, "later-7-failed-job-de", findings)
    url_before = german.current_url
    german.execute_script("window.loaded = 1")
    time.sleep(2)  # a page that reloaded would have lost the mark
    assert german.execute_script("return window.loaded") == 1 and german.current_url == url_before
    assert sandbox.store.count_appointments() == 0
    computer.stop()
    assert {name: f for name, f in findings.items() if f} == {}, "axe-core: serious findings"


def test_a_practice_calendar_import_is_opened_and_undone_from_history_after_restarts(
    computer: Computer, browsers: Callable[[], Any]
) -> None:
    """An .ics file imported in practice mode; browser and app stopped, the practice sandbox's
    port taken meanwhile; in a new app and browser History still lists it, marked Practice; it
    is opened from there and undone: as many appointments removed as it created."""
    import socket

    from selenium.webdriver.common.by import By

    from importer.sandbox.store import Store

    practice = Path(computer.env["ONOFFICE_IMPORT_DATA"]) / "practice"

    def appointments() -> int:
        store = Store(str(practice / "sandbox.sqlite"))
        try:
            return store.count_appointments()
        finally:
            store.close()

    browser = browsers()
    with_mapping(browser, computer.start("--sandbox"), "outlook.ics", "ics", "outlook.ics")
    browser.find_element(By.ID, "next").click()
    wait_for(lambda: browser.find_element(By.ID, "counts").text, "the check", 60)
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "start-import").click()
    result = wait_for(lambda: browser.find_element(By.ID, "counts").text, "the import", 60)
    assert "6 created" in result and "1 invalid" in result, result
    browser.quit()
    computer.stop()
    assert appointments() == 6
    port = int((practice / "port").read_text(encoding="ascii"))

    with socket.socket() as taken:  # another program has the practice sandbox's port now
        taken.bind(("127.0.0.1", port))
        taken.listen()
        browser = browsers()
        browser.get(computer.start("--sandbox"))
        browser.find_element(By.LINK_TEXT, "6. History").click()
        history = main_text(browser)
        assert "Practice: these imports went into the practice calendar" in history, history
        assert "outlook.ics Practice" in history
        assert "6 rows in onOffice 1 row not imported" in history, history
        assert serious(browser) == [], "axe-core: serious findings on practice History"
        browser.find_element(By.XPATH, "//button[text()='Open, correct and send again']").click()
        wait_for(lambda: browser.find_elements(By.ID, "counts"), "the import", 60)
        opened = main_text(browser)
        assert "6 created" in opened and "1 invalid" in opened, opened
        browser.find_element(By.ID, "undo").click()
        assert "6 appointments this import created will be removed" in main_text(browser)
        browser.find_element(By.ID, "confirm-undo").click()
        done = wait_for(lambda: browser.find_element(By.ID, "undo-done").text, "the undo", 60)
        assert "6 appointments removed" in done, done
        computer.stop()
    assert appointments() == 0
