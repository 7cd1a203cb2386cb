"""Small helpers around WAV files of the spool."""

import os
import struct


def repair_wav(path):
    """Fix the RIFF/data sizes of a WAV file whose writer died (gateway crash)
    so that what was recorded stays playable. Return True when usable."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return False
    if size <= 44:
        return False
    with open(path, "r+b") as fh:
        header = fh.read(44)
        if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return False
        # find the data chunk (pjmedia writes a canonical 44-byte header)
        fh.seek(12)
        offset = 12
        while offset + 8 <= size:
            fh.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            if chunk_id == b"data":
                data_size = size - offset - 8
                data_size -= data_size % 2
                fh.seek(offset + 4)
                fh.write(struct.pack("<I", data_size))
                fh.seek(4)
                fh.write(struct.pack("<I", offset + data_size))
                return True
            offset += 8 + chunk_size
    return False
