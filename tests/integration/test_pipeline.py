"""End to end on real parts: a few hundred surveys (valid, invalid, duplicates) posted over
HTTP, one analyzer draining the stream, and /v1/rollups checked against counts computed here
from exactly what was accepted."""

import json
import math
import random

import hk
from hk import MANAGER_KEY, Env, survey

ENV = None
ACCEPTED = {}  # interaction_id -> survey as posted


def post_mix():
    rng = random.Random(7)
    n_invalid = n_dup = 0
    for i in range(300):
        s = survey(1000 + i)
        if i % 3 == 0:  # vary answers so sums are not trivially regular
            s["answers"] = {k: v for k, v in s["answers"].items() if rng.random() < 0.7}
            if not s["answers"]:
                del s["answers"]
                s["comment"] = "They listened and sorted it out quickly."
        if rng.random() < 0.3:
            s["behaviors"] = {"apologized": rng.random() < 0.5, "did_not_interrupt": True}
        code, j, _ = ENV.post_survey(s)
        assert code == 202, (code, j)
        ACCEPTED[s["interaction_id"]] = s
        if i % 10 == 0:  # a retry of the same interaction: refused, counts once
            code, j, _ = ENV.post_survey(dict(s, answers={"nps": 10}))
            assert code == 409, (code, j)
            n_dup += 1
        if i % 7 == 0:  # an invalid one: refused, counts never
            bad = survey(5000 + i, answers={"nps": 42})
            code, j, _ = ENV.post_survey(bad)
            assert code == 400, (code, j)
            n_invalid += 1
    assert n_dup == 30 and n_invalid == 43
    assert ENV.stream_len() == 300


def expected(group_of):
    groups = {}
    for s in ACCEPTED.values():
        key = group_of(s)
        if key is None:
            continue
        g = groups.setdefault(key, {"n": 0, "p": 0, "pa": 0, "d": 0, "csat": [], "ces": [],
                                    "fh": [], "fv": []})
        g["n"] += 1
        a = s.get("answers", {})
        if "nps" in a:
            g["p" if a["nps"] >= 9 else "pa" if a["nps"] >= 7 else "d"] += 1
        for k, f in (("csat", "csat"), ("ces", "ces"), ("felt_heard", "fh"), ("felt_valued", "fv")):
            if k in a:
                g[f].append(a[k])
    return groups


def close(a, b, eps=1e-6):
    return a is not None and abs(a - b) <= eps * max(1.0, abs(b))


def check(by, group_of):
    got = {g["key"]: g for g in ENV.rollups(by=by, frm="2026-11-01", to="2026-11-30")["groups"]}
    want = expected(group_of)
    assert set(got) == set(want), (by, sorted(got), sorted(want))
    for key, w in want.items():
        g = got[key]
        assert g["n"] == w["n"], (by, key, g["n"], w["n"])
        nps = g["nps"]
        assert (nps["promoters"], nps["passives"], nps["detractors"]) == (w["p"], w["pa"], w["d"]), \
            (by, key, nps, w)
        m = w["p"] + w["pa"] + w["d"]
        if m:
            assert close(nps["score"], 100.0 * (w["p"] - w["d"]) / m), (by, key, nps)
            pp, dd = w["p"] / m, w["d"] / m
            assert close(nps["se"], 100.0 * math.sqrt((pp + dd - (pp - dd) ** 2) / m)), (by, key, nps)
        assert g["csat"]["n"] == len(w["csat"]), (by, key, g["csat"])
        if w["csat"]:
            top2 = 100.0 * sum(1 for v in w["csat"] if v >= 4) / len(w["csat"])
            assert close(g["csat"]["top2_pct"], top2), (by, key, g["csat"], top2)
        assert g["ces"]["n"] == len(w["ces"])
        if w["ces"]:
            assert close(g["ces"]["mean"], sum(w["ces"]) / len(w["ces"])), (by, key, g["ces"])
        fh = g["felt_heard"]["stated"]
        assert fh["n"] == len(w["fh"])
        if len(w["fh"]) >= 2:
            mean = sum(w["fh"]) / len(w["fh"])
            assert close(fh["mean"], mean)
            lo, hi = fh["ci95"]
            assert lo < mean < hi or (lo == hi == mean), fh
        assert g["felt_valued"]["stated"]["n"] == len(w["fv"])


def test_rollups_match_what_was_accepted():
    post_mix()
    ENV.start_analyzer()
    hk.wait_until(ENV.drained, timeout=60, what="analyzer to drain the stream")
    check("all", lambda s: "all")
    check("agent", lambda s: s["agent_id"])
    check("team", lambda s: s.get("team_id"))
    check("scenario", lambda s: s["scenario"])
    check("agent_scenario", lambda s: s["agent_id"] + "|" + s["scenario"])
    assert ENV.redis.cmd("XLEN", ENV.prefix + "dead") == 0


def test_scored_survey_readable():
    iid = "call-001002"
    s, d = ENV.get("/v1/surveys/" + iid, key=MANAGER_KEY)
    assert s == 200, (s, d)
    j = json.loads(d)
    assert j["survey"]["interaction_id"] == iid
    assert "score" in j and "sentiment" in j["score"], j
    assert ENV.get("/v1/surveys/nope-404", key=MANAGER_KEY)[0] == 404
    assert ENV.get("/v1/surveys/" + iid)[0] == 401


def test_rollups_params():
    for q in ["by=planet", "by=agent&from=2026-13-01", "by=agent&from=2026-11-02&to=2026-11-01",
              "by=agent&from=yesterday", "by=all&from=2020-01-01&to=2026-01-01"]:
        s, d = ENV.get("/v1/rollups?" + q, key=MANAGER_KEY)
        assert s == 400, (q, s, d)
        assert json.loads(d)["error"]["message"]
    assert ENV.get("/v1/rollups?by=all")[0] == 401
    assert ENV.get("/v1/rollups?by=all", key=hk.INGEST_KEY)[0] == 403


def test_poison_goes_to_dead_letters():
    ENV.redis.cmd("XADD", ENV.prefix + "surveys", "*", "survey", "{not json")
    ENV.redis.cmd("XADD", ENV.prefix + "surveys", "*", "something", "else")
    hk.wait_until(lambda: ENV.redis.cmd("XLEN", ENV.prefix + "dead") == 2, timeout=30,
                  what="poison entries in the dead-letter stream")
    hk.wait_until(ENV.drained, timeout=30, what="poison entries acknowledged")
    dead = ENV.redis.cmd("XRANGE", ENV.prefix + "dead", "-", "+")
    reasons = [dict(zip(e[1][::2], e[1][1::2])).get("reason") for e in dead]
    assert all(reasons), dead
    assert ENV.rollups(by="all", frm="2026-11-01", to="2026-11-30")["groups"][0]["n"] == 300


def test_sigterm_exits_cleanly():
    a = ENV.analyzers[0]
    assert a.stop() == 0
    assert ENV.collector.stop() == 0


def main():
    global ENV
    with Env() as env:
        ENV = env
        env.start_redis().start_collector()
        failed = hk.run([test_rollups_match_what_was_accepted, test_scored_survey_readable,
                         test_rollups_params, test_poison_goes_to_dead_letters,
                         test_sigterm_exits_cleanly], env)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
