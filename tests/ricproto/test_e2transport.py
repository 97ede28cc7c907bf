"""E2 transports over real sockets: framed TCP round trips and rejection, SCTP against the real probe."""

from __future__ import annotations

import asyncio
import struct

import pytest

from ricproto import e2transport
from ricproto.e2transport import (
    E2ConnectionClosed,
    E2TransportError,
    SctpUnavailable,
    choose_transport,
    connect,
    serve,
)
from ricproto.sctp import kernel_sctp


def bad_input(reason: str) -> float:
    return e2transport.BAD_INPUT.labels(reason=reason)._value.get()


def frame(pdu: bytes) -> bytes:
    return struct.pack(">I", len(pdu)) + pdu


async def collecting_server(max_pdu: int = 1024) -> tuple[e2transport.E2Server, asyncio.Queue]:
    """A framed-TCP server that puts every PDU (or the error that ended the connection) on a queue."""
    got: asyncio.Queue = asyncio.Queue()

    async def handler(conn: e2transport.E2Connection) -> None:
        while True:
            try:
                got.put_nowait(await conn.recv_pdu())
            except E2TransportError as exc:
                got.put_nowait(exc)
                return

    return await serve(handler, "127.0.0.1", 0, "tcp", max_pdu_bytes=max_pdu), got


def test_framed_tcp_echo_round_trip() -> None:
    async def run() -> list[bytes]:
        async def echo(conn: e2transport.E2Connection) -> None:
            while True:
                try:
                    pdu = await conn.recv_pdu()
                except E2ConnectionClosed:
                    return
                await conn.send_pdu(pdu[::-1], stream=1)

        server = await serve(echo, "127.0.0.1", 0, "tcp")
        try:
            client = await connect("127.0.0.1", server.port, "tcp")
            pdus = [bytes([i % 256]) * (1 + i * 37) for i in range(60)]
            for pdu in pdus:
                await client.send_pdu(pdu)
            back = [await client.recv_pdu() for _ in pdus]
            await client.close()
            assert back == [p[::-1] for p in pdus]
            return back
        finally:
            await server.close()

    assert len(asyncio.run(run())) == 60


def test_partial_reads_and_many_pdus_per_read() -> None:
    async def run() -> list[object]:
        server, got = await collecting_server()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            stream = b"".join(frame(bytes([n]) * n) for n in range(1, 40))
            # First half one byte at a time (headers split across reads) ...
            half = len(stream) // 2
            for i in range(half):
                writer.write(stream[i : i + 1])
                await writer.drain()
                if i % 25 == 0:
                    await asyncio.sleep(0)
            # ... then the rest, many PDUs in a single write.
            writer.write(stream[half:])
            await writer.drain()
            items = [await asyncio.wait_for(got.get(), 5) for _ in range(39)]
            writer.close()
            end = await asyncio.wait_for(got.get(), 5)
            items.append(end)
            return items
        finally:
            await server.close()

    items = asyncio.run(run())
    assert items[:39] == [bytes([n]) * n for n in range(1, 40)]
    assert isinstance(items[39], E2ConnectionClosed)


@pytest.mark.parametrize(
    ("prefix", "reason"), [(1025, "oversize-length"), (0, "zero-length"), (0xFFFFFFFF, "oversize-length")]
)
def test_malformed_length_is_rejected_counted_and_closes(prefix: int, reason: str) -> None:
    before = bad_input(reason)

    async def run() -> tuple[list[object], bytes]:
        server, got = await collecting_server(max_pdu=1024)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(frame(b"good") + struct.pack(">I", prefix) + b"x" * 64)
            await writer.drain()
            first = await asyncio.wait_for(got.get(), 5)
            err = await asyncio.wait_for(got.get(), 5)
            rest = await asyncio.wait_for(reader.read(), 5)  # server closed the connection: EOF
            writer.close()
            return [first, err], rest
        finally:
            await server.close()

    (first, err), rest = asyncio.run(run())
    assert first == b"good"  # data accepted before the bad frame is not lost
    assert isinstance(err, E2TransportError) and err.reason == reason
    assert str(prefix) in str(err)
    assert rest == b""
    assert bad_input(reason) == before + 1


def test_truncated_pdu_is_reported() -> None:
    before = bad_input("truncated-pdu")

    async def run() -> object:
        server, got = await collecting_server()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(struct.pack(">I", 100) + b"only-ten!!")
            await writer.drain()
            writer.close()
            return await asyncio.wait_for(got.get(), 5)
        finally:
            await server.close()

    err = asyncio.run(run())
    assert isinstance(err, E2TransportError) and err.reason == "truncated-pdu"
    assert "10 of 100" in str(err)
    assert bad_input("truncated-pdu") == before + 1


def test_sending_oversize_or_empty_pdu_raises_before_writing() -> None:
    async def run() -> None:
        server, got = await collecting_server(max_pdu=1024)
        try:
            client = await connect("127.0.0.1", server.port, "tcp", max_pdu_bytes=1024)
            with pytest.raises(E2TransportError, match="oversize-pdu"):
                await client.send_pdu(b"z" * 1025)
            with pytest.raises(E2TransportError, match="empty-pdu"):
                await client.send_pdu(b"")
            await client.send_pdu(b"after")
            assert await asyncio.wait_for(got.get(), 5) == b"after"
            await client.close()
        finally:
            await server.close()

    asyncio.run(run())


def test_transport_choice_follows_the_kernel_probe() -> None:
    probe = kernel_sctp()
    assert choose_transport("tcp") == "tcp"
    if probe.available:
        assert choose_transport("auto") == "sctp"
        assert choose_transport("sctp") == "sctp"
    else:
        assert choose_transport("auto") == "tcp"
        with pytest.raises(SctpUnavailable) as info:
            choose_transport("sctp")
        assert info.value.reason == "sctp-unavailable"
        assert probe.reason in str(info.value)


def test_sctp_path_round_trip_or_clear_error() -> None:
    probe = kernel_sctp()

    async def run() -> None:
        if not probe.available:
            with pytest.raises(SctpUnavailable, match="IPPROTO_SCTP"):
                await connect("127.0.0.1", 36422, "sctp")
            with pytest.raises(SctpUnavailable, match="IPPROTO_SCTP"):
                await serve(lambda conn: asyncio.sleep(0), "127.0.0.1", 0, "sctp")
            return
        got: asyncio.Queue = asyncio.Queue()

        async def handler(conn: e2transport.E2Connection) -> None:
            pdu = await conn.recv_pdu()
            got.put_nowait((pdu, conn.last_ppid, conn.last_stream))  # type: ignore[attr-defined]

        server = await serve(handler, "127.0.0.1", 0, "sctp")
        try:
            client = await connect("127.0.0.1", server.port, "sctp")
            await client.send_pdu(b"\x00\x01e2setup", stream=1)
            pdu, ppid, stream = await asyncio.wait_for(got.get(), 5)
            assert (pdu, ppid, stream) == (b"\x00\x01e2setup", 70, 1)
            await client.close()
        finally:
            await server.close()

    asyncio.run(run())
