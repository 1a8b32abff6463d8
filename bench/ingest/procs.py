"""Process and tool plumbing shared by bench/ingest/run and bench/memory/run: free loopback ports,
a private redis-server in a temp dir, the collector, a tiny redis-cli wrapper, and cleanup of every
process started here (each runs in its own session, so its whole group is stopped by its id).
Standard library only."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

INGEST_KEY = "bench-ingest-key-0123456789abcdef"
MANAGER_KEY = "bench-manager-key-0123456789abcdef"

_started = []  # subprocess.Popen, in start order


def say(prog, msg):
    print("%s: %s" % (prog, msg), file=sys.stderr, flush=True)


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
        except OSError:
            pass
        time.sleep(step)
    raise RuntimeError("timed out waiting for " + what)


def start(argv, log_path, env=None, cwd=None):
    log = open(log_path, "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                         start_new_session=True)
    log.close()
    _started.append(p)
    return p


def stop(p, timeout=10):
    """SIGTERM to the process group we created, then SIGKILL if it lingers."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:  # nginx workers, or anything the process left behind in its group
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if p.poll() is None:
        p.wait(5)


def stop_all():
    while _started:
        stop(_started.pop())


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


def install_cleanup():
    """The Python form of `trap cleanup EXIT INT TERM HUP`."""
    atexit.register(stop_all)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


def make_tempdir(prefix, keep=False):
    d = tempfile.mkdtemp(prefix=prefix)
    if not keep:
        atexit.register(shutil.rmtree, d, True)
    return d


def have(tool):
    return shutil.which(tool) is not None


def apt_install(prog, packages):
    """apt-get install by package name, as root; refreshes the lists once if the install fails."""
    if os.geteuid() != 0:
        raise RuntimeError("missing %s; install as root: apt-get install -y %s"
                           % (", ".join(packages), " ".join(packages)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends"] + list(packages)
    say(prog, "installing " + " ".join(packages))
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=True)
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)


class RedisServer:
    """A private redis-server on a free loopback port, data in DIR, AOF as SPEC section 4 says."""

    def __init__(self, dir_, appendonly=True, appendfsync="always"):
        self.dir = dir_
        self.port = free_port()
        self.proc = None
        conf = os.path.join(dir_, "redis.conf")
        with open(conf, "w") as f:
            f.write("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\nprotected-mode yes\n"
                    % (self.port, dir_))
            f.write("appendonly %s\nappendfsync %s\nno-appendfsync-on-rewrite no\n"
                    % ("yes" if appendonly else "no", appendfsync))
            f.write("maxmemory-policy noeviction\n")
            # no automatic AOF rewrite (a fork + a second writer) in the middle of a timed run;
            # bench/ingest/run rewrites the (then empty) AOF between runs instead
            f.write("auto-aof-rewrite-percentage 0\n")
        self.conf = conf

    def start(self):
        self.proc = start(["redis-server", self.conf], os.path.join(self.dir, "redis.log"))
        wait_until(lambda: self.cli("PING", check=False) == "PONG", what="redis-server")
        return self

    def cli(self, *args, check=True):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("redis-cli %s: %s" % (" ".join(args), r.stderr.decode()))
        return r.stdout.decode().strip()

    def info(self, section):
        out = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k.strip()] = v.strip()
        return out


def collector_env(redis_port, prefix="hearken:"):
    e = os.environ.copy()
    e.update({
        "HEARKEN_REDIS_URL": "redis://127.0.0.1:%d" % redis_port,
        "HEARKEN_PREFIX": prefix,
        "HEARKEN_INGEST_KEYS": INGEST_KEY,
        "HEARKEN_MANAGER_KEYS": MANAGER_KEY,
        "HEARKEN_LINK_SECRET": "k1:bench-link-secret-0123456789abcdef0123456789",
    })
    return e


def http_status(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def start_collector(build, dir_, redis_port, args=(), name="collector"):
    port = free_port()
    argv = [os.path.join(build, "hearken-collector"), "--listen", "127.0.0.1:%d" % port] + list(args)
    p = start(argv, os.path.join(dir_, name + ".log"), env=collector_env(redis_port))
    wait_until(lambda: p.poll() is None and http_status(port, "/healthz") == 200,
               what=name + " /healthz")
    return p, port


def cpu_seconds(pid):
    """utime + stime of a process (all its threads) from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def kib(v):
    """'12345 kB' -> 12345"""
    return int(v.split()[0])
