"""The collector's group commit (collector/writer.c): many concurrent POST /v1/surveys share one
Redis round trip, and every client still gets its own correct answer. 64 keep-alive clients
post unique surveys and race on shared interaction_ids: each unique one 202, each shared one
exactly one 202 and 409s naming the same stream id, XLEN = the 202s. Then Redis is SIGSTOPped
with 64 requests queued behind it: every one answers 503 with Retry-After (the time is
reported, not asserted tightly), and after SIGCONT the same surveys sent again are stored
exactly once. SIGTERM under load answers what was queued and exits 0. And --max-backlog stays
exact when many surveys share a script call."""

import http.client
import json
import signal
import threading
import time

import hk
from hk import INGEST_KEY, Env, survey

CLIENTS = 64
UNIQUE_PER_CLIENT = 12
SHARED = 8  # interaction_ids every client posts

ENV = None


def post_all(bodies_per_client, timeout=30):
    """Each client posts its bodies in order on one keep-alive connection, all clients
    starting together. Returns per client a list of (status, json, headers, seconds)."""
    results = [None] * len(bodies_per_client)
    barrier = threading.Barrier(len(bodies_per_client))

    def client(k):
        out = []
        c = http.client.HTTPConnection("127.0.0.1", ENV.http_port, timeout=timeout)
        try:
            barrier.wait()
            for body in bodies_per_client[k]:
                data = json.dumps(body).encode()
                t0 = time.monotonic()
                try:
                    c.request("POST", "/v1/surveys", body=data,
                              headers={"Content-Type": "application/json",
                                       "Authorization": "Bearer " + INGEST_KEY})
                    r = c.getresponse()
                    raw = r.read()
                    hdrs = dict((h.lower(), v) for h, v in r.getheaders())
                    out.append((r.status, json.loads(raw) if raw else None, hdrs,
                                time.monotonic() - t0))
                    if hdrs.get("connection", "").lower() == "close":
                        c.close()
                        c = http.client.HTTPConnection("127.0.0.1", ENV.http_port,
                                                       timeout=timeout)
                except (OSError, http.client.HTTPException) as e:
                    out.append((None, repr(e), {}, time.monotonic() - t0))
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", ENV.http_port, timeout=timeout)
        finally:
            c.close()
            results[k] = out

    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(bodies_per_client))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 60)
    assert all(r is not None for r in results), "a client never finished"
    return results


def test_concurrent_unique_and_duplicates():
    x0 = ENV.stream_len()
    bodies = []
    for k in range(CLIENTS):
        mine = [survey(1000 * (k + 1) + j, interaction_id="gc-c%02d-%03d" % (k, j))
                for j in range(UNIQUE_PER_CLIENT)]
        # the shared ids interleaved, each client in its own order, so they race
        for j in range(SHARED):
            s = (j + k) % SHARED
            mine.insert(1 + j * 2, survey(7 + s, interaction_id="gc-shared-%d" % s))
        mine.append(mine[0])  # its own first survey again: a 409 with the same id
        bodies.append(mine)
    results = post_all(bodies)

    accepted = {}  # interaction_id -> stream ids answered 202
    dup_ids = {}   # interaction_id -> stream ids named by 409s
    for k in range(CLIENTS):
        assert len(results[k]) == len(bodies[k])
        for body, (st, j, _, _) in zip(bodies[k], results[k]):
            iid = body["interaction_id"]
            assert st in (202, 409), (iid, st, j)
            if st == 202:
                accepted.setdefault(iid, []).append(j["id"])
            else:
                assert j["error"]["code"] == "duplicate", j
                dup_ids.setdefault(iid, set()).add(j["error"]["id"])
    n202 = sum(len(v) for v in accepted.values())
    for k in range(CLIENTS):
        for j in range(UNIQUE_PER_CLIENT):
            iid = "gc-c%02d-%03d" % (k, j)
            assert len(accepted.get(iid, [])) == 1, (iid, accepted.get(iid))
        first = "gc-c%02d-000" % k
        assert dup_ids.get(first) == set(accepted[first]), (first, dup_ids.get(first))
    for s in range(SHARED):
        iid = "gc-shared-%d" % s
        assert len(accepted.get(iid, [])) == 1, (iid, accepted.get(iid))
        assert dup_ids.get(iid) == set(accepted[iid]), (iid, dup_ids.get(iid), accepted[iid])
    assert n202 == CLIENTS * UNIQUE_PER_CLIENT + SHARED, n202
    assert ENV.stream_len() - x0 == n202, (ENV.stream_len() - x0, n202)
    ids = [i for v in accepted.values() for i in v]
    assert len(set(ids)) == len(ids), "two 202s named the same stream id"
    # each stored entry is the survey its 202 named
    for iid in ("gc-c00-000", "gc-c63-011", "gc-shared-3"):
        sid = accepted[iid][0]
        entry = ENV.redis.cmd("XRANGE", ENV.prefix + "surveys", sid, sid)
        assert entry and json.loads(entry[0][1][1])["interaction_id"] == iid, entry
        assert ENV.redis.cmd("GET", ENV.prefix + "iid:" + iid) == sid


def test_redis_stopped_then_back():
    x0 = ENV.stream_len()
    bodies = [[survey(50000 + k, interaction_id="gc-stop-%02d" % k)] for k in range(CLIENTS)]
    ENV.redis_proc.kill(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        results = post_all(bodies, timeout=30)
        wall = time.monotonic() - t0
    finally:
        ENV.redis_proc.kill(signal.SIGCONT)
    lat = sorted(r[0][3] for r in results)
    print("    redis SIGSTOPped: %d requests answered in %.2f s; latency p50 %.2f s, max %.2f s "
          "(--redis-timeout-ms 1000)" % (CLIENTS, wall, lat[len(lat) // 2], lat[-1]))
    for k, r in enumerate(results):
        st, j, h, _ = r[0]
        assert st == 503, (k, st, j)
        assert j["error"]["code"] == "unavailable", j
        assert "retry-after" in h, h
    assert max(lat) < 20, "a request waited %.1f s on a stopped Redis" % max(lat)

    hk.wait_until(lambda: ENV.post_survey(survey(60000, interaction_id="gc-back"))[0] in (202, 409),
                  timeout=20, what="collector to store again after SIGCONT")
    # A 503 promises nothing was acknowledged; the script may still have run once Redis woke
    # up. Sending again is safe: each survey is stored exactly once, 202 or 409.
    again = post_all(bodies)
    for k, r in enumerate(again):
        assert r[0][0] in (202, 409), (k, r[0])
    for k in range(CLIENTS):
        assert ENV.redis.cmd("EXISTS", ENV.prefix + "iid:gc-stop-%02d" % k) == 1
    assert ENV.stream_len() - x0 == CLIENTS + 1, (ENV.stream_len() - x0, CLIENTS + 1)


def test_sigterm_answers_queued():
    """SIGTERM under load: every request read is stored and answered (202) or refused (503)
    before the collector exits 0; nothing is stored without its client being told, beyond the
    requests whose connection the stop cut. (Keep-alive clients go on sending during the
    drain, so the last ones meet the writer stopped (503) or the stop (connection closed).)"""
    x0 = ENV.stream_len()
    bodies = [[survey(80000 + 40 * k + j, interaction_id="gc-term-%02d-%02d" % (k, j))
               for j in range(150)] for k in range(CLIENTS)]
    timer = threading.Timer(0.5, lambda: ENV.collector.p.send_signal(signal.SIGTERM))
    timer.start()
    results = post_all(bodies, timeout=20)
    code = ENV.collector.wait(30)
    statuses = {}
    for r in results:
        for st, _, _, _ in r:
            statuses[st] = statuses.get(st, 0) + 1
    print("    SIGTERM under load: %s" % statuses)
    assert code == 0, code
    assert set(statuses) <= {202, 503, None}, statuses
    assert statuses.get(202, 0) > 0, statuses
    stored = ENV.stream_len() - x0
    assert statuses[202] <= stored <= statuses[202] + statuses.get(None, 0), (stored, statuses)


BACKLOG = 100


def test_backlog_limit_exact():
    """--max-backlog holds exactly when many surveys share one script call: the backlog is read
    once a call and counted up per append, so 192 concurrent posts against a limit of 100 (no
    analyzer) store exactly 100 and refuse the rest with 503 busy."""
    bodies = [[survey(70000 + 3 * k + j, interaction_id="gc-bl-%02d-%d" % (k, j))
               for j in range(3)] for k in range(CLIENTS)]
    results = post_all(bodies)
    statuses = {}
    for r in results:
        for st, j, h, _ in r:
            statuses[st] = statuses.get(st, 0) + 1
            if st == 503:
                assert j["error"]["code"] == "busy" and "retry-after" in h, (j, h)
    assert statuses == {202: BACKLOG, 503: 3 * CLIENTS - BACKLOG}, statuses
    assert ENV.stream_len() == BACKLOG, ENV.stream_len()


def main():
    global ENV
    failed = 0
    with Env(collector_args=["--redis-timeout-ms", "1000", "--threads", "2",
                              "--drain-timeout", "1"]) as env:
        ENV = env
        env.start_redis().start_collector()
        failed += hk.run([test_concurrent_unique_and_duplicates, test_redis_stopped_then_back,
                          test_sigterm_answers_queued], env)
    with Env(collector_args=["--max-backlog", str(BACKLOG), "--threads", "2"]) as env:
        ENV = env
        env.start_redis().start_collector()
        failed += hk.run([test_backlog_limit_exact], env)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
