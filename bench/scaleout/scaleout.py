"""Scale-out on one machine: two collectors (separate ports, nothing in front; the clients split
across them) and two analyzers in one consumer group, sharing one private redis-server. Posts
surveys over HTTP from a pool of client threads, then checks that the rollups count exactly the
surveys that were answered 202. bench/scaleout/run is the entry point. Standard library only;
loopback only; stops everything it started."""

import argparse
import http.client
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "analyzer"))
import analyzer as A  # noqa: E402  (process plumbing and the tiny RESP client)
import surveys  # noqa: E402

INGEST_KEY = "bench-ingest-key-0123456789abcdef"
MANAGER_KEY = "bench-manager-key-0123456789abcdef"


def say(msg):
    print("bench/scaleout: " + msg, file=sys.stderr, flush=True)


def post_all(port, bodies, counts, lock, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    local = {}
    for body in bodies:
        for attempt in range(3):
            try:
                conn.request("POST", "/v1/surveys", body=body,
                             headers={"Content-Type": "application/json",
                                      "Authorization": "Bearer " + INGEST_KEY})
                r = conn.getresponse()
                r.read()
                local[r.status] = local.get(r.status, 0) + 1
                break
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if attempt == 2:
                    errors.append(repr(e))
    conn.close()
    with lock:
        for k, v in local.items():
            counts[k] = counts.get(k, 0) + v


def main():
    ap = argparse.ArgumentParser(prog="bench/scaleout/run")
    ap.add_argument("build", nargs="?", default=os.path.join(A.SOURCE, "build"))
    ap.add_argument("--surveys", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=16, help="client threads, half per collector")
    ap.add_argument("--fsync", choices=("always", "everysec"), default="always")
    ap.add_argument("--out", default=os.path.join(A.SOURCE, "bench", "out", "scaleout.md"))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    tmp = tempfile.mkdtemp(prefix="hearken-bench-scaleout-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        class Args:
            pass
        ba = Args()
        ba.build, ba.analyzer_args, ba.timeout = build, [], 600
        b = A.Bench(ba, tmp)
        b.start_redis()
        b.fsync_mode(a.fsync)
        env = dict(os.environ)
        env.update({"HEARKEN_REDIS_URL": "redis://127.0.0.1:%d" % b.port,
                    "HEARKEN_PREFIX": A.PREFIX, "HEARKEN_INGEST_KEYS": INGEST_KEY,
                    "HEARKEN_MANAGER_KEYS": MANAGER_KEY,
                    "HEARKEN_LINK_SECRET": "k1:bench-link-secret-0123456789abcdef0123456789",
                    "HEARKEN_LEXICONS": os.path.join(A.SOURCE, "lexicons"),
                    "HEARKEN_LOG_LEVEL": "warn"})
        ports, cols = [], []
        for k in range(2):
            port = A.free_port()
            cols.append(A.start([os.path.join(build, "hearken-collector"), "--listen",
                                 "127.0.0.1:%d" % port], os.path.join(tmp, "collector%d.log" % k),
                                env))
            ports.append(port)
        for port in ports:
            end = time.time() + 20
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.time() > end:
                    raise SystemExit("bench/scaleout: collector on %d did not start" % port)
                time.sleep(0.05)
        aenv = dict(env, HEARKEN_LOG_LEVEL="info")
        ans = [A.start([os.path.join(build, "hearken-analyzer"), "--consumer", "s%d" % k,
                        "--threads", "1"], os.path.join(tmp, "analyzer%d.log" % k), aenv)
               for k in range(2)]

        bodies, days = [], set()
        for text, day in surveys.generate(a.surveys, 4242, "scale-%d" % int(time.time())):
            bodies.append(text.encode())
            days.add(day)
        counts, errors, lock = {}, [], threading.Lock()
        threads = []
        for t in range(a.clients):
            port = ports[t % 2]
            threads.append(threading.Thread(target=post_all, args=(
                port, bodies[t::a.clients], counts, lock, errors)))
        say("posting %d surveys from %d client threads to 2 collectors" % (a.surveys, a.clients))
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_ingest = time.time() - t0
        while True:
            g = b.group()
            if g.get("pending") == 0 and g.get("lag") == 0:
                break
            if time.time() - t0 > 600:
                raise SystemExit("bench/scaleout: not drained after 600 s: %r" % g)
            time.sleep(0.02)
        t_total = time.time() - t0
        accepted = counts.get(202, 0)
        total = sum(int(b.r.cmd("HGET", A.PREFIX + "r:%s:all:all" % d, "n") or 0) for d in days)
        xlen = b.r.cmd("XLEN", A.STREAM)
        dead = b.r.cmd("XLEN", A.PREFIX + "dead")
        # the read side, through one collector
        c = http.client.HTTPConnection("127.0.0.1", ports[1], timeout=30)
        c.request("GET", "/v1/rollups?by=all&from=%s&to=%s" % (min(days), max(days)),
                  headers={"Authorization": "Bearer " + MANAGER_KEY})
        r = c.getresponse()
        api = json.loads(r.read())
        api_n = sum(g["n"] for g in api["groups"])
        stats = {}
        for k, v in zip(*[iter(b.r.cmd("HGETALL", A.PREFIX + "stats:analyzer"))] * 2):
            stats[k] = int(v)
        for p in ans + cols:
            A.stop(p)
        counted = {}
        for k in range(2):
            with open(os.path.join(tmp, "analyzer%d.log" % k)) as f:
                for line in f:
                    if "exit" in line and "counted=" in line:
                        counted["s%d" % k] = line.split("counted=")[1].split()[0]
        ok = accepted == a.surveys and total == accepted and api_n == accepted and xlen == accepted \
            and not dead and not errors
        md = "\n".join([
            "# Scale-out: 2 collectors + 2 analyzers, one Redis (bench/scaleout/run)", "",
            "%s, %d CPUs, appendfsync %s, %d surveys posted from %d client threads (python "
            "http.client, keep-alive), half to each collector."
            % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), a.fsync,
               a.surveys, a.clients), "",
            "| what | value |", "|---|---:|",
            "| HTTP answers | %s |" % ", ".join("%d x %d" % (v, k) for k, v in sorted(counts.items())),
            "| ingest, surveys/s (first POST to last 202) | {:,.0f} |".format(accepted / t_ingest),
            "| end to end, surveys/s (first POST to pending 0, lag 0) | {:,.0f} |".format(
                accepted / t_total),
            "| stream entries (XLEN) | %d |" % xlen,
            "| rollup n (Redis, all days) | %d |" % total,
            "| rollup n (GET /v1/rollups?by=all via collector 2) | %d |" % api_n,
            "| counted per analyzer (from their exit lines) | %s |" % ", ".join(
                "%s: %s" % (k, v) for k, v in sorted(counted.items())),
            "| dead letters | %d |" % dead,
            "| exactly once (rollup n == accepted == XLEN, no dead letters) | %s |"
            % ("yes" if ok else "**NO**"), ""])
        print(md)
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(md)
        say("wrote " + a.out)
        if errors:
            say("client errors: %s" % errors[:5])
        sys.exit(0 if ok else 1)
    finally:
        A.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
