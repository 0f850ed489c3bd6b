"""Privacy of the real `python -m bot`: on the wire it talks to the Bot API only (a proxy canary sees every
connection), and on disk everything it keeps is owner-only."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import stat
import sys
from pathlib import Path
from urllib.parse import urlsplit

from core.paths import DEMO_HANDLE, DEMO_SAMPLES
from tests.botapi import LocalBotApi
from tests.test_bot_process import bot_environment

CHAT = 4004
QUIET_SECONDS = 15.0  # onnxruntime's telemetry first went out ~10 s after start-up (issue #15)


class CanaryProxy:
    """An HTTP proxy that records the target of every connection made through it. It forwards plain-HTTP
    requests for `allowed` (host, port) and refuses everything else, tunnels (CONNECT) included."""

    def __init__(self, allowed: tuple[str, int]) -> None:
        self.allowed = allowed
        self.seen: list[tuple[str, str, int]] = []  # (method, host, port), one per connection
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> CanaryProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        method, target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
        else:
            parts = urlsplit(target)
            host, port = parts.hostname or "", str(parts.port or 80)
        self.seen.append((method, host, int(port)))
        if method == "CONNECT" or (host, int(port)) != self.allowed:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        upstream_writer.write(head)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    sink.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_python_m_bot_connects_to_the_bot_api_only_and_keeps_its_files_owner_only(tmp_path: Path) -> None:
    async with (
        LocalBotApi(token="777001:privacy-test-token") as server,
        CanaryProxy(("127.0.0.1", server.port)) as proxy,
    ):
        env = bot_environment(server, tmp_path) | {"LIKEPREDICT_LOG_LEVEL": "INFO"}
        # Every way a library finds a proxy points at the canary; nothing is exempt (localhost included).
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env[name] = proxy.url
        env["NO_PROXY"] = env["no_proxy"] = ""
        with (tmp_path / "bot.log").open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=log, stderr=log
            )
        try:
            server.send_text(CHAT, f"/handle {DEMO_HANDLE}")
            await server.next_messages(CHAT, timeout=90)
            server.send_photo(CHAT, (DEMO_SAMPLES / "valley.jpg").read_bytes())
            [answer] = await server.next_messages(CHAT, timeout=90)
            assert "this photo should get about" in answer.plain_text
            await asyncio.sleep(QUIET_SECONDS)  # time for anything that phones home late
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=60)
    assert process.returncode == 0, (tmp_path / "bot.log").read_text()[-2000:]

    assert ("POST", "127.0.0.1", server.port) in proxy.seen  # the bot's own traffic did go through the canary
    assert {(host, port) for _, host, port in proxy.seen} == {("127.0.0.1", server.port)}, proxy.seen

    data = tmp_path / "data"
    database = [tmp_path / name for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm")]
    folders = [data, *(p for p in data.rglob("*") if p.is_dir())]
    files = [*(p for p in database if p.exists()), *(p for p in data.rglob("*") if p.is_file())]
    assert any(p.suffix == ".jpg" for p in files)  # the photo was stored
    assert {str(p): mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    assert {str(p): mode(p) for p in files} == {str(p): 0o600 for p in files}
