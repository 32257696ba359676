"""The class report opens in a real browser (headless Chromium) from the file alone: its figures
load, its tables show, and nothing is fetched from anywhere (the page is self-contained)."""

from __future__ import annotations

import pytest
from browser import chrome, require_browser, screenshot, screenshot_on_failure, wait
from helpers import assignment, grade_folder
from selenium.webdriver.common.by import By

from autograder.examples import build_examples
from autograder.report import REPORT, write_report

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NAME = "conv_step_by_step"


def test_the_class_report_of_the_examples_opens_in_a_browser(tmp_path):
    require_browser()
    submitted = tmp_path / "submitted"
    build_examples(assignment(NAME), submitted)
    grade_folder(assignment(NAME), submitted, tmp_path / "grades")
    write_report(assignment(NAME), tmp_path / "grades", tmp_path / "report", 10.0, submitted)
    with chrome(tmp_path / "profile") as driver, screenshot_on_failure(driver, f"{NAME}-report-failed"):
        driver.get((tmp_path / "report" / REPORT).as_uri())
        wait(driver, 30, lambda d: d.execute_script("return document.readyState") == "complete", "page load")
        images = driver.find_elements(By.TAG_NAME, "img")
        assert len(images) == 2
        assert all(driver.execute_script("return arguments[0].naturalWidth", img) > 0 for img in images)
        headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
        assert headings[:5] == [
            "Scores",
            "Per function",
            "Hidden test cases, hardest first",
            "Common mistakes",
            "Runtime",
        ]
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "it matches the result with the kernel flipped" in body and "broken_file" in body
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert [name for name in resources if not name.startswith("data:")] == []
        screenshot(driver, f"{NAME}-report-top")
        heading = driver.find_element(By.XPATH, "//h2[text()='Common mistakes']")
        driver.execute_script("arguments[0].scrollIntoView()", heading)
        screenshot(driver, f"{NAME}-report-mistakes")
