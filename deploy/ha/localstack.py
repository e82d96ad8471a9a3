#!/usr/bin/env python3
"""The multi-machine deployment on one machine, from Debian packages, for tests and demos.

    python3 deploy/ha/localstack.py up [--apps 2] [--dir DIR]     # runs until Ctrl-C / SIGTERM

starts, on loopback addresses and free ports, each with its own data directory:
  - etcd (one member) as Patroni's consensus store;
  - two Patroni nodes managing PostgreSQL 15: a primary and a synchronous standby;
  - HAProxy: a TCP endpoint that always leads to the current primary (Patroni's `/primary`
    health check) and an HTTP endpoint balancing the Box Office instances (readiness checks,
    WebSocket upgrade, X-Forwarded-For);
  - Redis: a master, a replica and three Sentinels;
  - N Box Office instances (`boxoffice serve`) connected through all of the above.

The same `Stack` class drives the failover tests (tests/ha). Only the standard library is used,
so any python3 can run it; the Box Office instances run with the interpreter given by --python.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("BOXOFFICE_PG_BIN", "/usr/lib/postgresql/15/bin"))
SCOPE = "boxoffice"
SENTINEL_MASTER = "boxoffice"
DATABASE = "boxoffice"
REPO = Path(__file__).resolve().parents[2]
HAPROXY_ERRORS = Path(__file__).resolve().parent / "haproxy-errors"
"""HAProxy's own answers (502/503/504) in Box Office's vocabulary; compose.yaml mounts the same files."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 60.0, interval_s: float = 0.2) -> float:
    """Poll `check` until it is true; return the seconds it took. Raise TimeoutError naming `what`."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except (OSError, ValueError):
            pass
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{what} not reached within {timeout_s:.0f}s")
        time.sleep(interval_s)


def http_status(url: str, timeout_s: float = 1.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def redis_command(port: int, *args: str, timeout_s: float = 1.0) -> object:
    """One RESP command on a fresh connection (enough for health checks; no pipelining)."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(payload.encode())
        reader = sock.makefile("rb")
        return _resp(reader)


def _resp(reader: object) -> object:
    line = reader.readline()  # type: ignore[attr-defined]
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise ValueError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = reader.read(n + 2)  # type: ignore[attr-defined]
        return data[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp(reader) for _ in range(n)]
    raise ValueError(f"unexpected RESP reply {line!r}")


@dataclass
class Proc:
    """A process in its own session, so a kill reaches everything it started."""

    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] | None = None
    user: str | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        argv = self.argv
        if self.user and os.geteuid() == 0:
            argv = ["runuser", "-u", self.user, "--", *argv]
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True, cwd=self.log.parent
            )
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout_s)


@dataclass
class PatroniNode:
    name: str
    pg_port: int
    api_port: int
    data_dir: Path
    proc: Proc

    def role(self) -> str:
        """'primary', 'replica' or '' (down), from Patroni's REST API."""
        if http_status(f"http://127.0.0.1:{self.api_port}/primary") == 200:
            return "primary"
        if http_status(f"http://127.0.0.1:{self.api_port}/replica") == 200:
            return "replica"
        return ""

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """Lose the machine: SIGKILL Patroni and PostgreSQL at once (no clean shutdown, no demotion)."""
        pid = self.postmaster_pid()
        self.proc.signal(signal.SIGKILL)
        self.kill_postmaster(pid)
        if self.proc.popen is not None:
            self.proc.popen.wait(10)

    def kill_postmaster(self, pid: int | None) -> None:
        """SIGKILL the postmaster (its backends exit when it dies), whatever group it is in."""
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class RedisSentinels:
    """A Redis master, one replica and three Sentinels (quorum 2) that fail over within seconds."""

    root: Path
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)

    def up(self) -> RedisSentinels:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in ("master", "replica", "sentinel_1", "sentinel_2", "sentinel_3"):
            self.ports[name] = free_port()
        master, replica = self.ports["master"], self.ports["replica"]
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.root)]
        self.procs["master"] = Proc(
            "redis-master", ["redis-server", "--port", str(master), *common], self.root / "redis-master.log"
        ).start()
        self.procs["replica"] = Proc(
            "redis-replica",
            [
                "redis-server",
                "--port",
                str(replica),
                *common,
                "--replicaof",
                "127.0.0.1",
                str(master),
            ],
            self.root / "redis-replica.log",
        ).start()
        wait_for("redis master", lambda: redis_command(master, "PING") == "PONG")
        wait_for(
            "redis replica in sync",
            lambda: "master_link_status:up" in str(redis_command(replica, "INFO", "replication")),
        )
        for i in (1, 2, 3):
            port = self.ports[f"sentinel_{i}"]
            conf = self.root / f"sentinel-{i}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.root}\n"
                f"sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master} 2\n"
                f"sentinel down-after-milliseconds {SENTINEL_MASTER} 1000\n"
                f"sentinel failover-timeout {SENTINEL_MASTER} 5000\n"
                f"sentinel parallel-syncs {SENTINEL_MASTER} 1\n"
            )
            self.procs[f"sentinel_{i}"] = Proc(
                f"sentinel-{i}", ["redis-sentinel", str(conf)], self.root / f"sentinel-{i}.log"
            ).start()
        for i in (1, 2, 3):
            wait_for(f"sentinel {i}", functools.partial(self._names, self.ports[f"sentinel_{i}"], master))
        return self

    def _names(self, sentinel_port: int, master: int) -> bool:
        return self.master_port(sentinel_port) == master

    @property
    def sentinels(self) -> str:
        """The `BOXOFFICE_REDIS_SENTINELS` value."""
        return ",".join(f"127.0.0.1:{self.ports[f'sentinel_{i}']}" for i in (1, 2, 3))

    def master_port(self, sentinel_port: int | None = None) -> int | None:
        """The Redis master's port as a Sentinel reports it."""
        port = sentinel_port or self.ports["sentinel_1"]
        reply = redis_command(port, "SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER)
        return int(reply[1]) if isinstance(reply, list) and len(reply) == 2 else None

    def kill_master(self) -> str:
        """SIGKILL whichever server is master now; returns its name ('master' or 'replica')."""
        current = self.master_port()
        name = next(n for n in ("master", "replica") if self.ports[n] == current)
        self.procs[name].signal(signal.SIGKILL)
        return name

    def down(self) -> None:
        for proc in reversed(list(self.procs.values())):
            with contextlib.suppress(Exception):
                proc.stop(timeout_s=10)


@dataclass
class Stack:
    root: Path
    apps: int = 2
    python: str = sys.executable
    app_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    etcd: Proc | None = None
    nodes: list[PatroniNode] = field(default_factory=list)
    haproxy: Proc | None = None
    redis: RedisSentinels | None = None
    instances: list[Proc] = field(default_factory=list)

    # ---- start-up -------------------------------------------------------------------------

    def up(self, with_apps: bool = True) -> Stack:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o777)  # PostgreSQL runs as `postgres` and writes its data below
        for name in ("etcd_client", "etcd_peer", "pg_primary", "http"):
            self.ports[name] = free_port()
        self._start_etcd()
        self._start_patroni()
        self._start_redis()
        self.app_ports = [free_port() for _ in range(self.apps)]
        self._write_haproxy()
        self.haproxy = Proc(
            "haproxy", ["haproxy", "-db", "-f", str(self.root / "haproxy.cfg")], self.root / "haproxy.log"
        ).start()
        wait_for("the primary through HAProxy", lambda: self._pg_ready(self.ports["pg_primary"]))
        wait_for("the application database", self._create_database)
        if with_apps:
            for i in range(self.apps):
                self.start_app(i)
            for i in range(self.apps):
                wait_for(f"app {i} ready", functools.partial(self.app_ready, i), timeout_s=90)
        self.write_prometheus()
        self.save()
        return self

    def _start_etcd(self) -> None:
        c, p = self.ports["etcd_client"], self.ports["etcd_peer"]
        self.etcd = Proc(
            "etcd",
            [
                "etcd",
                "--name",
                "e1",
                "--data-dir",
                str(self.root / "etcd"),
                "--listen-client-urls",
                f"http://127.0.0.1:{c}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{c}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{p}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{p}",
                "--initial-cluster",
                f"e1=http://127.0.0.1:{p}",
                "--initial-cluster-state",
                "new",
            ],
            self.root / "etcd.log",
        ).start()
        wait_for("etcd", lambda: http_status(f"http://127.0.0.1:{c}/health") == 200)

    def _patroni_config(self, name: str, pg_port: int, api_port: int, data: Path) -> dict[str, object]:
        # ttl 12 s: a lost primary's leader key expires within 12 s, then the sync standby promotes.
        # Patroni requires loop_wait + 2 * retry_timeout <= ttl.
        return {
            "scope": SCOPE,
            "namespace": f"/{self.root.name}/",
            "name": name,
            "restapi": {"listen": f"127.0.0.1:{api_port}", "connect_address": f"127.0.0.1:{api_port}"},
            "etcd3": {"hosts": f"127.0.0.1:{self.ports['etcd_client']}"},
            "bootstrap": {
                "dcs": {
                    "ttl": 12,
                    "loop_wait": 1,
                    "retry_timeout": 5,
                    "maximum_lag_on_failover": 1048576,
                    # A commit returns only once the standby has the WAL: an acknowledged booking is
                    # on two machines, and only a synchronous standby may be promoted.
                    "synchronous_mode": True,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "use_slots": True,
                        "parameters": {
                            "max_connections": 300,
                            "wal_log_hints": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "synchronous_commit": "on",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"username": "postgres"}],
                "pg_hba": [
                    "local all all trust",
                    "host all all 127.0.0.1/32 trust",
                    "host replication all 127.0.0.1/32 trust",
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{pg_port}",
                "connect_address": f"127.0.0.1:{pg_port}",
                "data_dir": str(data),
                "bin_dir": str(PG_BIN),
                "pgpass": str(self.root / f"pgpass-{name}"),
                "authentication": {
                    "superuser": {"username": "postgres"},
                    "replication": {"username": "postgres"},
                    "rewind": {"username": "postgres"},
                },
                "parameters": {"unix_socket_directories": str(self.root)},
            },
        }

    def _start_patroni(self) -> None:
        for i in (1, 2):
            name, pg_port, api_port = f"pg{i}", free_port(), free_port()
            config = self.root / f"patroni-{name}.yml"  # YAML is a superset of JSON
            config.write_text(json.dumps(self._patroni_config(name, pg_port, api_port, self.root / name), indent=1))
            proc = Proc(name, ["patroni", str(config)], self.root / f"patroni-{name}.log", user="postgres")
            self.nodes.append(PatroniNode(name, pg_port, api_port, self.root / name, proc.start()))
            if i == 1:  # the first node bootstraps the cluster; the second clones it
                wait_for("the first primary", lambda: self.nodes[0].role() == "primary", timeout_s=90)
        wait_for("a synchronous standby", self.sync_standby_ready, timeout_s=90)

    def sync_standby_ready(self) -> bool:
        """Some node is the synchronous standby (Patroni's `/sync` answers 200 there)."""
        return any(http_status(f"http://127.0.0.1:{n.api_port}/sync") == 200 for n in self.nodes)

    def _start_redis(self) -> None:
        self.redis = RedisSentinels(self.root).up()

    def _write_haproxy(self) -> None:
        nodes = "\n".join(f"    server {n.name} 127.0.0.1:{n.pg_port} check port {n.api_port}" for n in self.nodes)
        apps = "\n".join(f"    server app{i} 127.0.0.1:{p} check" for i, p in enumerate(self.app_ports))
        (self.root / "haproxy.cfg").write_text(
            HAPROXY_CFG.format(
                sock=self.root / "haproxy.sock",
                errors=HAPROXY_ERRORS,
                pg=self.ports["pg_primary"],
                http=self.ports["http"],
                nodes=nodes,
                apps=apps,
            )
        )

    # ---- the Box Office instances ------------------------------------------------------------

    @property
    def database_url(self) -> str:
        """Through HAProxy: always the current primary, whichever node that is."""
        return f"postgresql://postgres@127.0.0.1:{self.ports['pg_primary']}/{DATABASE}"

    @property
    def multi_host_url(self) -> str:
        """Without HAProxy: libpq/asyncpg try each host and keep the one that accepts writes."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return f"postgresql://postgres@{hosts}/{DATABASE}?target_session_attrs=read-write"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    def app_env_for(self, index: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOXOFFICE_", "PROMETHEUS_"))}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        assert self.redis is not None
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "BOXOFFICE_PORT": str(self.app_ports[index]),
                "BOXOFFICE_WORKERS": "1",
                "BOXOFFICE_REDIS_SENTINELS": self.redis.sentinels,
                "BOXOFFICE_REDIS_SENTINEL_MASTER": SENTINEL_MASTER,
                "BOXOFFICE_TRUSTED_PROXIES": "127.0.0.1",
                "BOXOFFICE_INSTANCE": f"app{index}",
            }
        )
        env.update(self.app_env)
        return env

    def start_app(self, index: int) -> Proc:
        proc = Proc(
            f"app{index}",
            [self.python, "-m", "boxoffice.cli", "serve"],
            self.root / f"app{index}.log",
            env=self.app_env_for(index),
        ).start()
        if index < len(self.instances):
            self.instances[index] = proc
        else:
            self.instances.append(proc)
        return proc

    def write_prometheus(self) -> Path:
        """A Prometheus config scraping EVERY instance (labelled `instance="appN"`), not the balancer.

        `prometheus --config.file=<root>/prometheus.yml` then feeds the per-instance dashboard panels.
        """
        targets = ",\n".join(
            f'      {{"targets": ["127.0.0.1:{port}"], "labels": {{"instance": "app{i}"}}}}'
            for i, port in enumerate(self.app_ports)
        )
        path = self.root / "prometheus.yml"
        path.write_text(PROMETHEUS_CFG.format(targets=targets))
        return path

    def app_ready(self, index: int) -> bool:
        return http_status(f"http://127.0.0.1:{self.app_ports[index]}/actuator/health/readiness") == 200

    def haproxy_servers(self) -> dict[str, str]:
        """Backend server -> operational state ('UP'/'DOWN'/'MAINT'...) from HAProxy's admin socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(str(self.root / "haproxy.sock"))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        states: dict[str, str] = {}
        for line in data.decode().splitlines()[1:]:
            cols = line.split(",")
            if len(cols) > 17 and cols[1] not in ("FRONTEND", "BACKEND"):
                states[f"{cols[0]}/{cols[1]}"] = cols[17]
        return states

    # ---- faults and status -----------------------------------------------------------------

    def primary(self) -> PatroniNode | None:
        return next((n for n in self.nodes if n.role() == "primary"), None)

    def restart_node(self, node: PatroniNode) -> None:
        node.proc = Proc(node.name, node.proc.argv, node.proc.log, user="postgres").start()

    def _pg_ready(self, port: int) -> bool:
        """A query answers and the server accepts writes (not a standby, not a refused session)."""
        try:
            return self._psql(port, "SELECT pg_is_in_recovery()") == "f"
        except subprocess.SubprocessError:
            return False

    def _create_database(self) -> bool:
        """One attempt; False to try again. Right after bootstrap a session of Patroni's (or the
        standby's base backup) can still be on template1, which refuses CREATE DATABASE for a moment."""
        try:
            self._psql(self.ports["pg_primary"], f'CREATE DATABASE "{DATABASE}"')
        except subprocess.CalledProcessError as exc:
            if "already exists" in (exc.stderr or ""):
                return True
            print(f"localstack: CREATE DATABASE refused, retrying: {(exc.stderr or '').strip()}", file=sys.stderr)
            return False
        except subprocess.SubprocessError:
            return False
        return True

    def _psql(self, port: int, sql: str) -> str:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-tAc", sql],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return out.stdout.strip()

    def save(self) -> None:
        state = {
            "base_url": self.base_url,
            "database_url": self.database_url,
            "multi_host_url": self.multi_host_url,
            "ports": self.ports,
            "redis": self.redis.ports if self.redis else {},
            "app_ports": self.app_ports,
            "patroni": [{"name": n.name, "pg_port": n.pg_port, "api_port": n.api_port} for n in self.nodes],
            "pids": {p.name: p.popen.pid for p in self._procs() if p.popen is not None},
        }
        (self.root / "stack.json").write_text(json.dumps(state, indent=2))

    def _procs(self) -> list[Proc]:
        procs = [
            *self.instances,
            *([self.haproxy] if self.haproxy else []),
            *(reversed(list(self.redis.procs.values())) if self.redis else []),
            *(n.proc for n in self.nodes),
        ]
        return procs + ([self.etcd] if self.etcd else [])

    def down(self) -> None:
        """Stop everything, newest first, and delete the data directories."""
        for proc in self._procs():
            with contextlib.suppress(Exception):
                proc.stop(timeout_s=15)
        for node in self.nodes:
            # Patroni may exit before its PostgreSQL has (e.g. a rejoining node still in recovery):
            # kill what is left of the node's process group and the postmaster itself.
            if node.proc.popen is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.proc.popen.pid, signal.SIGKILL)
            node.kill_postmaster(node.postmaster_pid())
        shutil.rmtree(self.root, ignore_errors=True)


HAPROXY_CFG = """\
global
    maxconn 4096
    stats socket {sock} mode 600 level admin
    # One line per request and connection in haproxy.log (`-db` keeps HAProxy in the foreground).
    log stderr format raw local0 info

defaults
    log global
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout check 1s

# PostgreSQL: only the node whose Patroni answers /primary with 200 is UP; sessions to a node that
# goes down are cut, so clients reconnect to the new primary instead of hanging.
listen postgres_primary
    bind 127.0.0.1:{pg}
    mode tcp
    option tcplog
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
{nodes}

# Box Office: readiness decides; a draining instance turns not-ready and leaves the rotation
# (two failed checks, 1 s) well before its drain ends. A connection that fails was never sent a
# request: it is retried on another instance. A request already sent is never retried (a POST may
# have committed): HAProxy's own errors are answered in Box Office's vocabulary, so a client can
# tell a definite refusal (503 SERVICE_UNAVAILABLE: no instance took it) from an unknown outcome.
frontend http
    bind 127.0.0.1:{http}
    mode http
    option httplog
    option http-server-close
    # HAProxy is the edge: a client's own X-Forwarded-For is dropped, HAProxy's is the only one.
    http-request del-header X-Forwarded-For
    option forwardfor
    errorfile 502 {errors}/502.http
    errorfile 503 {errors}/503.http
    errorfile 504 {errors}/504.http
    default_backend boxoffice

backend boxoffice
    mode http
    balance roundrobin
    option httpchk GET /actuator/health/readiness
    http-check expect status 200
    option redispatch 1
    retries 3
    retry-on conn-failure
    default-server inter 500ms fall 2 rise 2
    errorfile 502 {errors}/502.http
    errorfile 503 {errors}/503.http
    errorfile 504 {errors}/504.http
{apps}
"""

PROMETHEUS_CFG = """\
# Written by deploy/ha/localstack.py: one target per Box Office instance (YAML, JSON-style lists).
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: boxoffice
    metrics_path: /actuator/prometheus
    static_configs: [
{targets}
    ]
"""


@contextlib.contextmanager
def running(root: Path | None = None, **kwargs: object) -> Iterator[Stack]:
    stack = Stack(root or Path(tempfile.mkdtemp(prefix="bo-ha-")), **kwargs)  # type: ignore[arg-type]
    try:
        yield stack.up()
    finally:
        stack.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--dir", type=Path, default=None, help="data directory (default: a new temp dir)")
    parser.add_argument("--apps", type=int, default=2, help="Box Office instances")
    parser.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"), help="interpreter for the apps")
    args = parser.parse_args()
    stack = Stack(args.dir or Path(tempfile.mkdtemp(prefix="bo-ha-")), apps=args.apps, python=args.python)
    stop = False

    def handle(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    try:
        stack.up()
        print(json.dumps(json.loads((stack.root / "stack.json").read_text()), indent=2), flush=True)
        print(f"Box Office at {stack.base_url} (Ctrl-C stops and deletes {stack.root})", flush=True)
        while not stop:
            time.sleep(0.5)
    finally:
        stack.down()


if __name__ == "__main__":
    main()
