"""Pure logic of the local stack (deploy/local/portalstack), which runs with the system python."""
import os
import subprocess
import sys
from pathlib import Path

import bson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "local"))
from portalstack import net, procs, settings  # noqa: E402


@pytest.mark.parametrize("url, default, expected", [
    ("amqp://guest:guest@127.0.0.1:5672/", 5672, ("127.0.0.1", 5672)),
    ("amqp://user:p%40ss@broker.internal/vhost", 5672, ("broker.internal", 5672)),
    ("mongodb://db1:27018,db2:27019/?replicaSet=rs0", 27017, ("db1", 27018)),
    ("http://[::1]:9201", 9200, ("::1", 9201)),
    ("http://localhost", 9200, ("localhost", 9200)),
])
def test_addresses_are_read_from_every_kind_of_uri(url, default, expected):
    assert settings.host_port(url, default) == expected


def test_an_exported_variable_wins_and_an_empty_one_falls_back(monkeypatch):
    monkeypatch.setenv("GATEWAY_PORT", "9090")
    monkeypatch.setenv("MONGO_URI", "")
    env = settings.platform_env()
    assert env["GATEWAY_PORT"] == "9090"
    assert env["MONGO_URI"] == settings.defaults()["MONGO_URI"]


def test_processes_we_start_carry_the_owner_marker():
    assert settings.child_env()[settings.OWNER_MARKER] == str(Path(settings.ROOT))


def test_the_hand_written_mongodb_ping_is_valid_bson():
    assert net._bson_ping() == bson.encode({"ping": 1, "$db": "admin"})


def test_a_process_that_exited_is_not_alive():
    child = subprocess.Popen(["true"])
    child.wait()
    assert procs.pid_alive(os.getpid())
    assert not procs.pid_alive(child.pid)
