"""The analyzer benchmark (SPEC section 8: stream -> rollups, one process, >= 100,000 surveys/s):
a private redis-server, N realistic surveys preloaded into the stream with redis-cli --pipe, then
the drain to rollups timed for several analyzer layouts, with Redis's and the workers' CPU from
/proc, and redis-benchmark as the anchor in the same run. bench/analyzer/run is the entry point.
Standard library only; loopback only; stops everything it started."""

import argparse
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import surveys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
PREFIX = "hearken:"
STREAM = PREFIX + "surveys"
GROUP = "analyzers"
CLK_TCK = os.sysconf("SC_CLK_TCK")

_started = []


def say(msg):
    print("bench/analyzer: " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, log_path, env=None):
    log = open(log_path, "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
                         start_new_session=True)
    log.close()
    _started.append(p)
    return p


def stop(p, timeout=15):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if p in _started:
        _started.remove(p)


def stop_all():
    for p in reversed(list(_started)):
        stop(p, 5)


class Redis:
    """A minimal RESP2 client (enough for INFO, XINFO, HGET, CONFIG)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=600)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise OSError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError("bad reply " + repr(line))

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return self._reply()


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def _gen_part(job):
    path, lo, hi, seed, prefix, order, ndays = job
    days = {}
    key = STREAM.encode()
    with open(path, "wb") as f:
        buf = []
        for j, (text, day) in enumerate(surveys.generate(hi, seed, prefix, ndays, order)):
            if j < lo:
                continue
            buf.append(resp(b"XADD", key, b"*", b"survey", text.encode()))
            days[day] = days.get(day, 0) + 1
            if len(buf) >= 4096:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))
    return days


def generate_resp(path, n, seed, prefix="bench", order="time", days=28):
    """Writes n XADDs as a RESP file for redis-cli --pipe; returns {day: surveys}. Two processes
    (each regenerates the shared random sequence up to its half, which costs less than the JSON)."""
    half = n // 2
    jobs = [(path + ".0", 0, half, seed, prefix, order, days),
            (path + ".1", half, n, seed, prefix, order, days)]
    with multiprocessing.Pool(2) as pool:
        parts = pool.map(_gen_part, jobs)
    days = {}
    with open(path, "wb") as out:
        for job, d in zip(jobs, parts):
            with open(job[0], "rb") as f:
                shutil.copyfileobj(f, out, 1 << 22)
            os.unlink(job[0])
            for k, v in d.items():
                days[k] = days.get(k, 0) + v
    return days


def proc_cpu(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


class Bench:
    def __init__(self, args, tmp):
        self.a = args
        self.tmp = tmp
        self.port = free_port()
        self.redis_proc = None
        self.r = None
        self.build = os.path.abspath(args.build)
        self.analyzer = os.path.join(self.build, "hearken-analyzer")
        if not os.access(self.analyzer, os.X_OK):
            raise SystemExit("bench/analyzer: no %s (build first)" % self.analyzer)

    def start_redis(self):
        conf = os.path.join(self.tmp, "redis.conf")
        with open(conf, "w") as f:
            f.write("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\n" % (self.port, self.tmp))
            f.write("appendonly yes\nappendfsync always\nno-appendfsync-on-rewrite no\n")
            # no automatic rewrite: a fork in the middle of one run would make it an outlier
            f.write("auto-aof-rewrite-percentage 0\nmaxmemory-policy noeviction\n")
        self.redis_proc = start(["redis-server", conf], os.path.join(self.tmp, "redis.log"))
        end = time.time() + 20
        while True:
            try:
                self.r = Redis(self.port)
                if self.r.cmd("PING") == "PONG":
                    break
            except OSError:
                if time.time() > end:
                    raise
                time.sleep(0.05)

    def fsync_mode(self, mode):
        self.r.cmd("CONFIG", "SET", "appendfsync", mode)

    def load(self, resp_path, n):
        """Empties Redis, rewrites the AOF, and loads the stream (with appendfsync everysec: the
        preload is not what is measured); returns seconds."""
        mode = self.r.cmd("CONFIG", "GET", "appendfsync")[1]
        self.fsync_mode("everysec")
        self.r.cmd("FLUSHALL")
        self.r.cmd("BGREWRITEAOF")
        while "aof_rewrite_in_progress:1" in self.r.cmd("INFO", "persistence"):
            time.sleep(0.05)
        t0 = time.time()
        with open(resp_path, "rb") as f:
            out = subprocess.run(["redis-cli", "-p", str(self.port), "--pipe"], stdin=f,
                                 capture_output=True, text=True)
        dt = time.time() - t0
        if out.returncode != 0 or "errors: 0" not in out.stdout:
            raise SystemExit("bench/analyzer: redis-cli --pipe failed: " + out.stdout + out.stderr)
        got = self.r.cmd("XLEN", STREAM)
        if got != n:
            raise SystemExit("bench/analyzer: stream holds %d entries, expected %d" % (got, n))
        self.r.cmd("XGROUP", "CREATE", STREAM, GROUP, "0")
        self.fsync_mode(mode)
        return dt

    def group(self):
        g = self.r.cmd("XINFO", "GROUPS", STREAM)[0]
        return {g[i]: g[i + 1] for i in range(0, len(g), 2)}

    def drain(self, procs, threads, n, days, label):
        """Starts procs analyzers, waits until the group has nothing pending and no lag."""
        env = dict(os.environ)
        env.update({"HEARKEN_REDIS_URL": "redis://127.0.0.1:%d" % self.port,
                    "HEARKEN_PREFIX": PREFIX, "HEARKEN_LEXICONS": os.path.join(SOURCE, "lexicons"),
                    "HEARKEN_LOG_LEVEL": "warn", "HEARKEN_RETENTION_DAYS": "0"})
        rpid = self.redis_proc.pid
        r_cpu0 = proc_cpu(rpid)
        launch = time.time()
        ps = []
        for k in range(procs):
            argv = [self.analyzer, "--consumer", "b%d" % k, "--threads", str(threads)]
            argv += self.a.analyzer_args
            ps.append(start(argv, os.path.join(self.tmp, "analyzer-%s-%d.log" % (label, k)), env))
        first = None
        deadline = launch + self.a.timeout
        while True:
            g = self.group()
            now = time.time()
            if first is None and (g.get("entries-read") or g.get("pending")):
                first = now
            if g.get("pending") == 0 and g.get("lag") == 0 and g.get("entries-read") == n:
                break
            for p in ps:
                if p.poll() is not None:
                    raise SystemExit("bench/analyzer: an analyzer exited (%s); see its log in %s"
                                     % (p.returncode, self.tmp))
            if now > deadline:
                raise SystemExit("bench/analyzer: drain did not finish in %ds: %r" % (self.a.timeout, g))
            time.sleep(0.02)
        done = time.time()
        w_cpu = sum(proc_cpu(p.pid) for p in ps)
        r_cpu = proc_cpu(rpid) - r_cpu0
        for p in ps:
            stop(p)
        total = 0
        for day in days:
            v = self.r.cmd("HGET", PREFIX + "r:%s:all:all" % day, "n")
            total += int(v or 0)
        dead = self.r.cmd("XLEN", PREFIX + "dead")
        scored = self.r.cmd("DBSIZE")
        if total != n or dead:
            raise SystemExit("bench/analyzer: rollup n = %d, dead letters %d, expected n = %d"
                             % (total, dead, n))
        secs = done - first
        return {"secs": secs, "rate": n / secs, "startup": first - launch, "w_cpu": w_cpu,
                "r_cpu": r_cpu, "n": n, "keys": scored}

    def redis_benchmark(self):
        out = subprocess.run(["redis-benchmark", "-p", str(self.port), "-q", "-P", "16", "-n",
                              "200000", "-t", "set"], capture_output=True, text=True, timeout=300)
        for line in out.stdout.replace("\r", "\n").splitlines():
            if line.startswith("SET:") and "requests per second" in line:
                return float(line.split()[1])
        raise SystemExit("bench/analyzer: redis-benchmark said " + out.stdout[-300:] + out.stderr)


def main():
    ap = argparse.ArgumentParser(prog="bench/analyzer/run")
    ap.add_argument("build", nargs="?", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--surveys", type=int, default=1000000)
    ap.add_argument("--repeat-surveys", type=int, default=None,
                    help="N for runs 2 and 3 of each layout (default: --surveys / 5)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--layouts", default="1x1,2x1,4x1,1x2",
                    help="PROCESSESxTHREADS, comma-separated")
    ap.add_argument("--everysec", default="1x1", help="layouts also run with appendfsync everysec "
                    "('' for none)")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--days", type=int, default=28,
                    help="the surveys' submitted_at span (repeat runs keep the surveys per day)")
    ap.add_argument("--order", choices=("time", "random"), default="time",
                    help="stream order follows submitted_at (live answers), or random days "
                    "(a backfill)")
    ap.add_argument("--out", default=os.path.join(SOURCE, "bench", "out", "analyzer.md"))
    ap.add_argument("--analyzer-arg", dest="analyzer_args", action="append", default=[])
    ap.add_argument("--keep-tmp", action="store_true")
    a = ap.parse_args()
    if a.surveys < 1000:
        ap.error("--surveys must be at least 1000")
    rep = a.repeat_surveys or max(1000, a.surveys // 5)

    tmp = tempfile.mkdtemp(prefix="hearken-bench-analyzer-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        b = Bench(a, tmp)
        b.start_redis()
        say("generating %d surveys (and %d for repeats)" % (a.surveys, rep))
        t0 = time.time()
        big = os.path.join(tmp, "surveys.resp")
        days_big = generate_resp(big, a.surveys, a.seed, order=a.order, days=a.days)
        small, days_small = big, days_big
        if rep != a.surveys:
            small = os.path.join(tmp, "surveys-small.resp")
            days_small = generate_resp(small, rep, a.seed + 7, "rep", a.order,
                                       max(1, round(a.days * rep / a.surveys)))
        say("generated in %.1f s (%.0f MB)" % (time.time() - t0, os.path.getsize(big) / 1e6))

        rows = []
        anchors = {}
        plan = [(lay, "always") for lay in a.layouts.split(",") if lay]
        plan += [(lay, "everysec") for lay in a.everysec.split(",") if lay]
        for mode in ("always", "everysec"):
            b.r.cmd("FLUSHALL")
            b.fsync_mode(mode)
            anchors[mode] = b.redis_benchmark()
            say("redis-benchmark -P 16 SET, appendfsync %s: %.0f/s" % (mode, anchors[mode]))
        for lay, mode in plan:
            procs, threads = (int(x) for x in lay.split("x"))
            b.fsync_mode(mode)
            results = []
            for run in range(a.runs):
                n, path, days = (a.surveys, big, days_big) if run == 0 else (rep, small, days_small)
                load_s = b.load(path, n)
                res = b.drain(procs, threads, n, days, "%s-%s-%d" % (lay, mode, run))
                res["load_rate"] = n / load_s
                results.append(res)
                say("%d process(es) x %d thread(s), appendfsync %s, run %d: %d surveys in %.2f s "
                    "= %.0f/s (start-up %.2f s; CPU worker %.1f s, redis %.1f s; preload %.0f/s)"
                    % (procs, threads, mode, run + 1, n, res["secs"], res["rate"], res["startup"],
                       res["w_cpu"], res["r_cpu"], res["load_rate"]))
            rows.append((procs, threads, mode, results))
        md = report(a, rep, rows, anchors)
        print(md)
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(md)
        say("wrote " + a.out)
    finally:
        stop_all()
        if a.keep_tmp:
            say("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(a, rep, rows, anchors):
    lines = ["# Analyzer: stream -> rollups (bench/analyzer/run)", "",
             "%s, %d CPUs, N = %d surveys for run 1 of each row, %d for runs 2-%d; "
             "surveys/s is the median over runs of N / (first read until XINFO GROUPS shows "
             "pending 0 and lag 0); rollup n == N and no dead letters checked after every run."
             % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), a.surveys, rep,
                a.runs), "",
             "| analyzers | appendfsync | surveys/s (median) | runs | CPU s per 100k surveys: "
             "workers / redis | ratio to redis-benchmark -P 16 SET |",
             "|---|---|---:|---|---:|---:|"]
    for procs, threads, mode, res in rows:
        med = statistics.median(r["rate"] for r in res)
        w = statistics.median(r["w_cpu"] / r["n"] * 1e5 for r in res)
        rc = statistics.median(r["r_cpu"] / r["n"] * 1e5 for r in res)
        runs = ", ".join("%.0f" % r["rate"] for r in res)
        lines.append("| %d process%s x --threads %d | %s | %s | %s | %.2f / %.2f | %.3f |"
                     % (procs, "es" if procs > 1 else "", threads, mode, "{:,.0f}".format(med),
                        runs, w, rc, med / anchors[mode]))
    for mode, v in anchors.items():
        lines.append("| redis-benchmark -q -P 16 -n 200000 -t set (anchor) | %s | %s | | | 1 |"
                     % (mode, "{:,.0f}".format(v)))
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
