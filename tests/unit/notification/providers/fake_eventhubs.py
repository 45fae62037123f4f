"""A minimal AMQP 1.0 peer on 127.0.0.1 that accepts Azure Event Hubs producers.

Microsoft's Event Hubs emulator runs only in Docker, which the test machines lack. This peer
speaks just enough of AMQP 1.0 (SASL, open/begin/attach/flow/transfer/disposition, the CBS
``put-token`` exchange) for the official ``azure-eventhub`` producer, reached through a
connection string with ``UseDevelopmentEmulator=true`` exactly as it would reach the emulator.
Frames are encoded and decoded with the SDK's own AMQP codec (``azure.eventhub._pyamqp``, a
private module: this file is test code and moves with the pinned SDK range).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field
from typing import Any

from azure.eventhub._pyamqp import performatives as frames
from azure.eventhub._pyamqp._decode import decode_frame, decode_payload
from azure.eventhub._pyamqp._encode import encode_frame, encode_payload
from azure.eventhub._pyamqp.endpoints import Source, Target
from azure.eventhub._pyamqp.message import Message, Properties
from azure.eventhub._pyamqp.outcomes import Accepted

SASL_HEADER = b"AMQP\x03\x01\x00\x00"
AMQP_HEADER = b"AMQP\x00\x01\x00\x00"
_OPEN, _BEGIN, _ATTACH, _TRANSFER, _DETACH, _END, _CLOSE = 0x10, 0x11, 0x12, 0x14, 0x16, 0x17, 0x18
_SOURCE, _TARGET = 0x28, 0x29


def _address(terminus: Any, code: int) -> str:
    if isinstance(terminus, dict):
        terminus = terminus.get(code)
    value = terminus[0] if terminus else ""
    return value.decode() if isinstance(value, bytes) else str(value or "")


@dataclass
class FakeEventHubs:
    """Records each event body sent to a hub, and each CBS token presented."""

    reject_tokens: bool = False
    events: list[tuple[str, bytes]] = field(default_factory=list)
    """(link address, event body) in arrival order."""
    tokens: list[bytes] = field(default_factory=list)
    port: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()

    def connection_string(self, hub: str = "flux-events") -> str:
        return (
            f"Endpoint=sb://127.0.0.1:{self.port};SharedAccessKeyName=send;"
            f"SharedAccessKey=c2VjcmV0LWtleQ==;EntityPath={hub};UseDevelopmentEmulator=true"
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._connection(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[int, int, list[Any] | None]:
        size = struct.unpack(">I", await reader.readexactly(4))[0]
        rest = await reader.readexactly(size - 4)
        offset, channel = rest[0] * 4 - 4, struct.unpack(">H", rest[2:4])[0]
        if len(rest) <= offset:
            return channel, -1, None  # heartbeat
        code, fields = decode_frame(memoryview(rest[offset:]))
        return channel, code, fields

    @staticmethod
    def _write(
        writer: asyncio.StreamWriter, frame: Any, *, channel: int = 0, kind: bytes = b"\x00"
    ) -> None:
        header, body = encode_frame(frame, kind)
        writer.write(header[:6] + struct.pack(">H", channel) + (bytes(body) if body else b""))

    async def _sasl(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        writer.write(SASL_HEADER)
        self._write(writer, frames.SASLMechanism([b"ANONYMOUS", b"MSSBCBS"]), kind=b"\x01")
        await writer.drain()
        await self._read(reader)  # sasl-init: any mechanism is accepted
        self._write(writer, frames.SASLOutcome(0, None), kind=b"\x01")
        await writer.drain()
        return await reader.readexactly(8)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header = await reader.readexactly(8)
        if header == SASL_HEADER:
            header = await self._sasl(reader, writer)
        assert header == AMQP_HEADER, header
        writer.write(AMQP_HEADER)
        incoming: dict[int, str] = {}
        """Handles the client sends on -> their target address."""
        reply_handle = 0
        delivery = 0
        while True:
            channel, code, fields = await self._read(reader)
            if fields is None:
                continue
            if code == _OPEN:
                self._write(
                    writer,
                    frames.OpenFrame(
                        "fake-eventhubs", None, 1 << 20, 65535, None, None, None, None, None, None
                    ),
                )
            elif code == _BEGIN:
                self._write(
                    writer,
                    frames.BeginFrame(channel, 0, 5000, 5000, 255, None, None, None),
                    channel=channel,
                )
            elif code == _ATTACH:
                name, handle, client_receives = fields[0], fields[1], fields[2]
                source, target = _address(fields[5], _SOURCE), _address(fields[6], _TARGET)
                self._write(
                    writer,
                    frames.AttachFrame(
                        name,
                        handle,
                        not client_receives,
                        None,
                        None,
                        Source(address=source) if source else None,
                        Target(address=target) if target else None,
                        None,
                        None,
                        0 if client_receives else None,
                        1 << 20,
                        None,
                        None,
                        None,
                    ),
                    channel=channel,
                )
                if client_receives:
                    reply_handle = handle
                else:
                    incoming[handle] = target
                    self._write(
                        writer,
                        frames.FlowFrame(0, 5000, 0, 5000, handle, 0, 100, None, None, None, None),
                        channel=channel,
                    )
            elif code == _TRANSFER:
                handle, delivery_id = fields[0], fields[1]
                message = decode_payload(fields[-1])
                if incoming.get(handle, "").endswith("$cbs"):
                    self.tokens.append(message.value)
                    self._write(
                        writer, self._cbs_reply(message, reply_handle, delivery), channel=channel
                    )
                    delivery += 1
                else:
                    self._record(incoming.get(handle, ""), message)
                self._write(
                    writer,
                    frames.DispositionFrame(True, delivery_id, delivery_id, True, Accepted(), None),
                    channel=channel,
                )
            elif code == _DETACH:
                self._write(writer, frames.DetachFrame(fields[0], True, None), channel=channel)
            elif code == _END:
                self._write(writer, frames.EndFrame(None), channel=channel)
            elif code == _CLOSE:
                self._write(writer, frames.CloseFrame(None))
                await writer.drain()
                return
            await writer.drain()

    def _cbs_reply(self, request: Message, handle: int, delivery: int) -> Any:
        status = 401 if self.reject_tokens else 202
        reply = Message(
            properties=Properties(correlation_id=request.properties.message_id),
            application_properties={
                b"status-code": status,
                b"status-description": b"Unauthorized" if self.reject_tokens else b"Accepted",
            },
        )
        payload = bytearray()
        encode_payload(payload, reply)
        return frames.TransferFrame(
            handle=handle,
            delivery_id=delivery,
            delivery_tag=struct.pack(">I", delivery),
            message_format=0,
            settled=True,
            payload=bytes(payload),
        )

    def _record(self, address: str, message: Message) -> None:
        # A producer sends a batch: each data section is one encoded inner message.
        for section in message.data or []:
            inner = decode_payload(memoryview(section))
            self.events.extend((address, bytes(body)) for body in inner.data or [])
