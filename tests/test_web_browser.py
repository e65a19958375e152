"""The web app in a real browser, as an office assistant uses it.

`onoffice-import ui --sandbox` runs as its own process; Debian's chromium, driven by Selenium
through Debian's chromedriver, goes the whole way: upload the sample, draft and adjust a
mapping, check, import, fix a row, send the failed rows again, undo; then German, then Ctrl-C.
A screenshot of every step is kept in ``build/screenshots/`` (``UI_SCREENSHOTS`` to change it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, SAMPLES

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SHOTS = Path(os.environ.get("UI_SCREENSHOTS", ROOT / "build" / "screenshots"))


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The app as a user starts it, on a free port, in practice mode, in a home of its own."""
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "ONOFFICE_IMPORT_DATA": str(tmp_path / "data"),
        "TMPDIR": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "ui", "--sandbox", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        assert found, f"no address printed: {line!r}"
        yield found.group(0), process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def browsers() -> Iterator[Callable[[], Any]]:
    """Headless Chromium windows, each a browser of its own (its own cookies)."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail(
            "the browser tests need Debian's chromium and chromium-driver (.ci/run installs them)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened: list[Any] = []

    def open_one(language: str = "en-US,en") -> Any:
        """A browser whose user speaks ``language`` (its Accept-Language)."""
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
            options.add_argument(argument)
        options.add_argument("--window-size=1400,1000")
        options.add_argument(f"--accept-lang={language}")
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(30)
        opened.append(driver)
        return driver

    try:
        yield open_one
    finally:
        for driver in opened:
            driver.quit()


@pytest.fixture
def browser(browsers: Callable[[], Any]) -> Any:
    return browsers()


def serious(driver: Any) -> list[str]:
    """axe-core's serious and critical findings on the page the driver shows (WCAG 2.x A/AA
    and best practices), one line each."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `npm ci` installs axe-core (README, Set-up)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map("
        "v => [v.id, v.impact, v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')])));"
    )
    return [f"{rule} ({impact}): {where}" for rule, impact, where in found
            if impact in ("serious", "critical")]  # fmt: skip


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except WebDriverException:  # the page is being replaced: look again
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")


def test_the_whole_flow_in_a_browser(
    app_url: tuple[str, Any], browser: Any, browsers: Callable[[], Any]
) -> None:
    """An English assistant imports the sample while a German colleague, in a browser of her
    own, checks and imports another list: neither sees, imports or switches the other's work.
    axe-core measures every page both see: no serious or critical finding."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, process = app_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    findings: dict[str, list[str]] = {}
    clock = time.monotonic()

    def shot(name: str, driver: Any = browser) -> None:
        nonlocal clock
        timings[name] = time.monotonic() - clock
        driver.save_screenshot(str(SHOTS / f"{name}.png"))
        findings[name] = serious(driver)
        clock = time.monotonic()

    def page(driver: Any = browser) -> str:
        return str(driver.find_element(By.TAG_NAME, "main").text)

    def click(element_id: str, driver: Any = browser) -> None:
        driver.find_element(By.ID, element_id).click()

    browser.get(url)
    assert "token" not in browser.current_url  # the token went into a cookie
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.get_attribute("href").endswith("#main"), "the first Tab goes to the skip link"
    assert "Practice mode" in page()
    assert browser.find_element(By.ID, "practice").is_displayed()  # on every page
    shot("01-start")

    click("next")
    browser.find_element(By.ID, "file").send_keys(str(SAMPLES / "viewings.xlsx"))  # uploads
    wait_for(lambda: "14 rows below it" in page(), "the file's rows")
    assert "Sabine Krüger" in page()
    shot("02-file")

    # the draft checks the type column against the account: "Übergabe" is the name of the key
    # "Uebergabe" (sent as the key, shown by its name), and "Kaffee" is no type at all: no key
    # is invented for it
    click("next")
    click("draft")
    wait_for(lambda: "Übergabe" in browser.find_element(By.ID, "preview").text, "the live preview")
    shot("03-mapping")
    click("apply")
    wait_for(lambda: "Preview" in page(), "the mapping page")
    click("next")  # check every row

    counts = wait_for(lambda: browser.find_element(By.ID, "counts").text, "the check", 60)
    assert "8 rows valid" in counts and "6 rows invalid" in counts, counts
    shot("04-check")
    browser.find_element(By.LINK_TEXT, "invalid").click()
    rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr"), "rows")
    assert len(rows) == 6
    assert "the end (05.03.2027 09:15) is before the start" in page()
    assert "'Kaffee' is not an appointment type of this onOffice account" in page()
    shot("05-check-invalid")

    # meanwhile a colleague, in a browser of her own, works in German on another list
    other = browsers()
    other.get(url)
    other.find_element(By.CSS_SELECTOR, "button[value=de]").click()
    wait_for(lambda: "Übungsmodus" in page(other), "her German start page")
    shot("b1-start-de", other)
    click("next", other)
    other.find_element(By.ID, "file").send_keys(str(SAMPLES / "termine.csv"))
    wait_for(lambda: "darunter 9 Zeilen" in page(other), "her file's rows")
    shot("b2-file-de", other)
    click("next", other)
    mappings = other.find_element(By.ID, "open-name")
    assert mappings.get_attribute("value") == "termine"  # the saved mapping that fits her file
    other.find_element(By.CSS_SELECTOR, "#open-name + button").click()
    wait_for(lambda: other.find_elements(By.ID, "preview"), "her mapping")
    shot("b3-mapping-de", other)
    click("next", other)
    mine = wait_for(lambda: other.find_element(By.ID, "counts").text, "her check", 60)
    assert "6 Zeilen gültig" in mine and "3 Zeilen ungültig" in mine, mine
    shot("b4-check-de", other)
    browser.refresh()  # the assistant's own page: her language and file are not his
    assert "8 rows valid" in browser.find_element(By.ID, "counts").text

    click("next")
    assert "8 appointments will be created" in page()
    assert "6 faulty rows will not be sent" in page()
    shot("06-confirm")
    click("start-import")
    result = wait_for(lambda: browser.find_element(By.ID, "counts").text, "the import", 60)
    assert "8 created" in result and "6 invalid" in result, result
    shot("07-result")

    # row 11 ends before it starts: the assistant types the right end into its cell
    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#rows thead th")]
    column = header.index("Ende") - 4  # Row, Status, Appointment ID, Message come first
    cell = browser.find_element(By.NAME, f"cell:11:{column}")
    cell.clear()
    cell.send_keys("11:15")
    bar = browser.find_element(By.ID, "sendbar")
    wait_for(lambda: bar.is_displayed() and "Rows changed: 1" in bar.text, "the send bar")
    shot("08-fix")
    bar.find_element(By.TAG_NAME, "button").click()
    result = wait_for(
        lambda: (
            browser.find_elements(By.ID, "sent-again")
            and browser.find_element(By.ID, "sent-again").text
        ),
        "the failed rows sent again",
        60,
    )
    assert " ".join(result.split()) == "This send: 1 created 5 invalid", result
    totals = " ".join(browser.find_element(By.ID, "counts").text.split())
    assert totals == "The whole import: 9 rows in onOffice 5 rows not imported", totals
    shot("09-sent-again")

    click("undo")
    assert "9 appointments this import created will be removed" in page()
    listed = browser.find_elements(By.CSS_SELECTOR, "#undo-list tbody tr td:first-child")
    assert [int(td.text) for td in listed] == [4, 5, 6, 7, 8, 9, 10, 11, 17]  # the file's rows
    assert len(browser.find_elements(By.CSS_SELECTOR, "#undo-list tbody tr")) == 9
    shot("10-undo-list")
    click("confirm-undo")
    done = wait_for(lambda: browser.find_element(By.ID, "undo-done").text, "the undo", 60)
    assert "9 appointments removed" in done
    shot("11-undone")

    # her import: her list, in German, into the same practice onOffice
    click("next", other)
    assert "6 Termine werden angelegt" in page(other), page(other)
    shot("b5-confirm-de", other)
    click("start-import", other)
    hers = wait_for(lambda: other.find_element(By.ID, "counts").text, "her import", 60)
    assert "6 angelegt" in hers and "3 ungültig" in hers, hers
    shot("b6-result-de", other)

    browser.find_element(By.LINK_TEXT, "6. History").click()
    # every import of the computer, each with its own counts: his, undone; hers, in onOffice
    history = " ".join(page().split())
    assert "termine.csv" in history and "6 rows in onOffice 3 rows not imported" in history
    assert "viewings.xlsx" in history and "5 rows not imported 9 appointments undone" in history
    shot("12-history")
    browser.find_element(By.CSS_SELECTOR, "button[value=de]").click()
    wait_for(lambda: "Jeder Import" in page(), "the German page")
    browser.find_element(By.LINK_TEXT, "1. Verbindung").click()
    assert "Übungsmodus" in page()
    shot("13-start-de")

    process.send_signal(signal.SIGINT)  # Ctrl-C
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    # the terminal speaks the program's language (LANG=C), whatever the browsers chose
    assert "Stopped." in output and "Traceback" not in output
    token = url.split("token=")[1]
    assert token not in output  # printed once, to the user; never in a log line
    print("axe-core on", len(findings), "pages:", {n: len(f) for n, f in findings.items()})
    assert {name: f for name, f in findings.items() if f} == {}, "axe-core: serious findings"
    print(
        "screenshots in", SHOTS, "; seconds per step:", {k: round(v, 2) for k, v in timings.items()}
    )
