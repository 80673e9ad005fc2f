"""A small, fast QR encoder for case references: versions 1 to 3, error correction M, mask 0.

A general encoder spent more time on one QR code than ReportLab spent on the rest of the
letter. Case references are short, so everything that does not depend on the text (function
patterns, format bits, the module order, the mask) is computed once per version, and each
code is only its bits, one Reed-Solomon division and one pass over the data modules.
Longer or unusual payloads go to segno. The tests check both give the same modules.
"""

from __future__ import annotations

from functools import cache

import segno

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALNUM_INDEX = {c: i for i, c in enumerate(ALNUM)}
# version -> (data codewords, error correction codewords), level M, a single block each
_CAPACITY = {1: (16, 10), 2: (28, 16), 3: (44, 26)}
_FORMAT_M_MASK0 = 0x5412  # BCH-coded format bits for level M, mask 0, XOR-masked

_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    _EXP[_power] = _EXP[_power - 255]


def matrix(payload: str) -> list[bytearray]:
    """Rows of modules (1 = dark), without the quiet zone."""
    bits = _data_bits(payload)
    fits = [v for v, (data, _) in _CAPACITY.items() if bits is not None and len(bits) <= data * 8]
    if bits is None or not fits:
        code = segno.make_qr(payload, error="m", boost_error=False, mask=0)
        return [bytearray(row) for row in code.matrix]
    version = fits[0]
    data_count, ec_count = _CAPACITY[version]
    codewords = _codewords(bits, data_count)
    codewords += _remainder(codewords, ec_count)
    template, order = _layout(version)
    rows = [bytearray(row) for row in template]
    stream = [(byte >> (7 - i)) & 1 for byte in codewords for i in range(8)]
    stream += [0] * (len(order) - len(stream))  # remainder bits
    for (y, x), bit in zip(order, stream, strict=True):
        rows[y][x] = bit ^ ((x + y) % 2 == 0)
    return rows


def _data_bits(payload: str) -> list[int] | None:
    """Mode, count and data bits; None when the payload needs more than one simple segment."""
    out: list[int] = []

    def put(value: int, width: int) -> None:
        out.extend((value >> i) & 1 for i in range(width - 1, -1, -1))

    if all(c in _ALNUM_INDEX for c in payload):
        put(0b0010, 4)
        put(len(payload), 9)
        for i in range(0, len(payload) - 1, 2):
            put(_ALNUM_INDEX[payload[i]] * 45 + _ALNUM_INDEX[payload[i + 1]], 11)
        if len(payload) % 2:
            put(_ALNUM_INDEX[payload[-1]], 6)
        return out
    if not payload.isascii():
        return None  # segno picks the encoding (and ECI) for other characters
    data = payload.encode("ascii")
    put(0b0100, 4)
    put(len(data), 8)
    for byte in data:
        put(byte, 8)
    return out


def _codewords(bits: list[int], data_count: int) -> list[int]:
    capacity = data_count * 8
    bits = bits + [0] * min(4, capacity - len(bits))
    bits += [0] * (-len(bits) % 8)
    words = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = (0xEC, 0x11)
    words += [pad[i % 2] for i in range(data_count - len(words))]
    return words


def _remainder(data: list[int], ec_count: int) -> list[int]:
    """Reed-Solomon error correction codewords of `data`."""
    generator = _generator(ec_count)
    result = [0] * ec_count
    for byte in data:
        factor = byte ^ result[0]
        result = [*result[1:], 0]
        if factor:
            log_factor = _LOG[factor]
            for i, coefficient in enumerate(generator):
                result[i] ^= _EXP[_LOG[coefficient] + log_factor]
    return result


@cache
def _generator(degree: int) -> tuple[int, ...]:
    """Coefficients (highest first, leading 1 dropped) of prod (x - a^i), i < degree."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coefficient in enumerate(poly):
            nxt[j] ^= coefficient
            if coefficient:
                nxt[j + 1] ^= _EXP[_LOG[coefficient] + i]
        poly = nxt
    return tuple(poly[1:])


@cache
def _layout(version: int) -> tuple[tuple[bytes, ...], tuple[tuple[int, int], ...]]:
    """The version's function patterns (format bits included) and its data module order."""
    size = 17 + 4 * version
    modules = [[0] * size for _ in range(size)]
    function = [[False] * size for _ in range(size)]

    def put(x: int, y: int, dark: bool) -> None:
        modules[y][x], function[y][x] = int(dark), True

    for i in range(size):  # timing patterns
        put(6, i, i % 2 == 0)
        put(i, 6, i % 2 == 0)
    for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):  # finders with separators
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                x, y = cx + dx, cy + dy
                if 0 <= x < size and 0 <= y < size:
                    ring = max(abs(dx), abs(dy))
                    put(x, y, ring not in (2, 4))
    if version > 1:  # the one alignment pattern of versions 2 to 6
        centre = size - 7
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                put(centre + dx, centre + dy, max(abs(dx), abs(dy)) != 1)
    bits = _FORMAT_M_MASK0
    bit = [((bits >> i) & 1) == 1 for i in range(15)]
    for i in range(6):
        put(8, i, bit[i])
    put(8, 7, bit[6])
    put(8, 8, bit[7])
    put(7, 8, bit[8])
    for i in range(9, 15):
        put(14 - i, 8, bit[i])
    for i in range(8):
        put(size - 1 - i, 8, bit[i])
    for i in range(8, 15):
        put(8, size - 15 + i, bit[i])
    put(8, size - 8, True)  # the dark module
    order = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        for vert in range(size):
            for j in range(2):
                x = right - j
                upward = ((right + 1) & 2) == 0
                y = size - 1 - vert if upward else vert
                if not function[y][x]:
                    order.append((y, x))
        right -= 2
    return tuple(bytes(row) for row in modules), tuple(order)
