"""POST /v1/surveys against a real collector and redis-server: validation, auth, caps,
duplicates, smuggling refusals, and 503 / recovery when Redis goes away. Every refusal must
store nothing."""

import json
import time

import hk
from hk import INGEST_KEY, MANAGER_KEY, Env, survey

ENV = None


def stored():
    """Everything a refusal must leave untouched: stream length and the dedupe keys."""
    return ENV.stream_len(), sorted(ENV.redis.cmd("KEYS", ENV.prefix + "iid:*"))


def expect_refused(body, status, field=None, code=None, headers=None, key=INGEST_KEY):
    before = stored()
    s, j, _ = ENV.post_survey(body, key=key, headers=headers)
    assert s == status, (s, j, body)
    assert j is not None and "error" in j, j
    if field is not None:
        assert j["error"].get("field") == field, (j, field)
    if code is not None:
        assert j["error"].get("code") == code, (j, code)
    assert j["error"].get("message"), j
    assert stored() == before, "a refused survey changed Redis"


def test_accepts_and_stores():
    s, j, _ = ENV.post_survey(survey(1))
    assert s == 202, (s, j)
    entries = ENV.redis.cmd("XRANGE", ENV.prefix + "surveys", j["id"], j["id"])
    assert len(entries) == 1
    fields = dict(zip(entries[0][1][::2], entries[0][1][1::2]))
    stored_survey = json.loads(fields["survey"])
    assert stored_survey["interaction_id"] == "call-000001"
    assert stored_survey["answers"]["nps"] == 1
    assert stored_survey["submitted_at"] == survey(1)["submitted_at"]
    assert ENV.redis.cmd("GET", ENV.prefix + "iid:call-000001") == j["id"]


def test_minimal_and_defaults():
    s, j, _ = ENV.post_survey({"interaction_id": "min-1", "agent_id": "a", "scenario": "other",
                               "comment": "fine"})
    assert s == 202, (s, j)
    e = ENV.redis.cmd("XRANGE", ENV.prefix + "surveys", j["id"], j["id"])[0]
    sv = json.loads(dict(zip(e[1][::2], e[1][1::2]))["survey"])
    assert sv["language"] == "en"
    assert abs(time.time() - time.mktime(time.strptime(sv["submitted_at"], "%Y-%m-%dT%H:%M:%SZ"))
               + time.timezone) < 120, sv["submitted_at"]
    # one answer and no comment is enough too
    s, j, _ = ENV.post_survey({"interaction_id": "min-2", "agent_id": "a", "scenario": "other",
                               "answers": {"nps": 0}})
    assert s == 202, (s, j)


def test_duplicate_is_409_and_changes_nothing():
    s, j, _ = ENV.post_survey(survey(2))
    assert s == 202
    before = stored()
    s2, j2, _ = ENV.post_survey(survey(2, comment="a different comment"))
    assert s2 == 409, (s2, j2)
    assert j2["error"]["code"] == "duplicate"
    assert stored() == before
    # the original is what stays
    e = ENV.redis.cmd("XRANGE", ENV.prefix + "surveys", j["id"], j["id"])[0]
    assert "different" not in dict(zip(e[1][::2], e[1][1::2]))["survey"]


def test_invalid_fields():
    base = survey(3)
    cases = [
        ({k: v for k, v in base.items() if k != "interaction_id"}, "interaction_id"),
        ({k: v for k, v in base.items() if k != "agent_id"}, "agent_id"),
        ({k: v for k, v in base.items() if k != "scenario"}, "scenario"),
        (dict(base, interaction_id=""), "interaction_id"),
        (dict(base, interaction_id="x" * 129), "interaction_id"),
        (dict(base, interaction_id="has space"), "interaction_id"),
        (dict(base, interaction_id="semi;colon"), "interaction_id"),
        (dict(base, interaction_id=17), "interaction_id"),
        (dict(base, agent_id="ag\u00e9nt"), "agent_id"),
        (dict(base, team_id="t/1"), "team_id"),
        (dict(base, scenario="alien_abduction"), "scenario"),
        (dict(base, answers={"nps": 11}), "answers.nps"),
        (dict(base, answers={"nps": -1}), "answers.nps"),
        (dict(base, answers={"nps": 9.5}), "answers.nps"),
        (dict(base, answers={"nps": "9"}), "answers.nps"),
        (dict(base, answers={"nps": True}), "answers.nps"),
        (dict(base, answers={"csat": 0}), "answers.csat"),
        (dict(base, answers={"csat": 6}), "answers.csat"),
        (dict(base, answers={"ces": 8}), "answers.ces"),
        (dict(base, answers={"felt_heard": 0}), "answers.felt_heard"),
        (dict(base, answers={"felt_valued": 6}), "answers.felt_valued"),
        (dict(base, answers={"happiness": 3}), "answers.happiness"),
        (dict(base, answers=[9]), "answers"),
        (dict(base, behaviors={"apologized": "yes"}), "behaviors.apologized"),
        (dict(base, behaviors={"juggled": True}), "behaviors.juggled"),
        (dict(base, comment="x" * 5001), "comment"),
        (dict(base, comment=5), "comment"),
        (dict(base, submitted_at="yesterday"), "submitted_at"),
        (dict(base, submitted_at="2026-02-30T10:00:00Z"), "submitted_at"),
        (dict(base, language="english please"), "language"),
        (dict(base, answer={"nps": 3}), "answer"),
        ({"interaction_id": "x-1", "agent_id": "a", "scenario": "other"}, None),
        ({"interaction_id": "x-2", "agent_id": "a", "scenario": "other", "comment": ""}, None),
        ({"interaction_id": "x-3", "agent_id": "a", "scenario": "other", "answers": {}}, None),
    ]
    for body, field in cases:
        expect_refused(body, 400, field=field)


def test_malformed_json():
    for raw in [b"{", b"[]", b"null", b"\"text\"", b"{\"interaction_id\": \"a\",}",
                b"{\"interaction_id\":\"a\",\"interaction_id\":\"b\",\"agent_id\":\"x\","
                b"\"scenario\":\"other\",\"comment\":\"hi\"}",
                b"{\"interaction_id\":\"bad-utf8\",\"agent_id\":\"x\",\"scenario\":\"other\","
                b"\"comment\":\"\xff\xfe\"}",
                b"{\"interaction_id\":\"nul\",\"agent_id\":\"x\",\"scenario\":\"other\","
                b"\"comment\":\"a\\u0000b\"}",
                b"[" * 5000 + b"]" * 5000]:
        before = stored()
        s, j, _ = ENV.post_survey(raw, headers={"Content-Type": "application/json"})
        assert s == 400, (s, j, raw[:60])
        assert j["error"]["code"] in ("invalid_json", "invalid_field"), j
        assert stored() == before


def test_auth():
    expect_refused(survey(4), 401, key=None)
    expect_refused(survey(4), 403, key="wrong-key")
    expect_refused(survey(4), 403, key=MANAGER_KEY)
    s, j, _ = ENV.post_survey(survey(4), key="second-ingest-key-abcdef")
    assert s == 202, (s, j)


def test_content_type():
    before = stored()
    s, d, _ = ENV.request("POST", "/v1/surveys", body=json.dumps(survey(5)),
                          headers={"Content-Type": "text/plain"}, key=INGEST_KEY)
    assert s == 415, (s, d)
    assert json.loads(d)["error"]
    s, d, _ = ENV.request("POST", "/v1/surveys", body=json.dumps(survey(5)), key=INGEST_KEY)
    assert s == 415, (s, d)
    assert stored() == before
    s, d, _ = ENV.request("POST", "/v1/surveys", body=json.dumps(survey(5)),
                          headers={"Content-Type": "application/json; charset=utf-8"},
                          key=INGEST_KEY)
    assert s == 202, (s, d)


def test_body_cap():
    big = dict(survey(6), comment="a" * 4000)
    big["padding"] = "p" * (70 * 1024)
    expect_refused(big, 413)
    # chunked, no Content-Length: the cap must hold while the body streams in
    body = json.dumps(big).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4096]), body[i:i + 4096])
                      for i in range(0, len(body), 4096)) + b"0\r\n\r\n"
    before = stored()
    out = ENV.raw(b"POST /v1/surveys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  INGEST_KEY.encode() + b"\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks)
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    assert stored() == before


def test_smuggling_refused():
    body = json.dumps(survey(7)).encode()
    before = stored()
    for extra in [b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(body), len(body)),
                  b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body)]:
        out = ENV.raw(b"POST /v1/surveys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      INGEST_KEY.encode() + b"\r\nContent-Type: application/json\r\n" + extra +
                      b"Connection: close\r\n\r\n" + body)
        assert out.startswith(b"HTTP/1.1 400"), out[:200]
    assert stored() == before


def test_routes():
    s, d, h = ENV.request("PUT", "/v1/surveys", key=INGEST_KEY)
    assert s == 405, (s, d)
    assert "POST" in h.get("allow", ""), h
    # GET lists recent surveys for managers: the ingest key may not read
    s, d, h = ENV.request("GET", "/v1/surveys", key=INGEST_KEY)
    assert s == 403, (s, d)
    s, d, _ = ENV.request("GET", "/nope")
    assert s == 404 and json.loads(d)["error"]
    assert ENV.get("/healthz")[0] == 200
    assert ENV.get("/readyz")[0] == 200
    s, d = ENV.get("/metrics")
    assert s == 200 and b"hearken_" in d


def test_redis_down_then_back():
    ENV.kill_redis()
    s, j, h = ENV.post_survey(survey(8))
    assert s == 503, (s, j)
    assert "retry-after" in h, h
    assert ENV.get("/readyz")[0] == 503
    ENV.start_redis()  # same port, same dir: AOF brings back what was acknowledged
    hk.wait_until(lambda: ENV.post_survey(survey(8))[0] == 202, timeout=20,
                  what="collector to recover after redis returned")
    assert ENV.redis.cmd("EXISTS", ENV.prefix + "iid:call-000001") == 1, "acknowledged survey lost"
    # each collector thread has its own connection and reconnects on its own backoff schedule,
    # so readiness on every thread follows within seconds, not necessarily at once
    hk.wait_until(lambda: all(ENV.get("/readyz")[0] == 200 for _ in range(8)), timeout=10,
                  what="/readyz back to 200")


def main():
    global ENV
    with Env() as env:
        ENV = env
        env.start_redis().start_collector()
        failed = hk.run([test_accepts_and_stores, test_minimal_and_defaults,
                test_duplicate_is_409_and_changes_nothing, test_invalid_fields, test_malformed_json,
                test_auth, test_content_type, test_body_cap, test_smuggling_refused, test_routes,
                test_redis_down_then_back], env)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
