"""Per-socket reassembly of SI95 frames from a TCP byte stream (RMR's "river" accumulator)."""

from __future__ import annotations

from ricproto.rmr.frame import MIN_FRAME, FrameError, decode_at, frame_length
from ricproto.rmr.message import RmrMessage

DEFAULT_MAX_FRAME = 64 * 1024 * 1024


class FrameStream:
    """Collects bytes read from one socket and returns the messages of every complete frame.

    Partial length fields and partial frames are kept for the next read; any number of frames per
    read is handled. There is no resynchronisation in SI95, so a nonsense transport length is fatal
    for the stream: ``feed`` reports it and the caller drops the connection. A frame whose length is
    sane but whose RMR header is inconsistent is skipped and reported; the stream stays in step.
    """

    __slots__ = ("_buf", "max_frame")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._buf = bytearray()
        self.max_frame = max_frame

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame waiting for more data."""
        return len(self._buf)

    def feed(self, data: bytes | memoryview) -> tuple[list[RmrMessage], list[FrameError], FrameError | None]:
        """Add ``data``; return (messages, skipped-frame errors, fatal stream error or None).

        ``data`` may be a view of the caller's reusable read buffer: nothing refers to it afterwards.
        """
        buf = self._buf
        if buf:
            buf += data
            src: bytes | bytearray | memoryview = buf
        else:
            src = data
        messages: list[RmrMessage] = []
        skipped: list[FrameError] = []
        fatal: FrameError | None = None
        end = len(src)
        pos = 0
        view = memoryview(src)
        try:
            while end - pos >= 9:
                length = frame_length(view, pos)
                if length < 0:
                    fatal = FrameError(f"negative frame length {length}", "negative_length")
                    break
                if length < MIN_FRAME:
                    fatal = FrameError(f"frame length {length} below the {MIN_FRAME}-byte minimum",
                                       "short_length")
                    break
                if length > self.max_frame:
                    fatal = FrameError(f"frame length {length} above the {self.max_frame}-byte limit",
                                       "huge_length")
                    break
                if end - pos < length:
                    break
                try:
                    messages.append(decode_at(view, pos, length))
                except FrameError as exc:
                    skipped.append(exc)
                pos += length
        finally:
            view.release()  # before the accumulator is resized below
        if fatal is not None:
            self._buf = bytearray()
        elif src is buf:
            del buf[:pos]
        elif pos < end:
            self._buf = bytearray(data[pos:])
        return messages, skipped, fatal
