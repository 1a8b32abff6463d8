"""Test harness for integration tests: a real redis-server on a free loopback port in a temp
dir, the real hearken-collector and hearken-analyzer binaries, real HTTP over loopback.
Standard library only. Every process started here is stopped by Env.close()."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD = os.environ.get("HEARKEN_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("HEARKEN_SOURCE", os.path.join(os.path.dirname(__file__), "../.."))
INGEST_KEY = "test-ingest-key-0123456789"
MANAGER_KEY = "test-manager-key-9876543210"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=20.0, step=0.05, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if pred():
                return
        except (OSError, http.client.HTTPException, RedisError):
            pass
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


class RedisError(Exception):
    pass


class Redis:
    """A minimal RESP2 client: enough to inspect what the programs stored."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.buf = b""

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RedisError("bad reply " + repr(line))

    def pipeline(self, commands):
        """Sends many commands at once and returns their replies (errors as RedisError objects)."""
        if self.sock is None:
            self._connect()
        out = []
        for args in commands:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                b = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        replies = []
        for _ in commands:
            try:
                replies.append(self._reply())
            except RedisError as e:
                replies.append(e)
        return replies

    def cmd(self, *args):
        if self.sock is None:
            self._connect()
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        try:
            self.sock.sendall(b"".join(out))
            return self._reply()
        except OSError:
            self.close()
            raise


class Proc:
    def __init__(self, name, argv, env, log_path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.p = None

    def start(self):
        log = open(self.log_path, "ab")
        self.p = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        return self

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.p.send_signal(sig)

    def stop(self, timeout=15):
        if not self.alive():
            return self.p.returncode if self.p else None
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(self.name + " did not exit on SIGTERM within %ds" % timeout)

    def wait(self, timeout=None):
        return self.p.wait(timeout)


class Env:
    """One private deployment: redis + collector + analyzers, in a temp dir."""

    def __init__(self, appendonly=True, prefix="hearken:", collector_args=(), keep=False):
        self.dir = tempfile.mkdtemp(prefix="hearken-it-")
        self.keep = keep or os.environ.get("HEARKEN_KEEP_TMP") == "1"
        self.redis_port = free_port()
        self.prefix = prefix
        self.appendonly = appendonly
        self.redis_proc = None
        self.collector = None
        self.collector_args = list(collector_args)
        self.analyzers = []
        self.http_port = None
        self.redis = Redis(self.redis_port)
        self.failed = False

    # --- processes -------------------------------------------------------------------------
    def start_redis(self):
        conf = os.path.join(self.dir, "redis.conf")
        with open(conf, "w") as f:
            f.write("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\n" % (self.redis_port, self.dir))
            f.write("appendonly %s\nappendfsync always\nno-appendfsync-on-rewrite no\n"
                    % ("yes" if self.appendonly else "no"))
            f.write("maxmemory-policy noeviction\nprotected-mode yes\n")
        self.redis_proc = Proc("redis", ["redis-server", conf], os.environ.copy(),
                               os.path.join(self.dir, "redis.log")).start()
        wait_until(lambda: self.redis.cmd("PING") == "PONG", what="redis-server")
        return self

    def kill_redis(self):
        self.redis.close()
        self.redis_proc.kill(signal.SIGKILL)
        self.redis_proc.wait()

    def env(self, extra=None):
        e = os.environ.copy()
        e.update({
            "HEARKEN_REDIS_URL": "redis://127.0.0.1:%d" % self.redis_port,
            "HEARKEN_PREFIX": self.prefix,
            "HEARKEN_INGEST_KEYS": INGEST_KEY + ",second-ingest-key-abcdef",
            "HEARKEN_MANAGER_KEYS": MANAGER_KEY,
            "HEARKEN_LINK_SECRET": "k1:test-link-secret-0123456789abcdef0123456789",
            "HEARKEN_LEXICONS": os.path.join(SOURCE, "lexicons"),
        })
        if extra:
            e.update(extra)
        return e

    def start_collector(self, *args):
        self.http_port = free_port()
        argv = [os.path.join(BUILD, "hearken-collector"), "--listen",
                "127.0.0.1:%d" % self.http_port] + self.collector_args + list(args)
        self.collector = Proc("collector", argv, self.env(),
                              os.path.join(self.dir, "collector.log")).start()
        wait_until(lambda: self.get("/healthz")[0] == 200, what="collector /healthz")
        return self

    def start_analyzer(self, *args, name=None):
        name = name or "an%d" % len(self.analyzers)
        argv = [os.path.join(BUILD, "hearken-analyzer"), "--consumer", name] + list(args)
        a = Proc("analyzer-" + name, argv, self.env(),
                 os.path.join(self.dir, "analyzer-%s.log" % name)).start()
        self.analyzers.append(a)
        return a

    def close(self):
        for a in self.analyzers:
            if a.alive():
                a.kill()
        if self.collector and self.collector.alive():
            self.collector.kill()
        self.redis.close()
        if self.redis_proc and self.redis_proc.alive():
            self.redis_proc.kill()
            self.redis_proc.wait()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("kept", self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None or self.failed:
            self.dump_logs()
        self.close()

    def dump_logs(self):
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    tail = f.read()[-3000:]
                print("---- %s (tail)\n%s" % (name, tail))

    # --- HTTP ------------------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, key=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = "Bearer " + key
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, data, dict((k.lower(), v) for k, v in r.getheaders())
        finally:
            c.close()

    def get(self, path, key=None):
        s, d, _ = self.request("GET", path, key=key)
        return s, d

    def post_survey(self, survey, key=INGEST_KEY, headers=None):
        s, d, h = self.request("POST", "/v1/surveys", body=survey, key=key, headers=headers)
        try:
            j = json.loads(d) if d else None
        except ValueError:
            j = None
        return s, j, h

    def raw(self, data, timeout=5):
        """Sends raw bytes and returns the raw answer (for smuggling and malformed requests)."""
        s = socket.create_connection(("127.0.0.1", self.http_port), timeout=timeout)
        try:
            s.sendall(data)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out:
                    head, _, rest = out.partition(b"\r\n\r\n")
                    cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if cl and len(rest) >= int(cl[0].split(b":")[1]):
                        break
            return out
        finally:
            s.close()

    # --- Redis views -----------------------------------------------------------------------
    def stream_len(self):
        return self.redis.cmd("XLEN", self.prefix + "surveys")

    def group_info(self):
        try:
            groups = self.redis.cmd("XINFO", "GROUPS", self.prefix + "surveys")
        except RedisError:
            return None
        for g in groups:
            d = dict(zip(g[::2], g[1::2]))
            if d.get("name") == "analyzers":
                return d
        return None

    def drained(self):
        g = self.group_info()
        return g is not None and g["pending"] == 0 and g.get("lag") == 0

    def rollups(self, by="all", frm="2026-01-01", to="2026-12-31"):
        s, d = self.get("/v1/rollups?by=%s&from=%s&to=%s" % (by, frm, to), key=MANAGER_KEY)
        assert s == 200, (s, d)
        return json.loads(d)


def survey(i, **over):
    """A valid survey, deterministic in i."""
    agents = ["agent-%d" % k for k in range(1, 7)]
    scen = ["billing_error", "service_interruption", "product_quality", "cancellation_return",
            "tech_support", "complaint_escalation", "other"]
    comments = [
        "Priya listened without interrupting and fixed the double charge. I'll recommend you.",
        "I had to repeat my account number three times and was on hold for an hour.",
        "Quick and easy, thank you!",
        "The agent was rude and cut me off. I'm cancelling.",
        "",
    ]
    s = {
        "interaction_id": "call-%06d" % i,
        "agent_id": agents[i % len(agents)],
        "team_id": "team-%s" % "ab"[i % 2],
        "scenario": scen[i % len(scen)],
        "channel": "voice",
        "language": "en",
        "submitted_at": "2026-11-%02dT10:%02d:00Z" % (20 + i % 5, i % 60),
        "answers": {"nps": i % 11, "csat": 1 + i % 5, "ces": 1 + i % 7,
                    "felt_heard": 1 + (i * 3) % 5, "felt_valued": 1 + (i * 7) % 5},
    }
    c = comments[i % len(comments)]
    if c:
        s["comment"] = c
    s.update(over)
    return s


def run(tests, env=None):
    """Runs test functions, prints one line each and the closing 'N passed, N failed' line.
    Returns the number failed; the caller exits with it after closing its Env."""
    import traceback
    passed = failed = 0
    for t in tests:
        start = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - start), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    if env is not None and failed:
        env.failed = True
    return failed
