"""Realistic surveys for the analyzer and scale-out benchmarks, in the collector's canonical JSON
(hk_survey_to_json: fixed key order, no spaces, < > & as \\u00XX, UTF-8 as is), so the stream
holds exactly what a collector would have written. 50 agents in 6 teams with their own behaviour
profiles, the 7 scenarios, 28 days, all five answers (some skipped), ticked behaviours on half,
comments built from bench/simulate's phrase pools (plus some accents, emoji, caps and long ones).
Standard library only; deterministic for a seed."""

import datetime as dt
import importlib.machinery
import importlib.util
import json
import os
import random

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_simulate():
    path = os.path.join(_HERE, "..", "simulate")
    loader = importlib.machinery.SourceFileLoader("hearken_simulate", path)
    spec = importlib.util.spec_from_loader("hearken_simulate", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


SIM = _load_simulate()
BEHAVIORS = SIM.BEHAVIORS  # the order of enum hk_behavior
SCENARIOS = SIM.SCENARIOS
ANSWERS = ["nps", "csat", "ces", "felt_heard", "felt_valued"]
FIRST = ["Ana", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivy", "Jon", "Kim", "Lea",
         "Max", "Noa", "Oli", "Pia", "Raj", "Sam", "Tia", "Uma", "Vic", "Wes", "Xia", "Yan", "Zoe"]
EXTRA = ["Merci beaucoup, très gentil 😊", "THANK YOU SO MUCH!!!", "meh", "ok",
         "Honestly the whole thing took way longer than it should have & I'm tired of it",
         "5 stars <3", "Danke schön 👍", "why do I always have to chase you about this?"]


class Agents:
    def __init__(self, rng, n=50, teams=6):
        self.ids = ["agent-%03d" % i for i in range(n)]
        self.team = {a: "team-%s" % chr(ord("a") + i % teams) for i, a in enumerate(self.ids)}
        self.name = {a: FIRST[i % len(FIRST)] for i, a in enumerate(self.ids)}
        self.prof = {}
        for a in self.ids:
            base = rng.uniform(0.35, 0.95)
            self.prof[a] = {b: min(0.99, max(0.01, base + rng.uniform(-0.3, 0.3))) for b in BEHAVIORS}
        self.weights = [rng.uniform(0.2, 1.0) for _ in self.ids]


def make(rng, agents, i, when, prefix="bench"):
    """One survey dict (key order canonical)."""
    agent = rng.choices(agents.ids, agents.weights)[0]
    scenario = rng.choice(SCENARIOS)
    prof = agents.prof[agent]
    did = {b: rng.random() < prof[b] for b in BEHAVIORS}
    quality = sum(did.values()) / len(BEHAVIORS)
    heard = 0.45 * did["listened_actively"] + 0.35 * did["did_not_interrupt"] + 0.2 * did["was_patient"]
    valued = (0.3 * did["apologized"] + 0.25 * did["showed_concern"] + 0.2 * did["offered_goodwill"]
              + 0.25 * did["acknowledged_feelings"])
    happy = 0.5 * quality + 0.25 * heard + 0.25 * valued
    clamp = lambda lo, hi, x: max(lo, min(hi, int(round(x))))
    ans = {"nps": clamp(0, 10, 2 + 8.5 * happy + rng.gauss(0, 1.3)),
           "csat": clamp(1, 5, 1 + 4 * happy + rng.gauss(0, 0.6)),
           "ces": clamp(1, 7, 1 + 6 * quality + rng.gauss(0, 0.8)),
           "felt_heard": clamp(1, 5, 1 + 4 * heard + rng.gauss(0, 0.6)),
           "felt_valued": clamp(1, 5, 1.2 + 4 * valued + rng.gauss(0, 0.6))}
    for k in ANSWERS:
        if rng.random() < 0.08:
            del ans[k]
    name = agents.name[agent]
    parts = []
    if rng.random() < 0.6:
        parts.append(rng.choice(SIM.CONTEXT[scenario]))
    for b in rng.sample(BEHAVIORS, 3):
        pool = SIM.DONE[b] if did[b] else SIM.MISSED[b]
        if pool and rng.random() < 0.7:
            parts.append(rng.choice(pool).format(n=name))
    if rng.random() < 0.4:
        parts.append(rng.choice(SIM.EASE_GOOD if quality > 0.6 else SIM.EASE_BAD))
    if rng.random() < 0.5:
        nps = ans.get("nps", 5)
        parts.append(rng.choice(SIM.OUTCOME_GOOD if nps >= 9 else SIM.OUTCOME_BAD if nps <= 4
                                else ["it was ok"]))
    if rng.random() < 0.1:
        parts.append(rng.choice(EXTRA))
    s = {"interaction_id": "%s-%08d" % (prefix, i), "agent_id": agent, "scenario": scenario,
         "team_id": agents.team[agent]}
    if rng.random() < 0.9:
        s["channel"] = rng.choice(["voice", "voice", "chat", "email"])
    s["language"] = "en"
    s["submitted_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if ans:
        s["answers"] = ans
    if rng.random() < 0.5:
        s["behaviors"] = {b: did[b] for b in BEHAVIORS if rng.random() < 0.9}
        if not s["behaviors"]:
            del s["behaviors"]
    if rng.random() < 0.85 and parts:
        s["comment"] = ". ".join(p[0].upper() + p[1:] for p in parts) + "."
    elif not ans:
        s["comment"] = "ok"
    return s


def canonical(s):
    """The collector's bytes for s (hk_survey_to_json)."""
    text = json.dumps(s, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def generate(n, seed=2026, prefix="bench", days=28, order="time"):
    """Yields (canonical json str, day 'YYYY-MM-DD') for n surveys over the last days days.
    order "time": the stream order follows submitted_at with up to 15 minutes of jitter, as when
    customers answer live; "random": any day at any position, as in a backfill of old surveys."""
    rng = random.Random(seed)
    agents = Agents(random.Random(seed + 1))
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    span = days * 86400
    for i in range(n):
        if order == "random":
            back = rng.randrange(span)
        else:
            back = max(0, min(span - 1, span - span * i // n + rng.randrange(900)))
        s = make(rng, agents, i, now - dt.timedelta(seconds=back), prefix)
        yield canonical(s), s["submitted_at"][:10]
