"""A real browser (headless Chromium from Debian, driven by chromedriver) uses
the app as a person would, with JavaScript turned off:

    python scripts/check_browser.py http://127.0.0.1:5000 [docs/]

- opens /, fills the form, submits, and sees "Passenger survives" and a
  probability; the same in Spanish by ?lang=es and by Accept-Language;
- sees no Content Security Policy violation in the console;
- saves screenshots of the form and the result (and the Spanish result and a
  phone-sized form) in the given directory, for the README.

Prints `N passed, 0 failed` and exits 0, or names what failed and exits 1.
"""

import os
import re
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:5000"
SHOTS = sys.argv[2] if len(sys.argv) > 2 else None

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

passed = 0
failed = []


DOWNLOADS = tempfile.mkdtemp(prefix="lifeboat-downloads-")


def browser(lang=None, width=1000, height=1500):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="lifeboat-chromium-")
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ]:
        opts.add_argument(arg)
    prefs = {
        "profile.managed_default_content_settings.javascript": 2,
        "download.default_directory": DOWNLOADS,
        "download.prompt_for_download": False,
    }
    if lang:
        opts.add_argument(f"--lang={lang}")
        prefs["intl.accept_languages"] = lang
    opts.add_experimental_option("prefs", prefs)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Both paths are given, so Selenium Manager never tries to download a driver.
    d = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    # After a submit, look for the next page's elements until it has loaded.
    d.implicitly_wait(10)
    return d


def check(name):
    def wrap(fn):
        global passed
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failed.append(name)
            print(f"FAIL {name}: {type(e).__name__}: {e}")
        return fn

    return wrap


def fill(d, values):
    for name, value in values.items():
        el = d.find_element(By.NAME, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)
        # Every control has a label pointing at it.
        label = d.find_element(By.CSS_SELECTOR, f'label[for="{el.get_attribute("id")}"]')
        assert label.text.strip(), name


def no_csp_violations(d):
    logs = d.get_log("browser")
    bad = [l["message"] for l in logs if "Content Security Policy" in l["message"] or l["level"] == "SEVERE"]
    assert not bad, bad


SURVIVOR = {"Pclass": "1", "Sex": "female", "Age": "29", "SibSp": "0", "Parch": "0", "Fare": "80", "Embarked": "S"}
VICTIM = {"Pclass": "3", "Sex": "male", "Age": "40", "SibSp": "0", "Parch": "0", "Fare": "8.05", "Embarked": "S"}


def shot(d, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        d.save_screenshot(os.path.join(SHOTS, name))


@check("English: fill the form, submit, see the outcome and its probability")
def _():
    d = browser()
    try:
        d.get(BASE + "/")
        assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert "Titanic survival" in d.title
        fill(d, SURVIVOR)
        shot(d, "screenshot-form.png")
        d.find_element(By.CSS_SELECTOR, "form.predict button[type=submit]").click()
        verdict = d.find_element(By.CSS_SELECTOR, "h1.verdict").text
        assert verdict == "Passenger survives", verdict
        prob = d.find_element(By.CSS_SELECTOR, ".probability .big").text
        assert re.fullmatch(r"\d{1,3}\.\d %", prob), prob
        assert d.find_elements(By.CSS_SELECTOR, "svg.chart rect")
        # The form comes back pre-filled.
        assert Select(d.find_element(By.NAME, "Sex")).first_selected_option.get_attribute("value") == "female"
        shot(d, "screenshot-result.png")
        no_csp_violations(d)
    finally:
        d.quit()


@check("Spanish by ?lang=es")
def _():
    d = browser()
    try:
        d.get(BASE + "/?lang=es")
        assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
        assert d.find_element(By.CSS_SELECTOR, 'label[for="f0-Pclass"]').text.startswith("Clase del billete")
        fill(d, SURVIVOR)
        d.find_element(By.CSS_SELECTOR, "form.predict button[type=submit]").click()
        assert d.find_element(By.CSS_SELECTOR, "h1.verdict").text == "El pasajero sobrevive"
        prob = d.find_element(By.CSS_SELECTOR, ".probability .big").text
        assert re.fullmatch(r"\d{1,3},\d %", prob), prob
        shot(d, "screenshot-result-es.png")
        no_csp_violations(d)
    finally:
        d.quit()


@check("Spanish by Accept-Language (a browser set to Spanish)")
def _():
    d = browser(lang="es")
    try:
        d.get(BASE + "/")
        assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
        fill(d, VICTIM)
        d.find_element(By.CSS_SELECTOR, "form.predict button[type=submit]").click()
        assert d.find_element(By.CSS_SELECTOR, "h1.verdict").text == "El pasajero muere"
        assert "probabilidad" in d.find_element(By.CSS_SELECTOR, ".probability").text
    finally:
        d.quit()


@check("CSV files: upload, see the summary and rejected rows, download the scored file")
def _():
    csv = os.path.join(DOWNLOADS, "passengers.csv")
    with open(csv, "w") as f:
        f.write("Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n3,male,22,1,0,7.25,S\n1,female,38,1,0,71.2833,C\n2,robot,30,0,0,10,S\n")
    d = browser()
    try:
        d.get(BASE + "/batch")
        d.find_element(By.ID, "file").send_keys(csv)
        d.find_element(By.CSS_SELECTOR, "form.upload button[type=submit]").click()
        summary = d.find_element(By.CSS_SELECTOR, ".summary").text
        assert summary == "3 rows: 2 scored, 1 rejected.", summary
        assert "robot" in d.find_element(By.CSS_SELECTOR, ".result-batch").text
        d.find_element(By.CSS_SELECTOR, "a[download]").click()
        target = os.path.join(DOWNLOADS, "passengers-scored.csv")
        deadline = time.time() + 30
        while not os.path.exists(target) and time.time() < deadline:
            time.sleep(0.1)
        with open(target) as f:
            lines = f.read().splitlines()
        assert lines[0].endswith(",prediction,label,probability_0,probability_1"), lines[0]
        assert len(lines) == 3, lines
        no_csp_violations(d)
    finally:
        d.quit()


@check("CSV files as Excel in Spanish saves them: semicolons, decimal commas, Windows-1252")
def _():
    csv = os.path.join(DOWNLOADS, "pasajeros.csv")
    with open(csv, "wb") as f:
        f.write("Pclass;Sex;Age;SibSp;Parch;Fare;Embarked;Nombre\r\n"
                "3;male;22,5;1;0;7,25;S;Muñoz\r\n1;female;38;1;0;71,2833;C;Peña\r\n".encode("cp1252"))
    d = browser(lang="es")
    try:
        d.get(BASE + "/batch")
        d.find_element(By.ID, "file").send_keys(csv)
        d.find_element(By.CSS_SELECTOR, "form.upload button[type=submit]").click()
        result = d.find_element(By.CSS_SELECTOR, ".result-batch").text
        assert "2 filas: 2 evaluadas, 0 rechazadas." in result, result
        assert "punto y coma" in result and "Windows-1252" in result, result
        assert "Muñoz" in result and "22,5" in result, result
        d.find_element(By.CSS_SELECTOR, "a[download]").click()
        target = os.path.join(DOWNLOADS, "pasajeros-scored.csv")
        deadline = time.time() + 30
        while not os.path.exists(target) and time.time() < deadline:
            time.sleep(0.1)
        with open(target, encoding="utf-8") as f:
            lines = f.read().splitlines()
        assert lines[0].endswith(";Nombre;prediction;label;probability_0;probability_1"), lines[0]
        assert lines[1].startswith("3;male;22,5;1;0;7,25;S;Muñoz;0;"), lines[1]
        assert "," in lines[1].rsplit(";", 1)[1] and "." not in lines[1], lines[1]
        no_csp_violations(d)
    finally:
        d.quit()


@check("Every page renders without CSP violations; the phone-sized form fits")
def _():
    d = browser(width=390, height=1600)
    try:
        for path in ["/", "/model", "/batch", "/docs", "/model?lang=es"]:
            d.get(BASE + path)
            assert d.find_element(By.CSS_SELECTOR, "main h1").text, path
        d.get(BASE + "/")
        shot(d, "screenshot-phone.png")
        no_csp_violations(d)
    finally:
        d.quit()


print(f"{passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
