"""The twin's dashboard in a real headless browser (Debian's chromium through its chromedriver, driven by
selenium; nothing downloaded) against a running `twinric up`: the page loads from the sidecar, every
view shows live data from the stack, values on the page match the twin's API, an update arrives
within 2 s, the time slider shows an earlier state from the twin's time travel, a control the PDP
denied appears in the decision view, and the browser logs no error. A screenshot is saved to
``bench/out/dashboard.png``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from twinric.processes import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path(__file__).resolve().parents[2] / "bench" / "out" / "dashboard.png"

pytestmark = pytest.mark.slow


def browser() -> webdriver.Chrome:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            pytest.fail(f"{path} is missing: apt-get install chromium chromium-driver (.ci/run does)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1500,2900",
        "--no-first-run",
        "--disable-extensions",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def page_state(driver: webdriver.Chrome) -> dict:
    """What the page shows, read in one go (the page redraws every second)."""
    return driver.execute_script("""
        const q = (s) => Array.from(document.querySelectorAll(s));
        const b = document.body.dataset;
        return {
          tick: Number(b.tick || 0), seq: b.seq === undefined || b.seq === "" ? null : Number(b.seq),
          t: b.t ? Number(b.t) : null,
          cells: q("#cell-table tbody tr").map((tr) => ({index: Number(tr.dataset.cell),
              pct: Number(tr.querySelector("td.load").dataset.pct), text: tr.textContent})),
          graph: q("#cell-graph g.cell").map((g) => Number(g.dataset.load)),
          edges: q("#cell-graph line").length,
          loadLines: q("#chart-load polyline").map((p) => p.getAttribute("points").split(" ").length),
          thpLines: q("#chart-thp polyline").map((p) => p.dataset.series),
          rewardPoints: q("#chart-reward polyline").map((p) => p.getAttribute("points").split(" ").length),
          markers: q("#chart-load line.marker").map((m) => m.getAttribute("class")),
          twin: Object.fromEntries(
              q("#twin-table td[data-key]").map((td) => [td.dataset.key, td.textContent])),
          forecast: q("#chart-forecast polyline").length,
          decisions: q("#decision-table tbody tr[data-decision]").map((tr) => tr.dataset.result),
          trust: q("#trust-table tbody tr").map((tr) => tr.dataset.subject),
          policy: document.getElementById("policy-body").dataset.state || null,
          policyText: document.getElementById("policy-body").textContent,
          trustApi: document.getElementById("trust-api").dataset.state || null,
          mode: document.getElementById("ran-mode").textContent,
          modeSeq: document.getElementById("ran-mode").dataset.seq || null,
          slider: {min: Number(document.getElementById("time-slider").min),
                   max: Number(document.getElementById("time-slider").max)},
          conn: document.getElementById("conn").textContent,
        };
    """)


def diagnosis(proc: subprocess.Popen, run_dir: Path, twin: str) -> str:
    """Why the stack did not get going: the twin's health and the ends of the logs."""
    try:
        health = httpx.get(f"{twin}/health", timeout=5).text[:1500]
    except httpx.HTTPError as exc:
        health = repr(exc)
    logs = "\n".join(
        f"--- {p.name}\n" + "".join(p.read_text(errors="replace").splitlines(True)[-8:])
        for p in sorted(run_dir.glob("*.log"))
    )
    ended = (
        f"`twinric up` ended ({proc.returncode}): {proc.stderr.read()[-3000:]}"
        if proc.poll() is not None
        else ""
    )
    return f"the twin mirrors no controls; twin health: {health}\n{ended}\n{logs[-4000:]}"


def _twinric(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinric", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_dashboard_in_a_browser_against_twinric_up(tmp_path, redis_url: str) -> None:
    run_dir = tmp_path / "run"
    env = dict(os.environ, TWINRIC_REDIS_URL=redis_url)
    argv = ["up", "--for", "400", "--json", "--free-ports", "--run-dir", str(run_dir), "--status-every", "5"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "twinric", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    driver = None
    try:
        state_file = run_dir / "state.json"
        assert wait_until(
            lambda: state_file.exists() and "dashboard" in json.loads(state_file.read_text())["urls"], 40
        ), proc.stderr.read() if proc.poll() is not None else "no stack"
        urls = json.loads(state_file.read_text())["urls"]
        twin, dashboard = urls["twin"], urls["dashboard"]
        assert dashboard == f"{twin}/dashboard/"

        def twin_state() -> dict | None:
            try:
                r = httpx.get(f"{twin}/v1/state", timeout=5)
            except httpx.HTTPError:  # not listening yet
                return None
            return r.json() if r.status_code == 200 else None

        assert wait_until(lambda: (s := twin_state()) is not None and s["controls"], 150), diagnosis(
            proc, run_dir, twin
        )
        # `twinric status` links the dashboard
        status = json.loads(_twinric("status", "--json", "--run-dir", str(run_dir), env=env).stdout)
        assert status["twin"]["dashboard"] == dashboard and status["urls"]["dashboard"] == dashboard

        driver = browser()
        driver.get(dashboard)
        assert driver.title == "twinric twin dashboard"
        assert wait_until(lambda: page_state(driver)["tick"] >= 1, 10), page_state(driver)

        # every view shows live data from the stack
        def every_view_filled() -> bool:
            s = page_state(driver)
            return (
                len(s["cells"]) == 7
                and len(s["graph"]) == 7
                and s["edges"] > 0
                and len(s["loadLines"]) == 7
                and min(s["loadLines"]) > 5
                and s["thpLines"] == ["mean", "5th percentile"]
                and s["rewardPoints"]
                and s["rewardPoints"][0] > 5
                and "marker" in " ".join(s["markers"])
                and s["forecast"] >= 2
                and s["twin"].get("model version", "") != ""
                and "PERMIT" in s["decisions"]
                and "xapp:twinric-control" in s["trust"]
                and s["policy"] is not None
                and s["trustApi"] is not None
            )

        assert wait_until(every_view_filled, 30), page_state(driver)
        shown = page_state(driver)
        assert shown["conn"] == "live"
        # the policy and trust routes are other issues': "not available yet" until they answer
        if shown["policy"] == "unavailable":
            assert "not available yet" in shown["policyText"]
        else:
            assert shown["policy"] == "ok", shown["policyText"]

        # values on the page are the API's for the round the page shows
        # (1 us later: the round's time in float seconds can land a few ns before the round itself)
        api = httpx.get(f"{twin}/v1/state/at", params={"t": shown["t"] + 1e-6}, timeout=5).json()
        assert api["seq"] == shown["seq"]
        for cell in shown["cells"]:
            assert cell["pct"] == pytest.approx(
                api["cells"][cell["index"]]["kpm"]["prb_tot_dl_pct"], abs=1e-4
            )
            assert str(api["cells"][cell["index"]]["nr_cell_id"]) in cell["text"]
        assert shown["graph"] == [pytest.approx(c["pct"] / 100, abs=1e-4) for c in shown["cells"]]

        # a live update (a newer round) arrives within 2 s, without reloading
        before = page_state(driver)
        t0 = time.monotonic()
        assert wait_until(
            lambda: (s := page_state(driver))["seq"] > before["seq"] and s["tick"] > before["tick"], 2.0
        )
        assert time.monotonic() - t0 <= 2.0

        # the time slider shows an earlier state: the twin's time travel
        slider = page_state(driver)["slider"]
        assert slider["max"] - slider["min"] > 5, slider
        earlier = slider["min"] + 0.4 * (slider["max"] - slider["min"])
        driver.execute_script(
            """
            const s = document.getElementById("time-slider");
            s.value = arguments[0];
            s.dispatchEvent(new Event("input"));
        """,
            earlier,
        )
        assert wait_until(lambda: page_state(driver)["modeSeq"] is not None, 5), page_state(driver)
        past = page_state(driver)
        then = httpx.get(f"{twin}/v1/state/at", params={"t": earlier}, timeout=5).json()
        assert int(past["modeSeq"]) == then["seq"] < past["seq"]
        assert past["mode"].startswith("at ")
        for cell in past["cells"]:
            assert cell["pct"] == pytest.approx(
                then["cells"][cell["index"]]["kpm"]["prb_tot_dl_pct"], abs=1e-4
            )
        time.sleep(1.5)  # live events keep coming: the slider's state stays on screen
        assert page_state(driver)["modeSeq"] == past["modeSeq"]
        driver.find_element("id", "live-button").click()
        assert wait_until(lambda: page_state(driver)["mode"] == "live", 3)

        # the operator distrusts the control xApp: its controls are denied and the page shows it
        out = _twinric(
            "pdp", "trust", "set", "xapp:twinric-control", "0.1", "--run-dir", str(run_dir), env=env
        )
        assert out.returncode == 0, out.stderr
        assert wait_until(lambda: "DENY" in page_state(driver)["decisions"], 20), page_state(driver)
        deny = driver.execute_script("""
            const tr = document.querySelector('#decision-table tbody tr[data-result="DENY"]');
            return tr ? tr.textContent : null;""")
        assert deny and "xapp:twinric-control" in deny

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(SCREENSHOT)) and SCREENSHOT.stat().st_size > 10_000

        # no console errors in all of it
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
    finally:
        if driver is not None:
            driver.quit()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
