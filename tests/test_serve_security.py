"""Who the dev server answers: the Host header, the live-reload websocket's Origin, the port.

A DNS-rebinding page on a name the attacker owns reaches the server with ``Host`` set to
that name; a page of another site opens websockets with its own ``Origin``. Both are refused.
Everything runs against a real ``python -m site_builder serve`` over real sockets.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import subprocess
import sys

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from conftest import ROOT
from site_builder.errors import UsageError
from site_builder.serve import HostRule, run, split_host
from test_serve import ServerProcess, make_site

PATHS = ["/", "/livereload.js", "/articles/arms-for-food/", "/no-such-page/", "/livereload"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve-security")
    s = ServerProcess(make_site(root / "site"), root)
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def exposed(tmp_path_factory):
    """A server bound to every interface (``--host 0.0.0.0``)."""
    root = tmp_path_factory.mktemp("serve-exposed")
    s = ServerProcess(make_site(root / "site"), root, "--host", "0.0.0.0")
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


def ask(port: int, path: str, host: str | None) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` with exactly the ``Host`` header given (none when None: HTTP/1.0)."""
    if host is None:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def other_port(port: int) -> int:
    return port + 1 if port < 65535 else port - 1


# -- Host ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [
    "127.0.0.1:{port}", "127.0.0.1", "localhost:{port}", "localhost", "LocalHost:{port}", "localhost.:{port}",
    "[::1]:{port}", "[::1]", "[0:0:0:0:0:0:0:1]:{port}",
])
def test_the_servers_own_names_are_answered(server, host):
    host = host.format(port=server.port)
    status, _, body = ask(server.port, "/", host)
    assert status == 200 and b"Arms for food" in body, host
    status, _, body = ask(server.port, "/livereload.js", host)
    assert status == 200 and b"LiveReload" in body, host
    status, _, _ = ask(server.port, "/articles/arms-for-food/", host)
    assert status == 200, host
    status, _, _ = ask(server.port, "/livereload", host)  # a plain GET of the websocket path: not an upgrade
    assert status == 400, host


@pytest.mark.parametrize("host", [
    "attacker.example", "attacker.example:{port}", "ATTACKER.example:{port}", "localhost.attacker.example:{port}",
    "127.0.0.1.nip.io:{port}", "localhost:{other}", "127.0.0.1:{other}", "[::1]:{other}", "127.0.0.2:{port}",
    "10.0.0.1:{port}", "0.0.0.0:{port}", "[::2]:{port}", "[::ffff:127.0.0.1]:{port}",
])
def test_other_names_get_421_on_every_path(server, host):
    host = host.format(port=server.port, other=other_port(server.port))
    for path in PATHS:
        status, headers, body = ask(server.port, path, host)
        assert status == 421, (host, path, status)
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert body.startswith(b"421: the Host header does not name this server") and body.count(b"\n") == 1
        assert b"Arms for food" not in body and b"LiveReload" not in body


@pytest.mark.parametrize("host", ["", "::1", "[::1", "127.0.0.1:{port}:{port}", "a b", "127.0.0.1:99999"])
def test_malformed_host_values_are_refused(server, host):
    status, _, body = ask(server.port, "/", host.format(port=server.port))
    assert status in (400, 421), (host, status)
    assert b"Arms for food" not in body


def test_a_request_without_host_is_answered(server):
    """HTTP/1.0 tools may leave Host out; a browser never does, so it cannot be a rebinding."""
    status, _, body = ask(server.port, "/", None)
    assert status == 200 and b"Arms for food" in body


def test_bound_to_every_interface_it_answers_addresses_and_its_name(exposed):
    port = exposed.port
    machine = socket.gethostname().lower()
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"192.0.2.10:{port}", "192.0.2.10",
                 f"[2001:db8::1]:{port}", f"{machine}:{port}"):
        status, _, body = ask(port, "/", host)
        assert status == 200 and b"Arms for food" in body, host
    for host in (f"attacker.example:{port}", f"{machine}.attacker.example:{port}", f"192.0.2.10:{other_port(port)}"):
        status, _, _ = ask(port, "/", host)
        assert status == 421, host


@pytest.mark.parametrize("bound,allowed,refused", [
    ("127.0.0.1", ["127.0.0.1:8000", "localhost", "[::1]:8000"], ["127.0.0.2:8000", "example.org", "localhost:8001"]),
    ("192.168.1.5", ["192.168.1.5:8000", "192.168.1.5", "localhost:8000"], ["192.168.1.6:8000", "mybox:8000"]),
    ("MyBox.lan", ["mybox.lan:8000", "MYBOX.LAN.", "127.0.0.1:8000"], ["mybox:8000", "lan:8000"]),
    ("::1", ["[::1]:8000", "[0::1]"], ["::1", "[::2]:8000"]),
    ("fe80::1", ["[fe80::1]:8000", "[FE80:0::1]"], ["[fe80::2]:8000"]),
])
def test_host_rule(bound, allowed, refused):
    rule = HostRule.bound_to(bound, 8000)
    for value in allowed:
        assert rule.allows(value), value
    for value in refused:
        assert not rule.allows(value), value
    assert rule.allows(None)


def test_split_host():
    assert split_host("LOCALHOST:8000") == ("localhost", 8000)
    assert split_host("localhost.") == ("localhost", None)
    assert split_host("[0:0::1]:80") == ("::1", 80)
    assert split_host("[127.0.0.1]") is None  # brackets are for IPv6 only
    assert split_host("::1") is None
    assert split_host("a:b") is None
    assert split_host("a:99999") is None
    assert split_host(":80") is None


# -- the live-reload websocket's Origin -------------------------------------------------------


async def handshake(port: int, origin: str | None, host: str | None = None, extra: dict | None = None) -> str:
    """Open /livereload with the given Origin (and Host), say hello; the server's answer."""
    headers = dict(extra or {})
    if origin is not None:
        headers["Origin"] = origin
    if host is not None:
        headers["Host"] = host
    ws = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers=headers,
                                             connect_timeout=30, request_timeout=30))
    try:
        await ws.write_message(json.dumps({"command": "hello",
                                           "protocols": ["http://livereload.com/protocols/official-7"]}))
        return json.loads(await asyncio.wait_for(ws.read_message(), 30))["command"]
    finally:
        ws.close()


async def refused(port: int, origin: str | None, host: str | None = None, extra: dict | None = None) -> int:
    try:
        await handshake(port, origin, host, extra)
    except HTTPClientError as exc:
        return exc.code
    return 0


def run_async(coro):
    # a loop of its own in a thread: a session's sync Playwright may already run one in this thread
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=120)


def test_websocket_from_the_servers_own_origin_is_accepted(server):
    port = server.port
    assert run_async(handshake(port, f"http://127.0.0.1:{port}")) == "hello"
    assert run_async(handshake(port, f"http://localhost:{port}", host=f"localhost:{port}")) == "hello"
    assert run_async(handshake(port, None)) == "hello", "a client that sends no Origin is not a browser page"


@pytest.mark.parametrize("origin", [
    "http://attacker.example", "http://attacker.example:{port}", "https://attacker.example",
    "http://127.0.0.1:{other}", "http://127.0.0.1", "http://localhost:{port}", "null",
    "http://127.0.0.1:{port}.attacker.example", "file://",
])
def test_websocket_from_another_origin_is_refused(server, origin):
    origin = origin.format(port=server.port, other=other_port(server.port))
    assert run_async(refused(server.port, origin)) == 403, origin


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site"])
def test_websocket_from_another_port_of_the_same_site_is_refused(server, fetch_site):
    """A page of another local server (``http://127.0.0.1:3000``) is same-site, not same-origin."""
    port = server.port
    origin = f"http://127.0.0.1:{other_port(port)}"
    assert run_async(refused(port, origin, extra={"Sec-Fetch-Site": fetch_site})) == 403


def test_websocket_on_a_rebound_name_is_refused(server):
    """A rebinding page's own origin matches its Host; the Host check refuses it."""
    port = server.port
    assert run_async(refused(port, f"http://attacker.example:{port}", host=f"attacker.example:{port}")) == 421


# -- the port --------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "-70000", "eighty"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path, port):
    site = make_site(tmp_path / "site")
    r = subprocess.run([sys.executable, "-m", "site_builder", "serve", "--site", str(site), f"--port={port}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("site-builder: error: argument --port: ") and ("0 to 65535" in last or "not a port" in last)
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_run_refuses_a_port_out_of_range(tmp_path):
    site = make_site(tmp_path / "site")
    with pytest.raises(UsageError, match="0 to 65535"):
        run_async(run(str(site), port=99999))
