"""The review page in a real headless browser (Debian's chromium and chromedriver, which
.ci/run installs): listing, filtering, and deciding by mouse and by keyboard.

Selenium is given the driver's path, so Selenium Manager never downloads anything. Without
chromium these tests are skipped, except in CI, where they must run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hsmatch.review_web import running
from tests.review_data import flag_id_of

CHROMIUM = Path(os.environ.get("HSMATCH_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("HSMATCH_CHROMEDRIVER", "/usr/bin/chromedriver"))


@pytest.fixture(scope="module")
def driver():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    webdriver = None
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package (pip install -e '.[dev]')")
    if missing:
        reason = (f"browser tests need {', '.join(missing)} (apt-get install chromium "
                  "chromium-driver)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; .ci/run installs them, so CI must have them")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
                     "--incognito"):
        options.add_argument(argument)
    # A driver path in the Service: Selenium Manager is skipped, nothing is downloaded.
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.implicitly_wait(0)
    yield browser
    browser.quit()


@pytest.fixture()
def page(driver, store):
    """The server on an ephemeral port, and the browser with no cookies from other tests."""
    with running(store, "127.0.0.1", 0) as server:
        driver.get(server.url + "nothing")  # a page of this origin, to clear its cookies
        driver.delete_all_cookies()
        yield driver, server


def _wait(driver, condition, timeout=10):
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def guarded(d):
        try:
            return condition(d)
        except WebDriverException as exc:
            # Chromium reports an element of a page being replaced as an inspector error,
            # not as stale: look again, as for a stale element.
            if "does not belong to the document" in str(exc):
                return False
            raise

    # While a page is replaced, elements found a moment ago go stale: look again.
    return WebDriverWait(driver, timeout, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(guarded)


def _rows(driver):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")


def _keys(driver, keys):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(keys).perform()


def _on_flag(driver, flag_id=None, *, other_than=None):
    """Wait until a flag page (of ``flag_id``, or not of ``other_than``) has loaded; return
    its id."""
    from selenium.webdriver.common.by import By

    def loaded(d):
        if d.execute_script("return document.readyState") != "complete":
            return False  # the keyboard script runs last: wait for it
        found = d.find_elements(By.ID, "flag-id")
        text = found[0].text if found else ""
        if text and (flag_id is None or text == flag_id) and text != other_than:
            return text
        return False

    return _wait(driver, loaded)


def test_the_queue_lists_every_flag_with_counts(page, flags):
    from selenium.webdriver.common.by import By

    driver, server = page
    driver.get(server.url)
    assert driver.title.startswith("Review queue")
    rows = _rows(driver)
    assert len(rows) == len(flags)
    assert {r.get_attribute("data-flag") for r in rows} == set(flags["flag_id"])
    assert driver.find_element(By.ID, "showing").text == "1–6 of 6 flags"
    assert driver.find_element(By.ID, "c-status-open").get_attribute("data-count") == "6"
    assert driver.find_element(By.ID, "c-flag_type-service").get_attribute("data-count") == "1"


def test_filters_narrow_the_queue(page, flags):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, server = page
    driver.get(server.url)
    Select(driver.find_element(By.ID, "f-state")).select_by_visible_text("Haryana")  # submits itself
    _wait(driver, lambda d: "state=Haryana" in d.current_url)
    assert {r.find_elements(By.TAG_NAME, "td")[3].text.split("\n")[0] for r in _rows(driver)} == {
        "Karnal", "Nowhere Nagar"}
    driver.find_element(By.ID, "c-flag_type-too_broad").click()
    _wait(driver, lambda d: "flag_type=too_broad" in d.current_url)
    rows = _rows(driver)
    assert [r.get_attribute("data-flag") for r in rows] == [flag_id_of(flags, product="Marine products")]
    driver.find_element(By.ID, "clear").click()
    _wait(driver, lambda d: len(_rows(d)) == len(flags))
    search = driver.find_element(By.ID, "f-q")
    search.send_keys("kantha\n")
    _wait(driver, lambda d: "q=kantha" in d.current_url)
    assert [r.get_attribute("data-flag") for r in _rows(driver)] == [
        flag_id_of(flags, product="Nakshi kantha")]


def test_deciding_with_the_mouse_moves_to_the_next_open_flag(page, store, flags):
    from selenium.webdriver.common.by import By

    driver, server = page
    driver.get(server.url + "?state=Uttar+Pradesh")
    first = _rows(driver)[0].get_attribute("data-flag")
    driver.find_element(By.CSS_SELECTOR, "#queue tbody tr a.fl").click()
    _on_flag(driver, first)
    driver.find_element(By.ID, "reviewer").send_keys("Asha Rao")
    driver.find_element(By.ID, "note").send_keys("checked against the sector data")
    driver.find_element(By.ID, "accept").click()
    following = _on_flag(driver, other_than=first)
    assert "state=Uttar+Pradesh" in driver.current_url
    assert "Saved — accepted:" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    # The name is remembered for the next flag.
    assert driver.find_element(By.ID, "reviewer").get_attribute("value") == "Asha Rao"
    history = store.history(first)
    assert [(d.action, d.reviewer, d.note) for d in history] == [
        ("accept", "Asha Rao", "checked against the sector data")]
    # The queue shows it.
    driver.get(server.url + "?status=accepted")
    assert [r.get_attribute("data-flag") for r in _rows(driver)] == [first]
    assert following != first


def test_deciding_from_the_keyboard(page, store, flags):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, server = page
    order = [r["flag_id"] for r in store.queue(limit=None)]
    driver.get(server.url + f"flag/{order[0]}")
    _on_flag(driver, order[0])
    _keys(driver, "j")
    _on_flag(driver, order[1])
    _keys(driver, "k")
    _on_flag(driver, order[0])
    # Without a name nothing is saved: the browser asks for it.
    _keys(driver, "r")
    name = driver.find_element(By.ID, "reviewer")
    _wait(driver, lambda d: d.switch_to.active_element == name)
    assert store.decisions() == []
    name.send_keys("Ravi", Keys.ESCAPE)  # Escape leaves the field; plain keys act again
    _keys(driver, "r")  # reject: on to the next open flag
    _on_flag(driver, order[1])
    assert store.flag(order[0])["status"] == "rejected"
    # c: the code field; Enter saves the correction.
    target = next(f for f in order[1:] if store.flag(f)["product"])
    driver.get(server.url + f"flag/{target}")
    _on_flag(driver, target)
    _keys(driver, "c")
    assert driver.switch_to.active_element == driver.find_element(By.ID, "codes")
    _keys(driver, "57011010" + Keys.ENTER)
    _wait(driver, lambda d: "done=" + target in d.current_url)
    last = store.history(target)[-1]
    assert (last.action, last.codes, last.reviewer) == ("correct", ("57011010",), "Ravi")
    # n: the note; Ctrl+Enter saves it without changing the status.
    driver.get(server.url + f"flag/{target}")
    _on_flag(driver, target)
    _keys(driver, "n")
    assert driver.switch_to.active_element == driver.find_element(By.ID, "note")
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys("a quilt, hand embroidered").key_down(Keys.CONTROL) \
        .send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    _wait(driver, lambda d: "done=" + target in d.current_url)
    assert store.history(target)[-1].note == "a quilt, hand embroidered"
    assert store.flag(target)["status"] == "corrected"
    # a: accept.
    driver.get(server.url + f"flag/{order[1]}")
    _on_flag(driver, order[1])
    _keys(driver, "a")
    _wait(driver, lambda d: "done=" + order[1] in d.current_url)
    assert store.flag(order[1])["status"] == "accepted"


def test_the_queue_moves_with_j_and_k_and_opens_with_enter(page, store):
    from selenium.webdriver.common.keys import Keys

    driver, server = page
    driver.get(server.url)
    order = [r["flag_id"] for r in store.queue(limit=None)]
    _keys(driver, "jjk")
    selected = _wait(driver, lambda d: [r for r in _rows(d) if "sel" in r.get_attribute("class")])
    assert selected[0].get_attribute("data-flag") == order[0]
    _keys(driver, "j" + Keys.ENTER)
    _on_flag(driver, order[1])
