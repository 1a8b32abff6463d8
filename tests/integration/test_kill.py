"""Exactly once under SIGKILL: three analyzers drain a stream while they are killed at random
instants and restarted (some under new names, so a dead consumer's entries must be reclaimed).
Afterwards every survey is counted once: totals and per-agent sums exact, nothing pending."""

import json
import random
import time

import hk
from hk import Env, survey

N = 10000


def preload(env):
    cmds = []
    for i in range(N):
        cmds.append(("XADD", env.prefix + "surveys", "*", "survey", json.dumps(survey(i))))
        cmds.append(("SET", env.prefix + "iid:" + survey(i)["interaction_id"], "x"))
    for r in env.redis.pipeline(cmds):
        assert not isinstance(r, Exception), r
    assert env.stream_len() == N


def test_sigkill_storm():
    rng = random.Random(int(time.time()))
    with Env() as env:
        env.start_redis()
        preload(env)
        args = ("--batch", "4", "--claim-idle-ms", "300")
        workers = [env.start_analyzer(*args, name="w%d" % k) for k in range(3)]
        kills = 0
        generation = 0
        deadline = time.time() + 60
        while time.time() < deadline and not env.drained():
            time.sleep(rng.uniform(0.02, 0.25))
            k = rng.randrange(len(workers))
            workers[k].kill()
            workers[k].wait()
            kills += 1
            generation += 1
            # half come back under their old name (own pending list), half under a new one
            name = "w%d" % k if rng.random() < 0.5 else "w%d-g%d" % (k, generation)
            workers[k] = env.start_analyzer(*args, name=name)
        hk.wait_until(env.drained, timeout=90, what="drain after the kill storm")
        print("kills: %d" % kills)
        assert kills >= 5, "the storm was too short to mean anything"

        env.start_collector()
        got = env.rollups(by="all", frm="2026-11-01", to="2026-11-30")["groups"]
        assert len(got) == 1 and got[0]["n"] == N, got and got[0]["n"]
        want_agent = {}
        want_prom = {}
        for i in range(N):
            s = survey(i)
            want_agent[s["agent_id"]] = want_agent.get(s["agent_id"], 0) + 1
            if s["answers"]["nps"] >= 9:
                want_prom[s["agent_id"]] = want_prom.get(s["agent_id"], 0) + 1
        by_agent = {g["key"]: g for g in env.rollups(by="agent", frm="2026-11-01",
                                                       to="2026-11-30")["groups"]}
        assert {k: g["n"] for k, g in by_agent.items()} == want_agent
        assert {k: g["nps"]["promoters"] for k, g in by_agent.items()} == want_prom
        assert env.redis.cmd("XLEN", env.prefix + "dead") == 0
        g = env.group_info()
        assert g["pending"] == 0 and g["lag"] == 0, g
        for w in workers:
            assert w.stop() == 0


if __name__ == "__main__":
    raise SystemExit(1 if hk.run([test_sigkill_storm]) else 0)
