"""GET /metrics: valid Prometheus text (HELP and TYPE before each family, histograms with
cumulative le buckets ending in +Inf equal to _count), the queue gauges (backlog, pending,
dead letters) and the analyzer's counters published through Redis (scored, dead, batches, the
rollup write latency histogram) moving after posting and draining; Redis-derived gauges are
cached about a second."""

import re
import time

import hk
from hk import Env, survey

ENV = None
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def scrape():
    s, d = ENV.get("/metrics")
    assert s == 200, (s, d)
    return d.decode()


def parse(text):
    """{(name, labels): value}, checking the format on the way."""
    helped, typed, samples = set(), {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in typed, "TYPE twice: " + name
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        float(value)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert family in typed and family in helped, "no HELP/TYPE before " + name
        assert name.startswith("hearken_"), name
        samples[(name, labels)] = float(value)
    for fam, kind in typed.items():
        if kind != "histogram":
            continue
        series = {}
        for (name, labels), v in samples.items():
            if name == fam + "_bucket":
                le = re.search(r'le="([^"]+)"', labels).group(1)
                rest = re.sub(r',?le="[^"]+"', "", labels)
                series.setdefault(rest, []).append((float("inf") if le == "+Inf" else float(le), v))
        for rest, buckets in series.items():
            buckets.sort()
            assert buckets[-1][0] == float("inf"), (fam, rest)
            counts = [b[1] for b in buckets]
            assert counts == sorted(counts), (fam, rest, counts)
            want = samples.get((fam + "_count", "" if rest == "{}" else rest))
            assert want == counts[-1], (fam, rest, want, counts[-1])
    return samples


def value(samples, name, labels=""):
    return samples.get((name, labels))


def test_names_and_format():
    # a request is counted when libmicrohttpd reports it complete, a moment after the client
    # has its answer: wait until the harness's own /healthz calls show up
    hk.wait_until(lambda: "hearken_http_requests_total{" in scrape(), timeout=5,
                  what="request counters")
    m = parse(scrape())
    for name in ["hearken_http_requests_total", "hearken_surveys_accepted_total",
                 "hearken_redis_up", "hearken_stream_length", "hearken_stream_backlog",
                 "hearken_stream_pending", "hearken_stream_lag", "hearken_dead_letters",
                 "hearken_analyzer_surveys_scored_total", "hearken_analyzer_dead_letters_total",
                 "hearken_analyzer_batches_total", "hearken_analyzer_rollup_write_seconds_bucket",
                 "hearken_analyzer_rollup_write_seconds_sum",
                 "hearken_analyzer_rollup_write_seconds_count",
                 "hearken_http_request_duration_seconds_bucket"]:
        assert any(k[0] == name for k in m), "missing " + name
    assert value(m, "hearken_redis_up") == 1


def test_counters_move():
    n = 40
    time.sleep(1.1)
    m0 = parse(scrape())
    for i in range(n):
        s, j, _ = ENV.post_survey(survey(300 + i))
        assert s == 202, (s, j)
    # one entry the analyzer must dead-letter (not a survey)
    ENV.redis.cmd("XADD", ENV.prefix + "surveys", "*", "survey", "{\"not\":\"a survey\"}")
    m1 = parse(scrape())  # within the cache second: the Redis gauges have not moved yet
    assert value(m1, "hearken_stream_length") == value(m0, "hearken_stream_length")
    assert value(m1, "hearken_surveys_accepted_total") == \
        value(m0, "hearken_surveys_accepted_total") + n  # process counters are live
    time.sleep(1.1)
    m2 = parse(scrape())
    assert value(m2, "hearken_stream_length") == value(m0, "hearken_stream_length") + n + 1
    assert value(m2, "hearken_stream_backlog") == value(m0, "hearken_stream_backlog") + n + 1

    a = ENV.start_analyzer("--batch", "16")
    hk.wait_until(ENV.drained, timeout=30, what="drain")
    time.sleep(1.1)
    m3 = parse(scrape())
    assert a.stop() == 0
    assert value(m3, "hearken_stream_backlog") == 0
    assert value(m3, "hearken_stream_pending") == 0
    assert value(m3, "hearken_dead_letters") == value(m0, "hearken_dead_letters") + 1
    scored = value(m3, "hearken_analyzer_surveys_scored_total") - \
        value(m0, "hearken_analyzer_surveys_scored_total")
    assert scored == n, scored
    assert value(m3, "hearken_analyzer_dead_letters_total") - \
        value(m0, "hearken_analyzer_dead_letters_total") == 1
    batches = value(m3, "hearken_analyzer_batches_total")
    assert batches >= (n + 1) / 16, batches
    assert value(m3, "hearken_analyzer_rollup_write_seconds_count") == batches
    assert value(m3, "hearken_analyzer_rollup_write_seconds_bucket", '{le="+Inf"}') == batches
    assert value(m3, "hearken_analyzer_rollup_write_seconds_sum") > 0


def test_redis_down():
    ENV.kill_redis()
    time.sleep(1.1)
    m = parse(scrape())
    assert value(m, "hearken_redis_up") == 0
    assert value(m, "hearken_stream_length") is None
    ENV.start_redis()


def main():
    global ENV
    with Env() as env:
        ENV = env
        env.start_redis().start_collector()
        failed = hk.run([test_names_and_format, test_counters_move, test_redis_down], env)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
