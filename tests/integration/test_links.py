"""The customer's side against a real collector and redis-server: minting signed links, the
survey form (GET: fields, security headers, no inline script; POST: stored through the ingest
path with agent and scenario from the token only), tampered / expired / unknown-key links,
already answered, invalid fields shown next to the question, rate limits, comment redaction,
key rotation, and the NDJSON batch import. Tokens must never reach the logs."""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import urllib.parse

import hk
from hk import INGEST_KEY, Env

SECRET = "test-link-secret-0123456789abcdef0123456789"  # the harness's HEARKEN_LINK_SECRET, kid k1
SECRET2 = "second-link-secret-for-rotation-0123456789ab"
CSP = ("default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
BEHAVIORS = ["apologized", "acknowledged_feelings", "showed_concern", "offered_goodwill",
             "calm_tone", "listened_actively", "used_my_name", "did_not_interrupt",
             "was_patient", "made_no_assumptions"]
PUBLIC = "https://feedback.example.test/hearken"

ENV = None
TOKENS = []  # every token seen, to check none reached a log


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def craft(payload, secret=SECRET):
    """A token made outside the collector, by the documented format."""
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    tok = b64(payload.encode()) + "." + b64(mac)
    TOKENS.append(tok)
    return tok


def mint(env=None, key=INGEST_KEY, **body):
    env = env or ENV
    ctx = {"interaction_id": "ix-1", "agent_id": "agent-17", "scenario": "billing_error"}
    ctx.update(body)
    s, d, h = env.request("POST", "/v1/links", body=ctx, key=key)
    j = json.loads(d) if d else None
    if s == 200:
        TOKENS.append(j["token"])
    return s, j, h


def form_get(token, env=None):
    return (env or ENV).request("GET", "/s/" + token)


def form_post(token, fields, env=None, ctype="application/x-www-form-urlencoded"):
    body = fields if isinstance(fields, str) else urllib.parse.urlencode(fields)
    return (env or ENV).request("POST", "/s/" + token, body=body, headers={"Content-Type": ctype})


def entries():
    out = []
    for eid, kv in ENV.redis.cmd("XRANGE", ENV.prefix + "surveys", "-", "+"):
        out.append((eid, json.loads(dict(zip(kv[::2], kv[1::2]))["survey"])))
    return out


def stored(iid):
    found = [s for _, s in entries() if s["interaction_id"] == iid]
    assert len(found) <= 1, found
    return found[0] if found else None


def check_page_headers(h, status_line=""):
    assert h.get("content-type") == "text/html; charset=utf-8", (status_line, h)
    assert h.get("content-security-policy") == CSP, h
    assert h.get("x-content-type-options") == "nosniff", h
    assert h.get("referrer-policy") == "no-referrer", h
    assert h.get("cache-control") == "no-store", h
    assert h.get("x-frame-options") == "DENY", h


def no_inline_code(html):
    assert "<script" not in html.lower(), "inline script"
    assert not re.search(r"\sstyle\s*=", html, re.I), "inline style attribute"
    assert "<style" not in html.lower(), "inline style element"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler"


def heading(html):
    m = re.search(r"<h1>(.*?)</h1>", html, re.S)
    return m.group(1) if m else None


# ---- minting ---------------------------------------------------------------------------------

def test_mint_link():
    before = time.time()
    s, j, h = mint(interaction_id="mint-1", team_id="team-b", channel="chat", language="EN-gb",
                   ttl_seconds=86400)
    assert s == 200, (s, j)
    assert h["content-type"] == "application/json"
    tok = j["token"]
    assert j["url"] == PUBLIC + "/s/" + tok, j
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}", tok), tok
    exp = time.mktime(time.strptime(j["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 86400 - 5 <= exp <= time.time() + 86400 + 5, j
    # the payload is the documented one, and the signature is HMAC-SHA256 under k1
    p64, s64 = tok.split(".")
    payload = base64.urlsafe_b64decode(p64 + "=" * (-len(p64) % 4)).decode()
    assert payload == "1|k1|mint-1|agent-17|team-b|billing_error|chat|en-GB|%d" % exp, payload
    mac = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    assert b64(mac) == s64
    # default ttl: 7 days
    s, j, _ = mint(interaction_id="mint-2")
    exp = time.mktime(time.strptime(j["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(exp - (time.time() + 7 * 86400)) < 10, j


def test_mint_refusals():
    cases = [
        ({"agent_id": None}, 400, "agent_id"),
        ({"interaction_id": "has space"}, 400, "interaction_id"),
        ({"interaction_id": "x" * 129}, 400, "interaction_id"),
        ({"scenario": "alien_abduction"}, 400, "scenario"),
        ({"language": "english please"}, 400, "language"),
        ({"team_id": "t/1"}, 400, "team_id"),
        ({"ttl_seconds": 60}, 400, "ttl_seconds"),
        ({"ttl_seconds": 31 * 86400}, 400, "ttl_seconds"),
        ({"ttl_seconds": "3600"}, 400, "ttl_seconds"),
        ({"answers": {"nps": 9}}, 400, "answers"),
    ]
    for over, status, field in cases:
        body = {"interaction_id": "mr-1", "agent_id": "a", "scenario": "other"}
        body.update(over)
        body = {k: v for k, v in body.items() if v is not None}
        s, d, _ = ENV.request("POST", "/v1/links", body=body, key=INGEST_KEY)
        j = json.loads(d)
        assert s == status and j["error"]["field"] == field, (over, s, j)
    s, d, _ = ENV.request("POST", "/v1/links", body=b"{", key=INGEST_KEY,
                          headers={"Content-Type": "application/json"})
    assert s == 400 and json.loads(d)["error"]["code"] == "invalid_json", d
    assert mint(key=None)[0] == 401
    assert mint(key=hk.MANAGER_KEY)[0] == 403
    s, _, _ = ENV.request("POST", "/v1/links", body="interaction_id=x", key=INGEST_KEY,
                          headers={"Content-Type": "text/plain"})
    assert s == 415
    s, _, h = ENV.request("GET", "/v1/links", key=INGEST_KEY)
    assert s == 405 and h.get("allow") == "POST", (s, h)


# ---- the form --------------------------------------------------------------------------------

def test_form_get():
    _, j, _ = mint(interaction_id="get-1")
    s, d, h = form_get(j["token"])
    html = d.decode()
    assert s == 200, (s, html[:300])
    check_page_headers(h)
    no_inline_code(html)
    assert '<html lang="en">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<link rel="stylesheet" href="/static/form.css">' in html
    assert re.search(r'<form method="post"[^>]*>', html) and " action=" not in html
    for name, lo, hi in [("nps", 0, 10), ("felt_heard", 1, 5), ("felt_valued", 1, 5),
                         ("csat", 1, 5), ("ces", 1, 7)]:
        values = re.findall(r'<input type="radio" id="%s-(\d+)" name="%s" value="(\d+)">' % (name, name), html)
        assert [int(v) for _, v in values] == list(range(lo, hi + 1)), (name, values)
        for v in range(lo, hi + 1):  # every control has its label
            assert '<label for="%s-%d">' % (name, v) in html, (name, v)
    assert html.count("<fieldset") == 6 and html.count("<legend>") == 6
    for b in BEHAVIORS:
        assert ('<input type="checkbox" id="b-%s" name="%s" value="on">' % (b, b)) in html, b
        assert '<label for="b-%s">' % b in html
    assert "The agent apologised" in html
    assert re.search(r'<label for="comment">', html)
    assert re.search(r'<textarea id="comment" name="comment"[^>]* maxlength="5000"', html)
    assert '<button type="submit">' in html
    # HEAD answers the same headers
    s, d, h = ENV.request("HEAD", "/s/" + j["token"])
    assert s == 200 and d == b"" and h.get("content-security-policy") == CSP
    # the CSS is a static file with its type
    s, d, h = ENV.request("GET", "/static/form.css")
    assert s == 200 and h["content-type"].startswith("text/css") and b".opts" in d, (s, h)
    for path in ["/static/nope.css", "/static/i18n/en.txt", "/static/../CMakeLists.txt"]:
        assert ENV.request("GET", path)[0] == 404, path


def test_form_language():
    _, j, _ = mint(interaction_id="lang-1", language="de-AT")
    s, d, _ = form_get(j["token"])
    html = d.decode()
    assert s == 200 and '<html lang="de">' in html and "Wie waren wir?" in html, html[:400]
    _, j, _ = mint(interaction_id="lang-2", language="fr")  # no French texts yet: English
    s, d, _ = form_get(j["token"])
    assert s == 200 and '<html lang="en">' in d.decode()


def test_form_post_stores():
    _, j, _ = mint(interaction_id="post-1", agent_id="agent-3", team_id="team-a",
                   scenario="service_interruption", channel="chat")
    before = ENV.stream_len()
    s, d, h = form_post(j["token"], [
        ("nps", "9"), ("felt_heard", "5"), ("felt_valued", "4"), ("csat", "5"), ("ces", "6"),
        ("apologized", "on"), ("did_not_interrupt", "on"),
        ("comment", "Priya listened.\r\nMail me at priya.fan@example.com or +44 7700 900123."),
    ])
    html = d.decode()
    assert s == 200, (s, html[:500])
    check_page_headers(h)
    no_inline_code(html)
    assert heading(html) == "Thank you!", html
    assert ENV.stream_len() == before + 1
    sv = stored("post-1")
    assert sv["agent_id"] == "agent-3" and sv["scenario"] == "service_interruption", sv
    assert sv["team_id"] == "team-a" and sv["channel"] == "chat" and sv["language"] == "en", sv
    assert sv["answers"] == {"nps": 9, "csat": 5, "ces": 6, "felt_heard": 5, "felt_valued": 4}, sv
    # ticked boxes are true; unticked ones are absent, not false
    assert sv["behaviors"] == {"apologized": True, "did_not_interrupt": True}, sv
    assert sv["comment"] == "Priya listened.\nMail me at [email] or [phone].", sv
    t = time.mktime(time.strptime(sv["submitted_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(t - time.time()) < 60, sv
    assert ENV.redis.cmd("EXISTS", ENV.prefix + "iid:post-1") == 1


def test_form_minimal_answers():
    _, j, _ = mint(interaction_id="post-2")
    s, d, _ = form_post(j["token"], "nps=0")  # radios not chosen are not sent at all
    assert s == 200, d
    assert stored("post-2")["answers"] == {"nps": 0}
    assert "behaviors" not in stored("post-2") and "comment" not in stored("post-2")
    _, j, _ = mint(interaction_id="post-3")
    s, d, _ = form_post(j["token"], "nps=&csat=&comment=Only+words%2C+caf%C3%A9.")
    assert s == 200, d
    assert stored("post-3")["comment"] == "Only words, caf\u00e9." and "answers" not in stored("post-3")


def test_customer_cannot_change_context():
    _, j, _ = mint(interaction_id="ctx-1", agent_id="agent-1", scenario="other")
    before = ENV.stream_len()
    for field in ["agent_id", "scenario", "interaction_id", "team_id", "language", "submitted_at"]:
        s, d, h = form_post(j["token"], [("nps", "10"), (field, "evil")])
        assert s == 400 and h["content-type"].startswith("text/html"), (field, s)
        assert heading(d.decode()) == "We could not read your answers", d[:300]
    assert ENV.stream_len() == before
    s, _, _ = form_post(j["token"], "nps=10")
    assert s == 200
    assert stored("ctx-1")["agent_id"] == "agent-1" and stored("ctx-1")["scenario"] == "other"


def test_second_post_is_already_answered():
    _, j, _ = mint(interaction_id="twice-1")
    assert form_post(j["token"], "nps=7&comment=first")[0] == 200
    before = ENV.stream_len()
    s, d, h = form_post(j["token"], "nps=1&comment=second")
    assert s == 409, s
    check_page_headers(h)
    assert heading(d.decode()) == "You have already answered"
    assert ENV.stream_len() == before and stored("twice-1")["comment"] == "first"
    # opening the link again says so too, without the form
    s, d, _ = form_get(j["token"])
    assert s == 200 and heading(d.decode()) == "You have already answered"
    assert "<form" not in d.decode()
    # and the API sees the same dedupe
    s, jj, _ = ENV.post_survey({"interaction_id": "twice-1", "agent_id": "a", "scenario": "other",
                                "comment": "api"})
    assert s == 409, (s, jj)


def test_invalid_fields_show_the_form_again():
    _, j, _ = mint(interaction_id="bad-1")
    before = ENV.stream_len()
    comment = "Kept <b>as typed</b> & \"quoted\"\nsecond line"
    s, d, h = form_post(j["token"], [("nps", "11"), ("csat", "x"), ("felt_heard", "4"),
                                     ("was_patient", "on"), ("comment", comment)])
    html = d.decode()
    assert s == 400, s
    check_page_headers(h)
    no_inline_code(html)
    # the errors sit next to their questions, and the summary links to them
    assert re.search(r'<fieldset class="q invalid" aria-describedby="nps-err">\n<legend>[^<]*</legend>\n'
                     r'<p class="err" id="nps-err">Please choose one of the options.</p>', html), html
    assert 'id="csat-err"' in html and 'id="felt_heard-err"' not in html
    assert '<a href="#nps-0">' in html and '<a href="#csat-1">' in html
    # what the customer entered is still there (escaped)
    assert 'id="felt_heard-4" name="felt_heard" value="4" checked>' in html
    assert 'name="was_patient" value="on" checked>' in html
    assert ("Kept &lt;b&gt;as typed&lt;/b&gt; &amp; &quot;quoted&quot;\nsecond line</textarea>"
            in html), html
    assert "<b>as typed" not in html
    assert ENV.stream_len() == before

    s, d, _ = form_post(j["token"], "")  # nothing at all
    assert s == 400 and "Please answer at least one question or write a comment." in d.decode()
    s, d, _ = form_post(j["token"], "comment=+++%0D%0A")  # a blank comment is nothing either
    assert s == 400 and "Please answer at least one question" in d.decode()
    s, d, _ = form_post(j["token"], "apologized=yes&nps=3")
    assert s == 400 and 'id="behaviors-err"' in d.decode()
    s, d, _ = form_post(j["token"], [("comment", "x" * 5001)])
    assert s == 400 and "longer than we can store" in d.decode()
    s, d, _ = form_post(j["token"], "comment=%FF%FE")
    assert s == 400 and 'id="comment-err"' in d.decode()
    assert ENV.stream_len() == before
    # then a good post goes through
    assert form_post(j["token"], "nps=8")[0] == 200


def test_unreadable_posts():
    _, j, _ = mint(interaction_id="unread-1")
    before = ENV.stream_len()
    for body in ["nps=9&nps=10", "nps=9&bogus=1", "nps=9&&csat=2", "comment=%zz", "nps"]:
        s, d, h = form_post(j["token"], body)
        assert s == 400 and heading(d.decode()) == "We could not read your answers", (body, s)
        check_page_headers(h)
    s, d, h = form_post(j["token"], '{"nps":9}', ctype="application/json")
    assert s == 415 and heading(d.decode()) == "We could not read your answers", s
    check_page_headers(h)
    s, d, h = ENV.request("PUT", "/s/" + j["token"], body="nps=1")
    assert s == 405 and h.get("allow") == "GET, HEAD, POST" and "<h1>" in d.decode()
    # the form's body cap streams: a huge post is refused as a page, nothing stored
    s, d, h = form_post(j["token"], "comment=" + "a" * (70 * 1024))
    assert s == 413 and heading(d.decode()) == "Your answers are too long", s
    assert ENV.stream_len() == before


# ---- links that do not open ------------------------------------------------------------------

def test_tampered_token():
    _, j, _ = mint(interaction_id="tamper-1", agent_id="agent-1")
    tok = j["token"]
    p64, s64 = tok.split(".")
    payload = base64.urlsafe_b64decode(p64 + "=" * (-len(p64) % 4)).decode()
    forged = b64(payload.replace("agent-1", "agent-2").encode()) + "." + s64
    wrong_secret = craft(payload, secret=SECRET2)
    flipped = tok[:-2] + ("A" if tok[-2] != "A" else "B") + tok[-1]
    before = ENV.stream_len()
    for bad in [forged, wrong_secret, flipped, tok[:-5], p64, p64 + ".", "x.y",
                tok.replace(".", ""), "%2e%2e", b64(b"1|k1|a") + "." + s64]:
        TOKENS.append(bad)
        s, d, h = form_get(bad)
        html = d.decode()
        assert s == 400, (bad, s)
        check_page_headers(h)
        assert heading(html) == "This survey link does not work" and "<form" not in html, html
        s, d, _ = form_post(bad, "nps=10")
        assert s == 400, s
    assert ENV.stream_len() == before
    assert ENV.request("GET", "/s/")[0] == 404
    assert ENV.request("GET", "/s/" + tok + "/x")[0] == 404


def test_expired_token():
    exp = int(time.time()) - 10
    tok = craft("1|k1|old-1|agent-1||billing_error|voice|de|%d" % exp)
    s, d, h = form_get(tok)
    html = d.decode()
    assert s == 410, s
    check_page_headers(h)
    # the page speaks the link's language even though the link is no longer good
    assert '<html lang="de">' in html and heading(html) == "Dieser Umfragelink ist abgelaufen"
    assert "<form" not in html
    s, _, _ = form_post(tok, "nps=10")
    assert s == 410 and stored("old-1") is None
    # the same payload, valid for another minute, opens
    fresh = craft("1|k1|old-2|agent-1||billing_error|voice|en|%d" % (time.time() + 60))
    assert form_get(fresh)[0] == 200


def test_unknown_kid():
    tok = craft("1|k9|kid-1|agent-1||other||en|%d" % (time.time() + 3600))
    s, d, h = form_get(tok)
    assert s == 404 and heading(d.decode()) == "This survey link is no longer valid", s
    check_page_headers(h)
    assert form_post(tok, "nps=10")[0] == 404 and stored("kid-1") is None


def test_page_escaping_of_bad_scenario_link():
    # a signed link whose scenario is not configured (removed since minting): the form shows,
    # the post is refused with a general error, nothing is stored
    tok = craft("1|k1|scen-1|agent-1||retired_scenario||en|%d" % (time.time() + 3600))
    assert form_get(tok)[0] == 200
    s, d, _ = form_post(tok, "nps=5")
    assert s == 400 and "Some of your answers could not be read" in d.decode()
    assert stored("scen-1") is None


# ---- redaction through the API and the batch -------------------------------------------------

def test_api_comment_redacted():
    s, j, _ = ENV.post_survey({"interaction_id": "red-1", "agent_id": "a", "scenario": "other",
                               "comment": "Card 4111 1111 1111 1111, mail a.b@example.org, "
                                          "call (555) 123-4567. Order 12345 on 2026-11-25."})
    assert s == 202, j
    assert stored("red-1")["comment"] == ("Card [card], mail [email], call [phone]. "
                                          "Order 12345 on 2026-11-25.")


# ---- batch -----------------------------------------------------------------------------------

def post_batch(lines, ctype="application/x-ndjson", key=INGEST_KEY, env=None):
    body = lines if isinstance(lines, (bytes, str)) else "\n".join(
        l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n"
    s, d, h = (env or ENV).request("POST", "/v1/surveys/batch", body=body, key=key,
                                   headers={"Content-Type": ctype})
    try:
        j = json.loads(d)
    except ValueError:
        j = None
    return s, j, h


def test_batch_mixed():
    ENV.post_survey(hk.survey(9001))  # already there: its line is a duplicate
    before = ENV.stream_len()
    s, j, _ = post_batch([
        hk.survey(9002),
        hk.survey(9001),
        dict(hk.survey(9003), answers={"nps": 11}),
        "",
        "{not json",
        dict(hk.survey(9004), comment="reach me: someone@example.net"),
        hk.survey(9002),  # twice in the same batch: the second is a duplicate
    ])
    assert s == 200, (s, j)
    assert (j["accepted"], j["duplicates"], j["invalid"], j["unavailable"]) == (2, 2, 2, 0), j
    r = j["results"]
    assert [x["line"] for x in r] == [1, 2, 3, 5, 6, 7], r
    assert [x["status"] for x in r] == [202, 409, 400, 400, 202, 409], r
    assert r[0]["interaction_id"] == "call-009002" and re.fullmatch(r"\d+-\d+", r[0]["id"]), r[0]
    assert r[1]["error"]["code"] == "duplicate" and r[1]["id"], r[1]
    assert r[2]["error"]["field"] == "answers.nps", r[2]
    assert r[3]["error"]["code"] == "invalid_json" and "interaction_id" not in r[3], r[3]
    assert r[5]["id"] == r[0]["id"], r  # the duplicate names the first one
    assert ENV.stream_len() == before + 2
    assert stored("call-009004")["comment"] == "reach me: [email]"
    # submitted_at from the line is kept (historical import)
    assert stored("call-009002")["submitted_at"] == hk.survey(9002)["submitted_at"]


def test_batch_content_types_and_limits():
    s, j, _ = post_batch([hk.survey(9100)], ctype="application/json-lines")
    assert s == 200 and j["accepted"] == 1, j
    s, j, _ = post_batch([hk.survey(9101)], ctype="application/jsonl; charset=utf-8")
    assert s == 200 and j["accepted"] == 1, j
    assert post_batch([hk.survey(9102)], ctype="application/json")[0] == 415
    assert post_batch([hk.survey(9102)], key=None)[0] == 401
    assert post_batch([hk.survey(9102)], key=hk.MANAGER_KEY)[0] == 403
    s, j, _ = post_batch("\n \n")
    assert s == 400 and j["error"]["code"] == "empty_batch", j
    before = ENV.stream_len()
    s, j, _ = post_batch([hk.survey(20000 + i) for i in range(1001)])
    assert s == 413 and j["error"]["code"] == "too_many_lines", (s, j)
    assert ENV.stream_len() == before
    s, j, _ = post_batch([hk.survey(30000 + i) for i in range(1000)])
    assert s == 200 and j["accepted"] == 1000, (s, j and j["accepted"])
    assert ENV.stream_len() == before + 1000
    # CRLF line ends are fine
    s, j, _ = post_batch(json.dumps(hk.survey(9103)) + "\r\n" + json.dumps(hk.survey(9104)) + "\r\n")
    assert s == 200 and j["accepted"] == 2, j


# ---- Redis away ------------------------------------------------------------------------------

def test_redis_down():
    _, j, _ = mint(interaction_id="down-1")  # minting needs no Redis
    ENV.kill_redis()
    s, d, h = form_post(j["token"], [("nps", "6"), ("comment", "still here"), ("calm_tone", "on")])
    html = d.decode()
    assert s == 503 and h.get("retry-after"), (s, h)
    check_page_headers(h)
    assert "We could not save your answers just now" in html
    assert "still here</textarea>" in html and 'value="6" checked>' in html
    assert 'name="calm_tone" value="on" checked>' in html
    s, j2, h = post_batch([hk.survey(9200), hk.survey(9201)])
    assert s == 503 and h.get("retry-after") and j2["error"]["code"] == "unavailable", (s, j2)
    s, j2, _ = mint(interaction_id="down-2")
    assert s == 200, j2  # still mints
    ENV.start_redis()
    hk.wait_until(lambda: form_post(j["token"], "nps=6")[0] == 200, what="form post after redis")
    assert stored("down-1")["answers"] == {"nps": 6}


def test_tokens_never_logged():
    with open(os.path.join(ENV.dir, "collector.log"), errors="replace") as f:
        log = f.read()
    assert "link_refused" in log and "link_expired" in log, log[-2000:]
    for tok in TOKENS:
        for part in tok.split("."):
            if len(part) >= 16:
                assert part not in log, "a token reached the log"


# ---- separate deployments ---------------------------------------------------------------------

def test_rate_limits():
    with Env(collector_args=["--form-rate", "6", "--form-burst", "3", "--links-rate", "6",
                             "--links-burst", "2"]) as env:
        env.start_redis().start_collector()
        codes = [mint(env, interaction_id="rl-%d" % i)[0] for i in range(3)]
        assert codes == [200, 200, 429], codes
        s, d, h = env.request("POST", "/v1/links", key=INGEST_KEY,
                              body={"interaction_id": "rl-x", "agent_id": "a", "scenario": "other"})
        assert s == 429 and h["content-type"] == "application/json", (s, h)
        assert json.loads(d)["error"]["code"] == "rate_limited"
        assert 1 <= int(h["retry-after"]) <= 10, h
        # wrong keys do not get around it
        assert mint(env, key="guess")[0] == 429

        tok = craft("1|k1|rl-form|agent-1||other||en|%d" % (time.time() + 3600))
        codes = [form_get(tok, env)[0] for _ in range(3)]
        assert codes == [200, 200, 200], codes
        s, d, h = form_get(tok, env)
        assert s == 429 and 1 <= int(h["retry-after"]) <= 10, (s, h)
        check_page_headers(h)
        assert heading(d.decode()) == "Too many attempts"
        s, _, _ = form_post(tok, "nps=9", env)
        assert s == 429
        # the API and the static CSS are not limited
        assert env.post_survey(hk.survey(1))[0] == 202
        assert env.request("GET", "/static/form.css")[0] == 200
        # a bucket refills: 6 a minute is one every 10 s
        time.sleep(10.5)
        assert form_get(tok, env)[0] == 200
        m = env.get("/metrics")[1].decode()
        assert re.search(r"^hearken_rate_limited_total [4-9]", m, re.M), m


def test_batch_cut_midway():
    """Storage refusing mid-batch (here: the analyzers' backlog is full after 3 surveys): the
    lines before were stored, the failing line and every valid line after it answer 503 and
    were not; once nothing can be stored at all the whole batch is refused."""
    with Env(collector_args=["--max-backlog", "3"]) as env:
        env.start_redis().start_collector()
        lines = [hk.survey(i) for i in range(1, 4)] + ["{bad"] + [hk.survey(i) for i in range(4, 6)]
        s, j, _ = post_batch(lines, env=env)
        assert s == 200, (s, j)
        assert (j["accepted"], j["invalid"], j["unavailable"]) == (3, 1, 2), j
        assert [x["status"] for x in j["results"]] == [202, 202, 202, 400, 503, 503], j
        assert j["results"][4]["error"]["code"] == "busy", j
        assert env.stream_len() == 3
        ids = sorted(x["interaction_id"] for x in j["results"] if x["status"] == 202)
        assert ids == ["call-000001", "call-000002", "call-000003"], ids
        s, j, h = post_batch([hk.survey(7)], env=env)
        assert s == 503 and j["error"]["code"] == "busy" and h.get("retry-after"), (s, j)
        # the form keeps the customer's answers when the backlog is full
        tok = craft("1|k1|busy-1|agent-1||other||en|%d" % (time.time() + 3600))
        s, d, h = form_post(tok, "nps=4&comment=wait+for+me", env)
        assert s == 503 and h.get("retry-after") and "wait for me</textarea>" in d.decode(), s
        assert env.stream_len() == 3


def test_no_redact_and_rotation():
    with Env(collector_args=["--no-redact", "--link-secret",
                             "k2:%s,k1:%s" % (SECRET2, SECRET)]) as env:
        env.start_redis().start_collector()
        old = craft("1|k1|rot-1|agent-1||other||en|%d" % (time.time() + 3600))
        s, j, _ = mint(env, interaction_id="rot-2")
        assert s == 200
        p64 = j["token"].split(".")[0]
        assert base64.urlsafe_b64decode(p64 + "=" * (-len(p64) % 4)).startswith(b"1|k2|")
        assert form_get(old, env)[0] == 200  # links signed before the rotation still open
        assert form_post(j["token"], "comment=mail+me%3A+a%40example.org", env)[0] == 200
        e = env.redis.cmd("XRANGE", env.prefix + "surveys", "-", "+")[0]
        sv = json.loads(dict(zip(e[1][::2], e[1][1::2]))["survey"])
        assert sv["comment"] == "mail me: a@example.org", sv  # --no-redact keeps it as sent
    # k1 retired: its links are unknown now
    with Env(collector_args=["--link-secret", "k2:" + SECRET2]) as env:
        env.start_redis().start_collector()
        assert form_get(old, env)[0] == 404
        assert form_get(j["token"], env)[0] == 200


def test_bad_secret_stops_start_up():
    import subprocess
    for secret in ["k1:short", "no-kid-here-0123456789abcdef0123456789", "k1:%s,k1:%s" % (SECRET, SECRET)]:
        p = subprocess.run([os.path.join(hk.BUILD, "hearken-collector"), "--listen", "127.0.0.1:0",
                            "--link-secret", secret], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2 and "--link-secret" in p.stderr, (secret, p.returncode, p.stderr)
        assert SECRET not in p.stderr


def main():
    global ENV
    with Env(collector_args=["--public-url", PUBLIC + "/", "--form-rate", "0",
                             "--links-rate", "0"]) as env:
        ENV = env
        env.start_redis().start_collector()
        failed = hk.run([
            test_mint_link, test_mint_refusals, test_form_get, test_form_language,
            test_form_post_stores, test_form_minimal_answers, test_customer_cannot_change_context,
            test_second_post_is_already_answered, test_invalid_fields_show_the_form_again,
            test_unreadable_posts, test_tampered_token, test_expired_token, test_unknown_kid,
            test_page_escaping_of_bad_scenario_link, test_api_comment_redacted, test_batch_mixed,
            test_batch_content_types_and_limits, test_redis_down, test_tokens_never_logged,
            test_rate_limits, test_batch_cut_midway, test_no_redact_and_rotation, test_bad_secret_stops_start_up,
        ], env)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
