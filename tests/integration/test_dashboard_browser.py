"""The managers' dashboard in a real headless Chromium at 1280 px: the simulator's team is
loaded through a real collector and analyzer, the page is opened without a key (it holds no
data), a wrong key is refused, the manager key opens it, the four charts draw, the coaching
queue lists the planted agents first, agent-ben's comments show highlighted cues, and nothing
is logged to the console (a CSP violation would be). Saves docs/dashboard.png for the README.

Set-up as test_form_browser.py (system Chromium, playwright-core from tests/browser's
lockfile), plus `npm ci` in collector/dashboard for the chart library when it is missing.
Prints a "skipped" line and exits 0 only when Chromium cannot be installed."""

import json
import os
import subprocess
import sys

import hk
from hk import INGEST_KEY, MANAGER_KEY, Env
from test_coaching import ensure_chart_library
from test_form_browser import BROWSER_DIR, CHROMIUM, set_up

# the README's screenshot is refreshed only on request (HEARKEN_SCREENSHOTS=1), so running the
# tests leaves the work tree as it was
SHOT = os.path.abspath(os.path.join(hk.SOURCE, "docs", "dashboard.png") if os.environ.get(
    "HEARKEN_SCREENSHOTS") == "1" else os.path.join(hk.BUILD, "dashboard.png"))


def test_dashboard_in_chromium(env):
    p = subprocess.run([os.path.join(hk.SOURCE, "bench", "simulate"), "--url",
                        "http://127.0.0.1:%d" % env.http_port, "--key", INGEST_KEY,
                        "--surveys", "2000"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    hk.wait_until(env.drained, timeout=240, step=0.2, what="the analyzer to drain the stream")

    os.makedirs(os.path.dirname(SHOT), exist_ok=True)
    url = "http://127.0.0.1:%d" % env.http_port
    p = subprocess.run(["node", os.path.join(BROWSER_DIR, "dashboard_test.mjs"), url, MANAGER_KEY,
                        SHOT], cwd=BROWSER_DIR, capture_output=True, text=True, timeout=240,
                       env=dict(os.environ, CHROMIUM=CHROMIUM))
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    assert lines, "no result from the browser:\n" + p.stdout[-2000:] + p.stderr[-2000:]
    r = json.loads(lines[-1])
    assert p.returncode == 0 and "error" not in r, r.get("error") or p.stderr[-2000:]

    assert r["getStatus"] == 200 and "script-src 'self'" in r["csp"], r
    assert r["loginVisible"] and r["appHiddenBeforeLogin"], r
    assert "not accepted" in r["wrongKeyMessage"] and r["appHiddenAfterWrongKey"], r
    assert r["keyStored"], r
    # no console errors, no CSP violations, no failed requests (the chart library loaded)
    assert r["consoleErrors"] == [], (r["consoleErrors"], r["failedRequests"])
    assert r["cspViolations"] == [], r["cspViolations"]
    assert r["failedRequests"] == [], r["failedRequests"]
    assert r["status"].startswith("Updated"), r["status"]

    charts = {c["id"]: c for c in r["charts"]}
    assert set(charts) == {"chart-nps", "chart-felt", "chart-advocacy", "chart-volume"}, charts
    for c in charts.values():
        assert c["chart"] and c["width"] > 200 and c["height"] > 100 and c["painted"] > 1000, c

    kpis = dict(r["kpis"])
    assert kpis["Surveys"] == "2000", kpis
    agents = [row["agent"] for row in r["coaching"]]
    assert set(agents[:2]) == {"agent-ben", "agent-cara"}, r["coaching"]
    assert "agent-ana" not in agents and "agent-ivy" not in agents, agents
    assert "agent-ivy" in r["notEnough"], r["notEnough"]
    ben = next(row["cells"] for row in r["coaching"] if row["agent"] == "agent-ben")
    assert "felt heard" in ben[2] and ben[4] in ("did not interrupt", "listened actively"), ben
    cara = next(row["cells"] for row in r["coaching"] if row["agent"] == "agent-cara")
    assert "felt valued" in cara[2] and cara[4] == "apologized", cara

    assert len(r["agentRows"]) == 9 and r["scenarioRows"] == 7, (r["agentRows"], r["scenarioRows"])
    assert all(row[7] != "—" for row in r["agentRows"]), r["agentRows"]  # recovery shown
    assert any(row[0] == "apologized" for row in r["impactRows"]), r["impactRows"]

    comments = r["comments"]
    assert comments and all(c["agent"] == "agent-ben" for c in comments), comments
    marks = [m for c in comments for m in c["marks"]]
    assert marks, comments
    assert any("neg" in m["cls"] for m in marks) and all(m["title"] for m in marks), marks
    # a highlighted span is the comment's own text, and carries the cue's dimension
    for c in comments:
        for m in c["marks"]:
            assert m["text"] and m["text"] in c["text"], (m, c["text"])
    assert r["foreignElements"] == 0, r

    with open(SHOT, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(head[16:20], "big") == 1280, head
    assert os.path.getsize(SHOT) > 30000


def main():
    reason = set_up()
    if reason:
        print("skipped: test_dashboard_browser: " + reason)
        print("0 passed, 0 failed (skipped)")
        sys.exit(0)
    ensure_chart_library()
    with Env() as env:
        env.start_redis().start_collector()
        env.start_analyzer()

        def test_dashboard_in_chromium_at_1280px():
            test_dashboard_in_chromium(env)

        failed = hk.run([test_dashboard_in_chromium_at_1280px], env)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
