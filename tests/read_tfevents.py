#!/usr/bin/python3
"""An independent reader of TensorBoard event files, for the tests.

Checks the TFRecord framing and both masked CRC-32Cs of every record (with
python3-crc32c), decodes the Event and Summary messages from the protobuf
wire format by hand (TensorBoard's field numbers: Event.wall_time 1,
step 2, file_version 3, summary 5; Summary.value 1; Value.tag 1,
simple_value 2), and prints one JSON object per event.

    read_tfevents.py FILE  ->  {"step": 3, "wall_time": ..., "values": {...}}
"""
import json
import struct
import sys

import crc32c


def masked_crc(data):
    crc = crc32c.crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(blob):
    at = 0
    while at < len(blob):
        if len(blob) - at < 12:
            raise ValueError(f"truncated record header at byte {at}")
        header = blob[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", blob[at + 8:at + 12])
        if header_crc != masked_crc(header):
            raise ValueError(f"bad length CRC at byte {at}")
        data = blob[at + 12:at + 12 + length]
        if len(data) != length or len(blob) < at + 16 + length:
            raise ValueError(f"truncated record at byte {at}")
        (data_crc,) = struct.unpack("<I", blob[at + 12 + length:at + 16 + length])
        if data_crc != masked_crc(data):
            raise ValueError(f"bad data CRC at byte {at}")
        yield data
        at += 16 + length


def varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def fields(data):
    """(field number, wire type, value) of each field of a message."""
    at = 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 1:
            value, at = data[at:at + 8], at + 8
        elif wire == 2:
            length, at = varint(data, at)
            value, at = data[at:at + length], at + length
        elif wire == 5:
            value, at = data[at:at + 4], at + 4
        else:
            raise ValueError(f"unexpected wire type {wire}")
        yield number, wire, value


def decode_event(data):
    event = {"step": 0, "values": {}}
    for number, wire, value in fields(data):
        if number == 1 and wire == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2 and wire == 0:
            event["step"] = value
        elif number == 3 and wire == 2:
            event["file_version"] = value.decode()
        elif number == 5 and wire == 2:
            for vnumber, _, summary_value in fields(value):
                if vnumber != 1:
                    continue
                tag, simple = None, None
                for n, w, v in fields(summary_value):
                    if n == 1 and w == 2:
                        tag = v.decode()
                    elif n == 2 and w == 5:
                        simple = struct.unpack("<f", v)[0]
                event["values"][tag] = simple
    return event


def main():
    with open(sys.argv[1], "rb") as f:
        blob = f.read()
    for data in records(blob):
        print(json.dumps(decode_event(data)))


if __name__ == "__main__":
    main()
