"""Stream retention: entries older than --retention-days are trimmed, but never one that a
consumer group has not yet been given or has not acknowledged."""

import json
import time

import hk
from hk import Env, survey

DAY_MS = 86400 * 1000


def test_trim_never_passes_unacknowledged():
    with Env() as env:
        env.start_redis()
        r = env.redis
        stream = env.prefix + "surveys"
        old = int(time.time() * 1000) - 200 * DAY_MS
        for i in range(50):  # older than the retention
            r.cmd("XADD", stream, "%d-0" % (old + i), "survey", json.dumps(survey(i)))
        for i in range(50, 100):  # recent
            r.cmd("XADD", stream, "*", "survey", json.dumps(survey(i)))
        r.cmd("XGROUP", "CREATE", stream, "analyzers", "0")
        # another group that has been given five entries and acknowledged none
        r.cmd("XGROUP", "CREATE", stream, "audit", "0")
        got = r.cmd("XREADGROUP", "GROUP", "audit", "x", "COUNT", "5", "STREAMS", stream, ">")
        first_five = [e[0] for e in got[0][1]]

        env.start_analyzer("--retention-days", "90", "--claim-idle-ms", "200")
        hk.wait_until(env.drained, timeout=30, what="drain")
        time.sleep(1.0)  # several trim rounds
        assert env.stream_len() == 100, "trimmed entries a group had pending"

        r.cmd("XACK", stream, "audit", *first_five)
        # now the audit group still has not been given entry 6 on: only 1-4 may go
        hk.wait_until(lambda: env.stream_len() == 96, timeout=10, what="trim of acknowledged")
        time.sleep(0.5)
        assert env.stream_len() == 96

        r.cmd("XGROUP", "DESTROY", stream, "audit")
        hk.wait_until(lambda: env.stream_len() == 50, timeout=10, what="trim to the retention")
        time.sleep(0.5)
        assert env.stream_len() == 50, "trimmed recent entries"
        # the rollups keep every survey: trimming the stream forgets no count
        env.start_collector()
        assert env.rollups(by="all", frm="2026-11-01", to="2026-11-30")["groups"][0]["n"] == 100


if __name__ == "__main__":
    raise SystemExit(1 if hk.run([test_trim_never_passes_unacknowledged]) else 0)
