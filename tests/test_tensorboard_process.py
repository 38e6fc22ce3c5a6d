"""Starting and stopping real TensorBoard processes."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.processes.control import is_alive, stop_process
from dashboard.processes.tensorboard import (
    free_port,
    is_tensorboard,
    logdir_spec,
    start_tensorboard,
    wait_until_serving,
)

START_TIMEOUT = 60.0

linux_only = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc")


@pytest.fixture
def pids():
    """Process ids to stop after the test, whatever happens."""
    started = []
    yield started
    for pid in started:
        stop_process(pid)


@pytest.fixture
def tensorboard(tmp_path, pids):
    """A TensorBoard over an empty logdir, already serving."""
    log = tmp_path / "tensorboard.log"
    tb = start_tensorboard(tmp_path / "logs", log_path=log)
    pids.append(tb.pid)
    assert wait_until_serving(tb.host, tb.port, timeout=START_TIMEOUT, pid=tb.pid), log.read_text()
    return tb


def poll(predicate, timeout=10.0):
    """Whether `predicate()` becomes true before the deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def http_get(url_host, port, path="/"):
    connection = http.client.HTTPConnection(url_host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def spawn(pids, code):
    """A Python child in its own process group, reading stdin and writing stdout through pipes."""
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    pids.append(process.pid)
    return process


def forget(process):
    """Close the pipes and let Popen learn the exit status that is_alive or stop_process reaped."""
    process.stdin.close()
    process.stdout.close()
    process.wait(timeout=10)


def port_is_open(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def proc_state(pid):
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def listening_addresses(pid):
    """(address, port) of every TCP socket `pid` listens on, read from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = fd.readlink().name if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    addresses = []
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A = LISTEN
                address, port = local.split(":")
                addresses.append((_decode_address(address), int(port, 16)))
    return addresses


def _decode_address(hex_address):
    raw = bytes.fromhex(hex_address)
    # /proc prints each 32-bit word in host (little-endian) order.
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw)


def test_free_port_returns_a_bindable_port():
    port = free_port()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_start_tensorboard_creates_a_missing_logdir(tmp_path, pids):
    logdir = tmp_path / "outputs" / "group-1"

    tb = start_tensorboard(logdir)
    pids.append(tb.pid)

    assert logdir.is_dir()


def test_start_tensorboard_serves_http_on_loopback_at_its_port(tensorboard):
    status, body = http_get("127.0.0.1", tensorboard.port)

    assert status == 200
    assert b"<!doctype html>" in body.lower()
    assert tensorboard.host == "127.0.0.1"
    assert tensorboard.url == f"http://127.0.0.1:{tensorboard.port}/"


def test_start_tensorboard_writes_its_output_to_log_path(tmp_path, tensorboard):
    log = tmp_path / "tensorboard.log"

    assert poll(lambda: f":{tensorboard.port}/" in log.read_text())


@linux_only
def test_tensorboard_listens_only_on_loopback(tensorboard):
    addresses = listening_addresses(tensorboard.pid)

    assert addresses == [("127.0.0.1", tensorboard.port)]


def test_stop_process_ends_tensorboard_and_closes_its_port(tensorboard):
    stop_process(tensorboard.pid)

    assert not is_alive(tensorboard.pid)
    assert not port_is_open("127.0.0.1", tensorboard.port)


def test_stop_process_of_a_dead_pid_is_a_no_op(pids):
    process = spawn(pids, "pass")
    process.wait(timeout=10)

    stop_process(process.pid)

    assert not is_alive(process.pid)
    forget(process)


def test_stop_process_twice_is_a_no_op(tensorboard):
    stop_process(tensorboard.pid)

    stop_process(tensorboard.pid)

    assert not is_alive(tensorboard.pid)


def test_stop_process_kills_a_process_that_ignores_sigterm(pids):
    code = (
        "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "print('ignoring', flush=True); input()"
    )
    process = spawn(pids, code)
    process.stdout.readline()  # SIGTERM is ignored from here on

    stop_process(process.pid, timeout=0.5)

    assert not is_alive(process.pid)
    forget(process)


def test_is_alive_treats_an_exited_child_as_dead(pids):
    process = spawn(pids, "pass")

    assert poll(lambda: not is_alive(process.pid))
    forget(process)


@linux_only
def test_is_alive_treats_a_zombie_that_is_not_our_child_as_dead(pids):
    # The parent starts a child that exits at once and never reaps it.
    code = (
        "import subprocess, sys; child = subprocess.Popen([sys.executable, '-c', 'pass']);"
        "print(child.pid, flush=True); sys.stdin.read()"
    )
    parent = spawn(pids, code)
    zombie = int(parent.stdout.readline())

    assert poll(lambda: proc_state(zombie) == "Z")
    assert not is_alive(zombie)
    forget(parent)


def test_wait_until_serving_gives_up_at_the_deadline():
    started = time.monotonic()

    assert not wait_until_serving("127.0.0.1", free_port(), timeout=0.3)
    assert time.monotonic() - started < 5


def test_is_tensorboard_recognises_its_process_and_refuses_others(tmp_path):
    process = start_tensorboard(tmp_path / "logs")
    try:
        assert is_tensorboard(process.pid, process.port)
        assert not is_tensorboard(process.pid, process.port + 1)
        assert not is_tensorboard(os.getpid())
    finally:
        stop_process(process.pid)
    assert not is_tensorboard(process.pid)


def test_logdir_spec_names_each_folder_and_refuses_what_it_cannot_name(tmp_path):
    runs = {"experiment-1": tmp_path / "a", "experiment-2": tmp_path / "b"}

    assert logdir_spec(runs) == f"experiment-1:{tmp_path}/a,experiment-2:{tmp_path}/b"
    with pytest.raises(ValueError):
        logdir_spec({"experiment-3": tmp_path / "a,b"})
    with pytest.raises(ValueError):
        logdir_spec({"a:b": tmp_path})
