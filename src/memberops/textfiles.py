"""Reading the text files chains export: any encoding they use, errors that name the line.

Chinese POS systems often write GBK or GB18030; a file that is not in the encoding asked
for is refused with the line of the first bad byte and the encoding it most likely is in.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from memberops.errors import ValidationError

__all__ = ["text_lines"]


# Encodings Chinese POS and spreadsheet exports use besides UTF-8, most likely first.
_LIKELY_ENCODINGS = ("gb18030", "big5", "utf-16")


def _likely_encoding(sample: bytes) -> str | None:
    """The first common non-UTF-8 encoding the sample decodes in, if any."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for name in _LIKELY_ENCODINGS:
        try:
            sample.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    return None


def text_lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """Lines of a text file in `encoding` (a UTF-8 BOM tolerated); a bad byte is an error
    naming the line and, when it is not UTF-8, the encoding the file most likely is in."""
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise ValidationError(path.name, "--encoding", "is not a known text encoding") from None
    name = "utf-8-sig" if codec.name == "utf-8" else codec.name
    decoder = codecs.getincrementaldecoder(name)(errors="strict")
    line_no = 0
    pending = ""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            final = not chunk
            try:
                text = pending + decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                good = chunk[: max(exc.start, 0)].decode(name, errors="replace")
                bad_line = line_no + (pending + good).count("\n") + 1
                reason = f"is not valid {codec.name.upper()} text"
                likely = _likely_encoding(chunk[: 1 << 16]) if codec.name == "utf-8" else None
                if likely is not None:
                    reason += f"; the file looks like {likely} (use --encoding {likely})"
                raise ValidationError(f"{path.name} line {bad_line}", "-", reason) from None
            parts = text.split("\n")
            pending = parts.pop()
            for part in parts:
                line_no += 1
                yield line_no, part + "\n"
            if final:
                if pending:
                    yield line_no + 1, pending
                return
