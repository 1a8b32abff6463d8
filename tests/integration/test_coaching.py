"""The managers' read API end to end: bench/simulate posts a team's surveys (planted agents:
agent-ben interrupts, agent-cara never apologises, agent-ana excels, agent-ivy is a new hire
with a handful of surveys) to a real collector, a real analyzer drains the stream, and
/v1/coaching must put the planted agents first with the right dimension and focus, leave
agent-ana out and agent-ivy in not_enough_data; /v1/impact must show apologising pays;
/v1/trends has one point per day; CSV exports parse and neutralise formulas; the survey list
serves scored comments with cue spans; the dashboard page is public and holds no data."""

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys

import hk
from hk import INGEST_KEY, MANAGER_KEY, Env

ENV = None
SURVEYS = 2400
DAYS = 28
TODAY = dt.datetime.now(dt.timezone.utc).date()
FROM = (TODAY - dt.timedelta(days=DAYS)).isoformat()
TO = TODAY.isoformat()
WINDOW = "from=%s&to=%s" % (FROM, TO)
SIMULATE = os.path.join(hk.SOURCE, "bench", "simulate")


def get_json(path, key=MANAGER_KEY):
    s, d = ENV.get(path, key=key)
    assert s == 200, (path, s, d[:500])
    return json.loads(d)


def get_csv(path, headers=None):
    s, d, h = ENV.request("GET", path, key=MANAGER_KEY, headers=headers)
    assert s == 200, (path, s, d[:500])
    assert h["content-type"].startswith("text/csv"), h
    assert "attachment" in h.get("content-disposition", ""), h
    text = d.decode("utf-8")
    assert "\r\n" in text  # RFC 4180 line ends
    return list(csv.DictReader(io.StringIO(text, newline="")))


def load():
    p = subprocess.run([SIMULATE, "--url", "http://127.0.0.1:%d" % ENV.http_port, "--key",
                        INGEST_KEY, "--surveys", str(SURVEYS), "--days", str(DAYS)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    # two agents whose ids a spreadsheet would read as formulas (ids may start with - or @)
    for i, agent in enumerate(["-1-1", "@SUM"]):
        s, j, _ = ENV.post_survey({"interaction_id": "formula-%d" % i, "agent_id": agent,
                                   "scenario": "other", "answers": {"nps": 9},
                                   "comment": "=HYPERLINK(\"http://x\") thanks"})
        assert s == 202, (s, j)
    hk.wait_until(ENV.drained, timeout=240, step=0.2, what="the analyzer to drain the stream")


def truth():
    p = subprocess.run([SIMULATE, "--truth"], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def test_coaching_queue_finds_the_planted_agents():
    t = truth()
    assert t["agent-ben"]["profile"] == "interrupts" and t["agent-cara"]["profile"] == "never_apologizes"
    j = get_json("/v1/coaching?" + WINDOW)
    items = j["items"]
    by_agent = {it["agent"]: it for it in items}
    assert [it["rank"] for it in items] == list(range(1, len(items) + 1)), items
    gains = [it["gain"] for it in items]
    assert gains == sorted(gains, reverse=True) and all(g > 0 for g in gains), gains
    # the two planted agents first, far ahead of everyone else
    assert {it["agent"] for it in items[:2]} == {"agent-ben", "agent-cara"}, \
        [(it["agent"], it["gain"]) for it in items]
    if len(items) > 2:
        assert items[1]["gain"] > 3 * items[2]["gain"], [(it["agent"], it["gain"]) for it in items]
    ben, cara = by_agent["agent-ben"], by_agent["agent-cara"]
    assert ben["dimension"] == "felt_heard", ben
    assert ben["focus"] in ("did_not_interrupt", "listened_actively"), ben
    assert cara["dimension"] == "felt_valued", cara
    assert cara["focus"] == "apologized", cara
    for it in (ben, cara):
        assert it["focus_basis"] == "data", it
        assert it["team_id"] == "team-a", it
        assert it["estimate"] < it["team"] and 0 <= it["estimate"] <= 1, it
        assert it["n"] >= j["min_n"] and it["n"] == it["dimension_n"], it
        # gain is (team - estimate) x n
        assert abs(it["gain"] - (it["team"] - it["estimate"]) * it["n"]) < 1e-6 * it["n"], it
        assert it["scenario"] is None or it["scenario"] in (
            "billing_error", "service_interruption", "product_quality", "cancellation_return",
            "tech_support", "complaint_escalation", "other"), it
    # evidence: the focus behaviour is missed far more often than the team misses it, and the
    # comments' cues say so
    ben_beh = [e for e in ben["evidence"] if e["type"] == "behavior"]
    assert ben_beh and ben_beh[0]["behavior"] in ("did_not_interrupt", "listened_actively"), ben
    assert ben_beh[0]["rate"] > ben_beh[0]["team_rate"] + 0.2, ben_beh
    cara_beh = [e for e in cara["evidence"] if e["type"] == "behavior"]
    assert cara_beh[0]["behavior"] == "apologized" and cara_beh[0]["rate"] > 0.9, cara_beh
    ben_cues = [e for e in ben["evidence"] if e["type"] == "cue"]
    cara_cues = [e for e in cara["evidence"] if e["type"] == "cue"]
    assert ben_cues and ben_cues[0]["dimension"] in ("behaviors.did_not_interrupt",
                                                      "behaviors.listened_actively",
                                                      "felt_heard"), ben_cues
    assert any("apolog" in e["entry"] or "sorry" in e["entry"] for e in cara_cues), cara_cues
    # the agent who excels is not in the queue; the new hire is never ranked
    assert "agent-ana" not in by_agent, by_agent.get("agent-ana")
    assert "agent-ivy" not in by_agent and "agent-ivy" in j["not_enough_data"], j["not_enough_data"]
    assert "agent-ana" not in j["not_enough_data"]


def test_coaching_min_n():
    j = get_json("/v1/coaching?%s&min_n=100000" % WINDOW)
    assert j["items"] == [] and "agent-ben" in j["not_enough_data"], j
    s, d = ENV.get("/v1/coaching?min_n=0", key=MANAGER_KEY)
    assert s == 400 and json.loads(d)["error"]["field"] == "min_n", d
    # default window (the last 30 days) sees the same data
    j = get_json("/v1/coaching")
    assert {it["agent"] for it in j["items"][:2]} == {"agent-ben", "agent-cara"}, j["items"][:3]


def test_impact_apologising_pays():
    j = get_json("/v1/impact?%s&scenario=*" % WINDOW)
    rows = {(r["behavior"], r["scenario"]): r for r in j["rows"]}
    r = rows[("apologized", "*")]
    assert r["done"]["n"] >= 2 and r["not"]["n"] >= 2, r
    d = r["diff"]["nps"]
    assert d["value"] > 0 and d["ci95"][0] > 0, r  # done beats not, beyond noise
    assert abs(d["value"] - (r["done"]["nps"]["score"] - r["not"]["nps"]["score"])) < 1e-9
    for side in ("done", "not"):
        nps = r[side]["nps"]
        assert nps["ci95"][0] <= nps["score"] <= nps["ci95"][1], nps
        assert r[side]["felt_heard"]["n"] >= 2 and r[side]["felt_heard"]["ci95"], r[side]
        assert r[side]["advocacy"]["n"] >= 2, r[side]
    assert r["diff"]["felt_heard"]["value"] is not None
    # every behaviour has n and intervals on every number, or nulls
    for row in j["rows"]:
        for side in ("done", "not"):
            for m in ("nps", "felt_heard", "advocacy"):
                x = row[side][m]
                assert "n" in x and ("ci95" in x), x
                if x["n"] < 2:
                    assert x["ci95"] is None, x
    # per scenario
    j = get_json("/v1/impact?%s&scenario=billing_error" % WINDOW)
    assert j["rows"] and {r["scenario"] for r in j["rows"]} == {"billing_error"}, j["rows"][:2]
    j = get_json("/v1/impact?" + WINDOW)
    scen = {r["scenario"] for r in j["rows"]}
    assert "*" in scen and "billing_error" in scen, scen
    s, d = ENV.get("/v1/impact?scenario=bad%20name", key=MANAGER_KEY)
    assert s == 400, d


def test_trends_one_point_per_day():
    all_n = get_json("/v1/rollups?by=all&" + WINDOW)["groups"][0]["n"]
    j = get_json("/v1/trends?metric=volume&" + WINDOW)
    days = [p["day"] for p in j["points"]]
    assert len(days) == DAYS + 1 and days[0] == FROM and days[-1] == TO, days
    for a, b in zip(days, days[1:]):
        assert dt.date.fromisoformat(b) - dt.date.fromisoformat(a) == dt.timedelta(days=1)
    assert sum(p["n"] for p in j["points"]) == all_n
    # past the data: n = 0 gives value null (and no interval)
    later = (TODAY + dt.timedelta(days=2)).isoformat()
    j = get_json("/v1/trends?metric=nps&from=%s&to=%s" % (FROM, later))
    assert len(j["points"]) == DAYS + 3
    assert j["points"][-1] == {"day": later, "n": 0, "value": None, "ci95": None}, j["points"][-1]
    for p in j["points"]:
        if p["n"] >= 2:
            assert p["ci95"][0] <= p["value"] <= p["ci95"][1], p
    # every metric answers; agent + scenario maps to agent_scenario
    for m in ("nps", "csat", "ces", "felt_heard", "felt_valued", "advocacy", "ease", "sentiment",
              "volume", "recovery"):
        j = get_json("/v1/trends?metric=%s&%s" % (m, WINDOW))
        assert j["metric"] == m and len(j["points"]) == DAYS + 1, j
    cell = {g["key"]: g["n"] for g in get_json("/v1/rollups?by=agent_scenario&" + WINDOW)["groups"]}
    j = get_json("/v1/trends?metric=felt_heard&agent=agent-ben&scenario=billing_error&" + WINDOW)
    assert j["filter"] == {"agent": "agent-ben", "team": None, "scenario": "billing_error"}, j
    assert sum(p["n"] for p in get_json(
        "/v1/trends?metric=volume&agent=agent-ben&scenario=billing_error&" + WINDOW)["points"]) \
        == cell["agent-ben|billing_error"]
    j = get_json("/v1/trends?metric=felt_heard&source=text&team=team-a&" + WINDOW)
    assert j["source"] == "text" and j["scale"] == [-1, 1], j
    for bad in ("metric=bogus", "metric=nps&team=team-a&agent=agent-ben", "metric=nps&agent=a%20b",
                "metric=nps&from=2026-13-01", "metric=volume&source=text"):
        s, d = ENV.get("/v1/trends?" + bad, key=MANAGER_KEY)
        assert s == 400, (bad, s, d)


def test_csv_exports():
    items = get_json("/v1/coaching?" + WINDOW)["items"]
    rows = get_csv("/v1/coaching?format=csv&" + WINDOW)
    assert len(rows) == len(items) and rows[0]["agent"] == items[0]["agent"], rows[:1]
    for col in ("rank", "agent", "dimension", "scenario", "focus", "gain", "n", "estimate", "team",
                "evidence"):
        assert col in rows[0], rows[0].keys()
    assert abs(float(rows[0]["gain"]) - items[0]["gain"]) < 1e-9
    assert json.loads(rows[0]["evidence"]) == items[0]["evidence"]
    # Accept: text/csv works too
    rows = get_csv("/v1/trends?metric=nps&" + WINDOW, headers={"Accept": "text/csv"})
    assert len(rows) == DAYS + 1 and {"day", "n", "value", "ci95_lo", "ci95_hi"} <= set(rows[0])
    rows = get_csv("/v1/impact?format=csv&scenario=*&" + WINDOW)
    assert rows and "diff.nps.value" in rows[0] and "done.nps.ci95_lo" in rows[0], rows[0].keys()
    rows = get_csv("/v1/rollups?by=agent&format=csv&" + WINDOW)
    keys = [r["key"] for r in rows]
    # formula-looking ids are neutralised with a leading apostrophe; numbers are left alone
    assert "'-1-1" in keys and "'@SUM" in keys and "-1-1" not in keys, keys
    assert "agent-ben" in keys
    ben = rows[keys.index("agent-ben")]
    assert float(ben["nps.score"]) < 100 and ben["recovery.rate"] != "", ben
    rows = get_csv("/v1/surveys?agent=@SUM&format=csv")
    assert rows[0]["survey.comment"].startswith("'=HYPERLINK"), rows[0]
    # JSON stays the default
    s, d, h = ENV.request("GET", "/v1/trends?metric=nps", key=MANAGER_KEY)
    assert s == 200 and h["content-type"] == "application/json"


def test_survey_list_for_the_comment_explorer():
    j = get_json("/v1/surveys?agent=agent-ben&limit=5")
    assert len(j["surveys"]) == 5, j
    for rec in j["surveys"]:
        s, sc = rec["survey"], rec["score"]
        assert rec["status"] == "scored" and s["agent_id"] == "agent-ben" and s["comment"], rec
        raw = s["comment"].encode()
        for cue in sc["cues"]:
            start, n = cue["span"]
            assert 0 <= start and start + n <= len(raw), cue
            assert raw[start:start + n].decode() == cue["text"], cue
    ids = [r["survey"]["submitted_at"] for r in j["surveys"]]
    j = get_json("/v1/surveys?agent=agent-cara&scenario=billing_error&limit=3")
    assert all(r["survey"]["scenario"] == "billing_error" and r["survey"]["agent_id"] == "agent-cara"
               for r in j["surveys"]), j
    s, d = ENV.get("/v1/surveys?limit=1000", key=MANAGER_KEY)
    assert s == 400, d
    assert ids  # newest stream entries first (the simulator posts in random time order)


def test_auth_and_dashboard_page():
    for path in ("/v1/coaching", "/v1/impact", "/v1/trends?metric=nps", "/v1/surveys"):
        s, d = ENV.get(path)
        assert s == 401, (path, s)
        s, d = ENV.get(path, key=INGEST_KEY)
        assert s == 403, (path, s)
    s, d, h = ENV.request("GET", "/dashboard")
    assert s == 200 and h["content-type"].startswith("text/html"), (s, h)
    assert h["content-security-policy"] == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"), h
    page = d.decode()
    assert "agent-" not in page and "<script>" not in page and "style=" not in page
    s, d, h = ENV.request("GET", "/static/dashboard.js")
    assert s == 200 and h["content-type"].startswith("text/javascript")
    # data reaches the page as text only: no HTML sinks, no code from strings
    assert not re.search(rb"(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|"
                         rb"\beval\(|new Function", d)
    s, d, h = ENV.request("GET", "/dashboard/lib/chart.umd.min.js")
    assert s == 200 and len(d) > 50000 and h["content-type"].startswith("text/javascript"), (s, len(d))
    assert ENV.get("/dashboard/lib/..%2f..%2fCMakeLists.txt")[0] == 404
    assert ENV.get("/dashboard/lib/package.json")[0] == 404
    s, d = ENV.get("/v1/rollups?by=nope", key=MANAGER_KEY)
    assert s == 400 and b"behavior_scenario" in d, d


def ensure_chart_library():
    """npm ci in collector/dashboard when its node_modules is missing (the set-up step)."""
    folder = os.path.join(hk.SOURCE, "collector", "dashboard")
    if os.path.exists(os.path.join(folder, "node_modules", "chart.js", "dist", "chart.umd.min.js")):
        return
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, "npm ci in collector/dashboard failed:\n" + p.stdout + p.stderr


def main():
    global ENV
    ensure_chart_library()
    with Env() as env:
        ENV = env
        env.start_redis().start_collector()
        env.start_analyzer()
        load()
        failed = hk.run([test_coaching_queue_finds_the_planted_agents, test_coaching_min_n,
                         test_impact_apologising_pays, test_trends_one_point_per_day,
                         test_csv_exports, test_survey_list_for_the_comment_explorer,
                         test_auth_and_dashboard_page], env)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
