"""Bitmaps (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) and HyperLogLog (PFADD
PFCOUNT PFMERGE PFDEBUG PFSELFTEST) against Debian's redis-server 7.0, byte for byte.

- Tables of commands replayed on both servers (RESP2, and RESP3 for the groups whose replies
  change shape): every option, every error text, empty and missing keys, wrong types,
  integer-encoded strings, negative and huge indexes, out-of-range offsets.
- Seeded random bitmap workloads compared reply by reply.
- HLL values: the raw string (GET) after the same PFADDs is identical on both servers for set
  sizes from 0 to 200000 (sparse, promotion, dense), PFCOUNT is identical, and a value written
  by one server and SET into the other reads back and keeps growing identically.
- Corrupted HLL values (truncated opcodes, wrong register totals, bad headers, stale or valid
  caches) give the same replies: a result, -INVALIDOBJ or WRONGTYPE.
- Keyspace notifications, WATCH invalidation (nothing changed: nothing signalled), propagation
  (the AOF written by each server), INFO errorstats, COMMAND INFO / DOCS.

Run against REDOUBT_SERVER=/usr/bin/redis-server as well: the tables then validate themselves.
"""

import random
import time
import uuid

import pytest

from compare import RawConnection, compare_command_group, missing_commands, parse_resp, run_group

BIT_COMMANDS = ["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"]
HLL_COMMANDS = ["pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest"]
ALL_COMMANDS = BIT_COMMANDS + HLL_COMMANDS


def latin1(client):
    """Arguments are str with one code point per byte (binary HLL values)."""
    return RawConnection(client, "latin-1")


def b2s(data: bytes) -> str:
    return data.decode("latin-1")


# ---------------------------------------------------------------------------
# HLL values built by hand (Redis's format: see server/types/hyperloglog.c)
# ---------------------------------------------------------------------------
def hll_header(encoding=1, card=0, stale=True, unused=b"\0\0\0", magic=b"HYLL"):
    card_field = card | ((1 << 63) if stale else 0)
    return magic + bytes([encoding]) + unused + card_field.to_bytes(8, "little")


def op_zero(n):
    assert 1 <= n <= 64
    return bytes([n - 1])


def op_xzero(n):
    assert 1 <= n <= 16384
    return bytes([0x40 | ((n - 1) >> 8), (n - 1) & 0xff])


def op_val(value, n):
    assert 1 <= value <= 32 and 1 <= n <= 4
    return bytes([0x80 | ((value - 1) << 2) | (n - 1)])


EMPTY_SPARSE = hll_header() + op_xzero(16384)
# Registers 0..2 = 3, then zeros: a valid sparse value with a stale cache.
SMALL_SPARSE = hll_header() + op_val(3, 3) + op_xzero(16381)


def dense_value(registers, card=0, stale=True):
    """A dense HLL from 16384 register values (0..63)."""
    out = bytearray(12288)
    for i, v in enumerate(registers):
        bit = i * 6
        byte, shift = bit // 8, bit % 8
        out[byte] |= (v << shift) & 0xff
        if shift > 2:
            out[byte + 1] |= v >> (8 - shift)
    return hll_header(0, card, stale) + bytes(out)


# Corrupted or unusual values: (name, bytes). Each is SET and then read and written by every
# HLL command; both servers must answer alike.
CORRUPT_HLLS = [
    ("header_only", hll_header()),
    ("too_short", b"HYLL\x01\0\0"),
    ("bad_magic", b"HYLX" + EMPTY_SPARSE[4:]),
    ("bad_encoding", EMPTY_SPARSE[:4] + b"\x02" + EMPTY_SPARSE[5:]),
    ("dense_too_short", hll_header(0) + b"\0" * 12287),
    ("dense_too_long", hll_header(0) + b"\0" * 12289),
    ("sparse_short_total", hll_header() + op_xzero(16000)),
    ("sparse_long_total", hll_header() + op_xzero(16384) + op_zero(5)),
    ("sparse_val_past_end", hll_header() + op_xzero(16383) + op_val(5, 4)),
    ("sparse_truncated_xzero", hll_header() + op_xzero(16000) + b"\x41"),
    ("sparse_truncated_xzero_small", hll_header() + op_xzero(16383) + b"\x40"),
    ("sparse_many_zero_runs", hll_header() + op_zero(64) * 300),
    ("sparse_valid_cache", hll_header(card=12345, stale=False) + op_xzero(100)),
    ("sparse_vals_only", hll_header() + op_val(32, 4) * 4096),
    # Registers complete, then more opcodes: corrupted (Debian's 7.0.15 has the fix for
    # CVE-2025-32023, which stops at the first opcode past the last register).
    ("sparse_val_after_full", hll_header() + op_xzero(16384) + op_val(3, 1)),
    ("sparse_vals_overflow", hll_header() + op_val(32, 4) * 4096 + op_val(1, 1)),
    ("sparse_zero_overflow", hll_header() + op_xzero(16000) + op_xzero(1000)),
    ("sparse_unused_bytes", hll_header(unused=b"abc") + op_xzero(16384)),
    ("sparse_unmerged_vals", hll_header() + op_val(2, 1) + op_val(2, 1) + op_xzero(16382)),
    ("dense_valid_cache", dense_value([0] * 16384, card=777, stale=False)),
    ("dense_high_registers", dense_value([(i * 7) % 64 for i in range(16384)])),
    ("dense_all_max", dense_value([63] * 16384)),
    ("integer", b"1234567"),
    ("empty_string", b""),
]


def corrupt_group(value: bytes):
    v = b2s(value)
    return [
        ["SET", "@h", v],
        ["PFCOUNT", "@h"],
        ["PFCOUNT", "@h", "@missing"],
        ["PFCOUNT", "@missing", "@h"],
        ["PFDEBUG", "ENCODING", "@h"],
        ["PFDEBUG", "DECODE", "@h"],
        ["PFMERGE", "@dst", "@h"],
        ["EXISTS", "@dst"],
        ["GET", "@h"],
        ["PFADD", "@h", "a", "b", "c", "hello", "world"],
        ["GET", "@h"],
        ["PFCOUNT", "@h"],
        ["GET", "@h"],
        ["SET", "@h2", v],
        ["PFMERGE", "@h2", "@missing"],
        ["GET", "@h2"],
        ["SET", "@h3", v],
        ["PFADD", "@h3"],
        ["PFDEBUG", "TODENSE", "@h3"],
        ["GET", "@h3"],
        ["SET", "@h4", v],
        ["PFDEBUG", "GETREG", "@h4"],
        ["GET", "@h4"],
        ["OBJECT", "ENCODING", "@h"],
    ]


# ---------------------------------------------------------------------------
# The comparison tables. "@x" is a key (prefixed per run).
# ---------------------------------------------------------------------------
BIG = "9223372036854775807"
GROUPS = {
    "setbit_getbit": [
        ["SETBIT", "@b", "0", "1"],
        ["GET", "@b"],
        ["SETBIT", "@b", "0", "1"],
        ["SETBIT", "@b", "0", "0"],
        ["SETBIT", "@b", "7", "1"],
        ["SETBIT", "@b", "100", "1"],
        ["STRLEN", "@b"],
        ["GET", "@b"],
        ["GETBIT", "@b", "7"],
        ["GETBIT", "@b", "6"],
        ["GETBIT", "@b", "100"],
        ["GETBIT", "@b", "101"],
        ["GETBIT", "@b", "100000"],
        ["GETBIT", "@b", "4294967295"],
        ["GETBIT", "@missing", "0"],
        ["GETBIT", "@missing", "4294967295"],
        ["SETBIT", "@z", "31", "0"],
        ["GET", "@z"],
        ["STRLEN", "@z"],
        ["SETBIT", "@z", "31", "0"],
        ["OBJECT", "ENCODING", "@b"],
        ["SET", "@e", ""],
        ["GETBIT", "@e", "0"],
        ["SETBIT", "@e", "3", "1"],
        ["GET", "@e"],
        ["SET", "@s", "ab"],
        ["OBJECT", "ENCODING", "@s"],
        ["SETBIT", "@s", "6", "1"],
        ["GET", "@s"],
        ["OBJECT", "ENCODING", "@s"],
        ["SET", "@t", "x", "EX", "1000"],
        ["SETBIT", "@t", "1", "1"],
        ["TTL", "@t"],
        ["GET", "@t"],
    ],
    "setbit_errors": [
        ["SETBIT", "@b", "-1", "1"],
        ["SETBIT", "@b", "abc", "1"],
        ["SETBIT", "@b", "1.5", "1"],
        ["SETBIT", "@b", "", "1"],
        ["SETBIT", "@b", " 1", "1"],
        ["SETBIT", "@b", "+1", "1"],
        ["SETBIT", "@b", "01", "1"],
        ["SETBIT", "@b", "#1", "1"],
        ["SETBIT", "@b", "4294967296", "1"],
        ["SETBIT", "@b", "4294967297", "1"],
        ["SETBIT", "@b", BIG, "1"],
        ["SETBIT", "@b", "9223372036854775808", "1"],
        ["SETBIT", "@b", "0", "2"],
        ["SETBIT", "@b", "0", "-1"],
        ["SETBIT", "@b", "0", "abc"],
        ["SETBIT", "@b", "0", ""],
        ["SETBIT", "@b", "0", "1.0"],
        ["SETBIT", "@b", "0", "01"],
        ["SETBIT", "@b", "0", BIG],
        ["SETBIT", "@b", "-1", "2"],
        ["SETBIT", "@b", "0"],
        ["SETBIT", "@b", "0", "1", "1"],
        ["SETBIT", "@b"],
        ["GETBIT", "@b"],
        ["GETBIT", "@b", "0", "1"],
        ["GETBIT", "@b", "-1"],
        ["GETBIT", "@b", "x"],
        ["GETBIT", "@b", "4294967296"],
        ["GETBIT", "@b", "#3"],
        ["EXISTS", "@b"],
    ],
    "int_encoded": [
        ["SET", "@n", "12345"],
        ["OBJECT", "ENCODING", "@n"],
        ["GETBIT", "@n", "2"],
        ["GETBIT", "@n", "3"],
        ["GETBIT", "@n", "39"],
        ["GETBIT", "@n", "40"],
        ["BITCOUNT", "@n"],
        ["BITCOUNT", "@n", "1", "2"],
        ["BITCOUNT", "@n", "3", "20", "BIT"],
        ["BITPOS", "@n", "1"],
        ["BITPOS", "@n", "0"],
        ["BITPOS", "@n", "0", "2"],
        ["BITPOS", "@n", "1", "9", "-1", "BIT"],
        ["BITFIELD", "@n", "GET", "u8", "0", "GET", "i16", "4", "GET", "u8", "40"],
        ["BITFIELD_RO", "@n", "GET", "i64", "0"],
        ["OBJECT", "ENCODING", "@n"],
        ["SET", "@m", "-987"],
        ["BITOP", "NOT", "@r", "@m"],
        ["GET", "@r"],
        ["BITOP", "AND", "@r2", "@m", "@n"],
        ["GET", "@r2"],
        ["SETBIT", "@n", "0", "1"],
        ["GET", "@n"],
        ["OBJECT", "ENCODING", "@n"],
        ["SET", "@k", "100"],
        ["BITFIELD", "@k", "INCRBY", "u8", "0", "1"],
        ["GET", "@k"],
        ["OBJECT", "ENCODING", "@k"],
        ["SET", "@p", "7"],
        ["PFADD", "@p", "a"],
        ["PFCOUNT", "@p"],
        ["SET", "@q", "42"],
        ["SETBIT", "@q", "7", "1"],
        ["GET", "@q"],
        ["INCR", "@q"],
    ],
    "bitcount": [
        ["SET", "@s", "foobar"],
        ["BITCOUNT", "@s"],
        ["BITCOUNT", "@s", "0", "0"],
        ["BITCOUNT", "@s", "1", "1"],
        ["BITCOUNT", "@s", "0", "-1"],
        ["BITCOUNT", "@s", "-1", "-1"],
        ["BITCOUNT", "@s", "-2", "-1"],
        ["BITCOUNT", "@s", "-1", "-2"],
        ["BITCOUNT", "@s", "-100", "-99"],
        ["BITCOUNT", "@s", "-100", "100"],
        ["BITCOUNT", "@s", "2", "1"],
        ["BITCOUNT", "@s", "5", "100"],
        ["BITCOUNT", "@s", "6", "100"],
        ["BITCOUNT", "@s", "100", "200"],
        ["BITCOUNT", "@s", "0", BIG],
        ["BITCOUNT", "@s", "-9223372036854775808", BIG],
        ["BITCOUNT", "@s", "-9223372036854775808", "-9223372036854775808"],
        ["BITCOUNT", "@s", "1", "1", "BYTE"],
        ["BITCOUNT", "@s", "1", "1", "byte"],
        ["BITCOUNT", "@s", "1", "1", "BiT"],
        ["BITCOUNT", "@s", "5", "30", "BIT"],
        ["BITCOUNT", "@s", "0", "-1", "BIT"],
        ["BITCOUNT", "@s", "-5", "-1", "BIT"],
        ["BITCOUNT", "@s", "-1", "-5", "BIT"],
        ["BITCOUNT", "@s", "-1", "-5", "FOO"],
        ["BITCOUNT", "@s", "3", "3", "BIT"],
        ["BITCOUNT", "@s", "7", "8", "BIT"],
        ["BITCOUNT", "@s", "47", "47", "BIT"],
        ["BITCOUNT", "@s", "48", "100", "BIT"],
        ["BITCOUNT", "@s", "0", BIG, "BIT"],
        ["BITCOUNT", "@s", "-9223372036854775808", "-1", "BIT"],
        ["BITCOUNT", "@s", "1", "1", "FOO"],
        ["BITCOUNT", "@s", "1", "1", ""],
        ["BITCOUNT", "@s", "1"],
        ["BITCOUNT", "@s", "1", "2", "BIT", "x"],
        ["BITCOUNT", "@s", "a", "1"],
        ["BITCOUNT", "@s", "1", "b"],
        ["BITCOUNT", "@s", "1", "1.5"],
        ["BITCOUNT", "@s", "9223372036854775808", "1"],
        ["BITCOUNT", "@missing"],
        ["BITCOUNT", "@missing", "0", "-1"],
        ["BITCOUNT", "@missing", "a", "b"],
        ["BITCOUNT", "@missing", "1"],
        ["SET", "@e", ""],
        ["BITCOUNT", "@e"],
        ["BITCOUNT", "@e", "0", "-1"],
        ["BITCOUNT", "@e", "0", "-1", "BIT"],
        ["BITCOUNT", "@e", "0", "0", "BIT"],
        ["SET", "@ff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"],
        ["BITCOUNT", "@ff"],
        ["BITCOUNT", "@ff", "1", "16"],
        ["BITCOUNT", "@ff", "3", "138", "BIT"],
        ["BITCOUNT"],
    ],
    "bitpos": [
        ["SET", "@s", "\xff\xf0\x00"],
        ["BITPOS", "@s", "0"],
        ["BITPOS", "@s", "1"],
        ["BITPOS", "@s", "0", "0"],
        ["BITPOS", "@s", "0", "1"],
        ["BITPOS", "@s", "0", "2"],
        ["BITPOS", "@s", "0", "3"],
        ["BITPOS", "@s", "1", "2"],
        ["BITPOS", "@s", "1", "3"],
        ["BITPOS", "@s", "0", "0", "0"],
        ["BITPOS", "@s", "0", "0", "-1"],
        ["BITPOS", "@s", "1", "-1"],
        ["BITPOS", "@s", "1", "-2", "-1"],
        ["BITPOS", "@s", "0", "-100", "100"],
        ["BITPOS", "@s", "1", "2", "1"],
        ["BITPOS", "@s", "0", "2", "1"],
        ["BITPOS", "@s", "1", "-9223372036854775808", BIG],
        ["BITPOS", "@s", "0", "0", "0", "BYTE"],
        ["BITPOS", "@s", "0", "0", "10", "BIT"],
        ["BITPOS", "@s", "0", "0", "11", "BIT"],
        ["BITPOS", "@s", "0", "0", "12", "BIT"],
        ["BITPOS", "@s", "1", "3", "7", "BIT"],
        ["BITPOS", "@s", "1", "9", "-1", "BIT"],
        ["BITPOS", "@s", "1", "12", "-1", "BIT"],
        ["BITPOS", "@s", "0", "12", "-1", "BIT"],
        ["BITPOS", "@s", "0", "-5", "-1", "bit"],
        ["BITPOS", "@s", "1", "-5", "-1", "bit"],
        ["BITPOS", "@s", "1", "5", "5", "BIT"],
        ["BITPOS", "@s", "0", "5", "5", "BIT"],
        ["BITPOS", "@s", "1", "4", "6", "BIT"],
        ["BITPOS", "@s", "0", "1", "6", "BIT"],
        ["BITPOS", "@s", "1", "10", "9", "BIT"],
        ["BITPOS", "@s", "0", "0", BIG, "BIT"],
        ["BITPOS", "@s", "1", "0", "0", "FOO"],
        ["BITPOS", "@s", "1", "x", "0", "FOO"],
        ["BITPOS", "@s", "1", "0", "x", "FOO"],
        ["BITPOS", "@s", "1", "0", "x", "BIT"],
        ["BITPOS", "@s", "1", "0", "1", "BIT", "x"],
        ["BITPOS", "@s", "2"],
        ["BITPOS", "@s", "-1"],
        ["BITPOS", "@s", "x"],
        ["BITPOS", "@s", "1.0"],
        ["BITPOS", "@s", ""],
        ["BITPOS", "@s", "1", "a"],
        ["BITPOS", "@missing", "0"],
        ["BITPOS", "@missing", "1"],
        ["BITPOS", "@missing", "0", "5", "10", "BIT"],
        ["BITPOS", "@missing", "1", "a", "b", "c", "d"],
        ["BITPOS", "@missing", "2"],
        ["SET", "@e", ""],
        ["BITPOS", "@e", "0"],
        ["BITPOS", "@e", "1"],
        ["BITPOS", "@e", "0", "0"],
        ["BITPOS", "@e", "0", "0", "-1"],
        ["SET", "@zero", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"],
        ["BITPOS", "@zero", "1"],
        ["BITPOS", "@zero", "0"],
        ["BITPOS", "@zero", "0", "3", "-1"],
        ["SETBIT", "@zero", "150", "1"],
        ["BITPOS", "@zero", "1"],
        ["BITPOS", "@zero", "1", "10"],
        ["BITPOS", "@zero", "1", "19"],
        ["BITPOS", "@zero", "1", "145", "150", "BIT"],
        ["BITPOS", "@zero", "1", "145", "149", "BIT"],
        ["SET", "@ones", "\xff" * 21],
        ["BITPOS", "@ones", "0"],
        ["BITPOS", "@ones", "0", "5"],
        ["BITPOS", "@ones", "0", "5", "-1"],
        ["BITPOS", "@ones", "0", "3", "160", "BIT"],
        ["BITPOS", "@ones", "0", "3", "200", "BIT"],
        ["BITPOS", "@ones", "1", "3", "200", "BIT"],
        ["BITPOS"],
        ["BITPOS", "@s"],
    ],
    "bitop": [
        ["SET", "@a", "foobar"],
        ["SET", "@b", "abcdef"],
        ["SET", "@c", "\x01\x02"],
        ["BITOP", "AND", "@dst", "@a", "@b"],
        ["GET", "@dst"],
        ["BITOP", "OR", "@dst", "@a", "@b", "@c"],
        ["GET", "@dst"],
        ["BITOP", "XOR", "@dst", "@a", "@b", "@c"],
        ["GET", "@dst"],
        ["BITOP", "NOT", "@dst", "@a"],
        ["GET", "@dst"],
        ["BITOP", "and", "@dst", "@a", "@missing"],
        ["GET", "@dst"],
        ["BITOP", "or", "@dst", "@missing", "@c"],
        ["GET", "@dst"],
        ["BITOP", "xor", "@dst", "@a"],
        ["GET", "@dst"],
        ["BITOP", "AND", "@dst", "@a"],
        ["BITOP", "NOT", "@dst", "@missing"],
        ["EXISTS", "@dst"],
        ["BITOP", "AND", "@dst", "@missing", "@missing2"],
        ["SET", "@dst", "x"],
        ["BITOP", "OR", "@dst", "@missing"],
        ["EXISTS", "@dst"],
        ["BITOP", "NOT", "@a", "@a"],
        ["GET", "@a"],
        ["BITOP", "NOT", "@a", "@a"],
        ["GET", "@a"],
        ["BITOP", "XOR", "@a", "@a", "@a"],
        ["GET", "@a"],
        ["OBJECT", "ENCODING", "@a"],
        ["SET", "@e", ""],
        ["BITOP", "NOT", "@dst", "@e"],
        ["EXISTS", "@dst"],
        ["BITOP", "NOT", "@dst", "@a", "@b"],
        ["BITOP", "NOT", "@dst"],
        ["BITOP", "NAND", "@dst", "@a", "@b"],
        ["BITOP", "", "@dst", "@a"],
        ["BITOP", "AND", "@dst"],
        ["BITOP"],
        ["SET", "@t", "abc", "EX", "1000"],
        ["BITOP", "OR", "@t", "@b"],
        ["TTL", "@t"],
        ["SET", "@long1", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789"],
        ["SET", "@long2", "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba9876543210!!"],
        ["BITOP", "AND", "@r", "@long1", "@long2", "@c"],
        ["GET", "@r"],
        ["BITOP", "OR", "@r", "@long1", "@long2"],
        ["GET", "@r"],
        ["BITOP", "XOR", "@r", "@long1", "@long2", "@long1"],
        ["GET", "@r"],
        ["BITOP", "NOT", "@r", "@long2"],
        ["GET", "@r"],
    ],
    "bitfield_basic": [
        ["BITFIELD", "@k"],
        ["EXISTS", "@k"],
        ["BITFIELD", "@k", "GET", "u8", "0"],
        ["EXISTS", "@k"],
        ["BITFIELD", "@k", "SET", "u8", "0", "255"],
        ["GET", "@k"],
        ["BITFIELD", "@k", "GET", "u8", "0", "GET", "i8", "0", "GET", "u4", "0", "GET", "i4", "4"],
        ["BITFIELD", "@k", "SET", "i8", "8", "-100", "GET", "i8", "8", "GET", "u8", "8"],
        ["BITFIELD", "@k", "INCRBY", "u2", "100", "1", "INCRBY", "u2", "100", "1"],
        ["BITFIELD", "@k", "INCRBY", "i5", "100", "1", "GET", "u4", "0"],
        ["BITFIELD", "@k", "SET", "u8", "#0", "65", "SET", "u8", "#1", "66", "GET", "u16", "#0"],
        ["BITFIELD", "@k", "GET", "u8", "#2", "GET", "i8", "#-1"],
        ["BITFIELD", "@k", "SET", "i64", "0", "-1", "GET", "i64", "0", "GET", "u63", "0",
         "GET", "u63", "1"],
        ["BITFIELD", "@k", "SET", "i64", "3", "9223372036854775807", "GET", "i64", "3"],
        ["BITFIELD", "@k", "SET", "i64", "5", "-9223372036854775808", "GET", "i64", "5"],
        ["BITFIELD", "@k", "SET", "u63", "7", "9223372036854775807", "GET", "u63", "7"],
        ["BITFIELD", "@k", "GET", "i1", "0", "GET", "u1", "0", "GET", "i2", "1"],
        ["GET", "@k"],
        ["BITFIELD", "@k", "GET", "u8", "1000", "GET", "i64", "1000", "GET", "u8", "4294967288"],
        ["BITFIELD", "@k", "SET", "u8", "0", "1", "SET", "u8", "0", "1"],
        ["BITFIELD", "@k", "get", "u8", "0", "set", "u8", "0", "2", "incrby", "u8", "0", "3"],
        ["BITFIELD", "@n", "SET", "u1", "100", "1"],
        ["STRLEN", "@n"],
        ["BITFIELD", "@n", "SET", "i64", "#3", "77"],
        ["STRLEN", "@n"],
        ["BITFIELD", "@n", "SET", "u8", "#2305843009213693952", "1"],
        ["GET", "@n"],
        ["BITFIELD", "@t", "INCRBY", "i64", "0", "1", "GET", "i64", "0"],
        ["SET", "@x", "x", "EX", "1000"],
        ["BITFIELD", "@x", "SET", "u8", "0", "65"],
        ["TTL", "@x"],
        ["GET", "@x"],
    ],
    "bitfield_overflow": [
        ["BITFIELD", "@k", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "10"],
        ["BITFIELD", "@k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "10"],
        ["BITFIELD", "@k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-300"],
        ["BITFIELD", "@k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "-1"],
        ["BITFIELD", "@k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "255", "INCRBY", "u8", "0", "1"],
        ["BITFIELD", "@k", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "-1"],
        ["BITFIELD", "@k", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "-1000000"],
        ["BITFIELD", "@k", "OVERFLOW", "SAT", "SET", "u8", "0", "1000", "GET", "u8", "0"],
        ["BITFIELD", "@k", "OVERFLOW", "SAT", "SET", "u8", "0", "-5", "GET", "u8", "0"],
        ["BITFIELD", "@k", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "GET", "u8", "0"],
        ["BITFIELD", "@k", "OVERFLOW", "WRAP", "SET", "u8", "0", "257", "GET", "u8", "0"],
        ["BITFIELD", "@k", "OVERFLOW", "WRAP", "SET", "u8", "0", "-1", "GET", "u8", "0"],
        ["BITFIELD", "@s", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1"],
        ["BITFIELD", "@s", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "INCRBY", "i8", "0", "-1000"],
        ["BITFIELD", "@s", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1"],
        ["BITFIELD", "@s", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "255"],
        ["BITFIELD", "@s", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-1"],
        ["BITFIELD", "@s", "OVERFLOW", "SAT", "SET", "i8", "0", "200", "GET", "i8", "0"],
        ["BITFIELD", "@s", "OVERFLOW", "SAT", "SET", "i8", "0", "-200", "GET", "i8", "0"],
        ["BITFIELD", "@s", "OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775808"],
        ["BITFIELD", "@s", "OVERFLOW", "WRAP", "SET", "i8", "0", "-9223372036854775808",
         "GET", "i8", "0"],
        ["BITFIELD", "@s", "OVERFLOW", "FAIL", "SET", "i8", "0", "128"],
        ["BITFIELD", "@s", "OVERFLOW", "WRAP", "SET", "i8", "0", "128", "GET", "i8", "0"],
        ["BITFIELD", "@w", "SET", "i64", "0", "9223372036854775807"],
        ["BITFIELD", "@w", "INCRBY", "i64", "0", "1"],
        ["BITFIELD", "@w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "9223372036854775807"],
        ["BITFIELD", "@w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-9223372036854775808",
         "INCRBY", "i64", "0", "-9223372036854775808"],
        ["BITFIELD", "@w", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1"],
        ["BITFIELD", "@w", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "-1"],
        ["BITFIELD", "@w", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "9223372036854775807",
         "INCRBY", "i64", "0", "9223372036854775807"],
        ["BITFIELD", "@u", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "1"],
        ["BITFIELD", "@u", "OVERFLOW", "SAT", "INCRBY", "u63", "0", "9223372036854775807"],
        ["BITFIELD", "@u", "OVERFLOW", "SAT", "INCRBY", "u63", "0", "-9223372036854775808",
         "INCRBY", "u63", "0", "-9223372036854775808"],
        ["BITFIELD", "@u", "OVERFLOW", "FAIL", "INCRBY", "u63", "0", "-1"],
        ["BITFIELD", "@u", "OVERFLOW", "SAT", "SET", "u63", "0", "-1", "GET", "u63", "0"],
        ["BITFIELD", "@u", "OVERFLOW", "WRAP", "SET", "u63", "0", "-1", "GET", "u63", "0"],
        ["BITFIELD", "@u", "OVERFLOW", "FAIL", "SET", "u63", "0", "-1", "GET", "u63", "0"],
        ["BITFIELD", "@u", "OVERFLOW", "FAIL", "SET", "u1", "0", "2", "OVERFLOW", "WRAP",
         "SET", "u1", "0", "2", "OVERFLOW", "SAT", "SET", "u1", "0", "2", "GET", "u1", "0"],
        ["BITFIELD", "@u", "OVERFLOW", "SAT", "SET", "i1", "0", "1", "GET", "i1", "0",
         "INCRBY", "i1", "0", "-5", "INCRBY", "i1", "0", "5"],
        ["BITFIELD", "@u", "OVERFLOW", "wrap", "INCRBY", "u3", "1", "9", "overflow", "sat",
         "incrby", "u3", "1", "9", "OVERFLOW", "fail", "INCRBY", "u3", "1", "9"],
        ["BITFIELD", "@f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"],
        ["EXISTS", "@f"],
        ["GET", "@f"],
        ["BITFIELD", "@f2", "OVERFLOW", "FAIL"],
        ["EXISTS", "@f2"],
        ["GET", "@u"],
        ["GET", "@w"],
    ],
    "bitfield_errors": [
        ["BITFIELD", "@k", "GET"],
        ["BITFIELD", "@k", "GET", "u8"],
        ["BITFIELD", "@k", "SET", "u8", "0"],
        ["BITFIELD", "@k", "INCRBY", "u8", "0"],
        ["BITFIELD", "@k", "OVERFLOW"],
        ["BITFIELD", "@k", "OVERFLOW", "FOO"],
        ["BITFIELD", "@k", "OVERFLOW", "FOO", "GET", "u8", "x"],
        ["BITFIELD", "@k", "FOO", "u8", "0"],
        ["BITFIELD", "@k", "GET", "u8", "0", "FOO"],
        ["BITFIELD", "@k", "GET", "u64", "0"],
        ["BITFIELD", "@k", "GET", "i65", "0"],
        ["BITFIELD", "@k", "GET", "i0", "0"],
        ["BITFIELD", "@k", "GET", "u0", "0"],
        ["BITFIELD", "@k", "GET", "U8", "0"],
        ["BITFIELD", "@k", "GET", "I8", "0"],
        ["BITFIELD", "@k", "GET", "x8", "0"],
        ["BITFIELD", "@k", "GET", "u", "0"],
        ["BITFIELD", "@k", "GET", "", "0"],
        ["BITFIELD", "@k", "GET", "u-1", "0"],
        ["BITFIELD", "@k", "GET", "u08", "0"],
        ["BITFIELD", "@k", "GET", "u8 ", "0"],
        ["BITFIELD", "@k", "GET", "u8\x00junk", "0"],
        ["BITFIELD", "@k", "GET", "i99999999999999999999", "0"],
        ["BITFIELD", "@k", "GET", "u8", "-1"],
        ["BITFIELD", "@k", "GET", "u8", "x"],
        ["BITFIELD", "@k", "GET", "u8", "#"],
        ["BITFIELD", "@k", "GET", "u8", "##1"],
        ["BITFIELD", "@k", "GET", "u8", "#-1"],
        ["BITFIELD", "@k", "GET", "u8", "#x"],
        ["BITFIELD", "@k", "GET", "u8", "1#"],
        ["BITFIELD", "@k", "GET", "u8", "4294967296"],
        ["BITFIELD", "@k", "GET", "u8", "#536870912"],
        ["BITFIELD", "@k", "GET", "i64", "#67108864"],
        ["BITFIELD", "@k", "GET", "i64", "#67108863"],
        ["BITFIELD", "@k", "GET", "i64", "#144115188075855872"],
        ["BITFIELD", "@k", "GET", "u8", "#1152921504606846977"],
        ["BITFIELD", "@k", "GET", "u8", "#2305843009213693952"],
        ["BITFIELD", "@k", "SET", "u8", "0", "x"],
        ["BITFIELD", "@k", "SET", "u8", "0", "1.5"],
        ["BITFIELD", "@k", "SET", "u8", "0", "9223372036854775808"],
        ["BITFIELD", "@k", "INCRBY", "u8", "0", ""],
        ["BITFIELD", "@k", "GET", "u8", "0", "SET", "u8", "x", "1"],
        ["BITFIELD", "@k", "SET", "u8", "0", "1", "GET", "u64", "0"],
        ["EXISTS", "@k"],
        ["BITFIELD"],
        ["SET", "@str", "hello"],
        ["BITFIELD", "@str", "GET", "u8", "0"],
        ["BITFIELD", "@str", "GET", "u16", "36"],
        ["BITFIELD", "@str", "GET", "i9", "35"],
    ],
    "bitfield_ro": [
        ["SET", "@k", "\x7f\x80hello"],
        ["BITFIELD_RO", "@k"],
        ["BITFIELD_RO", "@k", "GET", "u8", "0", "GET", "i8", "8", "GET", "u16", "#1"],
        ["BITFIELD_RO", "@k", "GET", "i64", "4"],
        ["BITFIELD_RO", "@missing", "GET", "u8", "0"],
        ["BITFIELD_RO", "@k", "SET", "u8", "0", "1"],
        ["BITFIELD_RO", "@k", "INCRBY", "u8", "0", "1"],
        ["BITFIELD_RO", "@k", "GET", "u8", "0", "SET", "u8", "0", "1"],
        ["BITFIELD_RO", "@k", "OVERFLOW", "SAT"],
        ["BITFIELD_RO", "@k", "OVERFLOW", "SAT", "GET", "u8", "0"],
        ["BITFIELD_RO", "@k", "OVERFLOW", "BAD", "GET", "u8", "0"],
        ["BITFIELD_RO", "@k", "GET", "u64", "0"],
        ["BITFIELD_RO", "@k", "SET", "u64", "0", "1"],
        ["BITFIELD_RO", "@k", "SET", "u8", "0", "x"],
        ["BITFIELD_RO", "@k", "GET"],
        ["BITFIELD_RO"],
        ["GET", "@k"],
        ["RPUSH", "@list", "x"],
        ["BITFIELD_RO", "@list", "GET", "u8", "0"],
        ["BITFIELD_RO", "@list", "SET", "u8", "0", "1"],
    ],
    "wrongtype": [
        ["RPUSH", "@list", "x"],
        ["SETBIT", "@list", "0", "1"],
        ["SETBIT", "@list", "-1", "1"],
        ["SETBIT", "@list", "0", "5"],
        ["GETBIT", "@list", "0"],
        ["GETBIT", "@list", "x"],
        ["BITCOUNT", "@list"],
        ["BITCOUNT", "@list", "x", "y"],
        ["BITPOS", "@list", "1"],
        ["BITPOS", "@list", "5"],
        ["BITOP", "AND", "@dst", "@list"],
        ["BITOP", "AND", "@dst", "@missing", "@list"],
        ["SET", "@s", "abc"],
        ["BITOP", "OR", "@list", "@s"],
        ["TYPE", "@list"],
        ["BITOP", "OR", "@dst", "@s", "@list"],
        ["EXISTS", "@dst"],
        ["BITFIELD", "@list", "GET", "u8", "0"],
        ["BITFIELD", "@list", "SET", "u8", "0", "1"],
        ["BITFIELD", "@list", "GET", "u8", "x"],
        ["PFADD", "@list", "a"],
        ["PFCOUNT", "@list"],
        ["PFCOUNT", "@missing", "@list"],
        ["PFMERGE", "@list", "@s"],
        ["PFMERGE", "@dst", "@list"],
        ["PFDEBUG", "ENCODING", "@list"],
        ["PFADD", "@s", "a"],
        ["PFCOUNT", "@s"],
        ["PFCOUNT", "@s", "@s"],
        ["PFMERGE", "@s"],
        ["PFMERGE", "@hll", "@s"],
        ["EXISTS", "@hll"],
        ["PFDEBUG", "GETREG", "@s"],
    ],
    "pfadd_pfcount": [
        ["PFADD", "@h"],
        ["PFADD", "@h"],
        ["GET", "@h"],
        ["PFCOUNT", "@h"],
        ["GET", "@h"],
        ["PFADD", "@h", "a", "b", "c"],
        ["PFADD", "@h", "a", "b", "c"],
        ["PFADD", "@h", "a", "d"],
        ["PFCOUNT", "@h"],
        ["PFCOUNT", "@h"],
        ["GET", "@h"],
        ["PFADD", "@h", "", " ", "\x00", "\xff\xfe", "12345", "-1", "0"],
        ["PFCOUNT", "@h"],
        ["PFDEBUG", "ENCODING", "@h"],
        ["PFDEBUG", "DECODE", "@h"],
        ["OBJECT", "ENCODING", "@h"],
        ["PFADD", "@h2", "x", "y", "z"],
        ["PFCOUNT", "@h", "@h2"],
        ["PFCOUNT", "@h", "@h2", "@missing", "@h"],
        ["PFCOUNT", "@missing"],
        ["PFCOUNT", "@missing", "@missing2"],
        ["EXISTS", "@missing"],
        ["PFADD"],
        ["PFCOUNT"],
        ["SET", "@t", "x", "EX", "1000"],
        ["DEL", "@t"],
        ["PFADD", "@t", "a"],
        ["TTL", "@t"],
        ["PFADD", "@long", "x" * 5000, "y" * 70000],
        ["PFCOUNT", "@long"],
        ["GET", "@long"],
    ],
    "pfmerge": [
        ["PFADD", "@a", "1", "2", "3", "4", "5"],
        ["PFADD", "@b", "4", "5", "6", "7"],
        ["PFMERGE", "@c", "@a", "@b"],
        ["PFCOUNT", "@c"],
        ["GET", "@c"],
        ["PFMERGE", "@c", "@a", "@b"],
        ["GET", "@c"],
        ["PFMERGE", "@a", "@b"],
        ["PFCOUNT", "@a"],
        ["GET", "@a"],
        ["PFMERGE", "@new"],
        ["GET", "@new"],
        ["PFMERGE", "@new2", "@missing"],
        ["GET", "@new2"],
        ["PFDEBUG", "TODENSE", "@b"],
        ["PFMERGE", "@d", "@a", "@b"],
        ["PFDEBUG", "ENCODING", "@d"],
        ["PFCOUNT", "@d"],
        ["PFMERGE", "@a", "@missing"],
        ["PFDEBUG", "ENCODING", "@a"],
        ["PFMERGE", "@b", "@a"],
        ["PFDEBUG", "ENCODING", "@b"],
        ["GET", "@b"],
        ["PFMERGE"],
        ["SET", "@t", "x", "EX", "1000"],
        ["DEL", "@t"],
        ["PFADD", "@t", "q"],
        ["EXPIRE", "@t", "1000"],
        ["PFMERGE", "@t", "@a"],
        ["TTL", "@t"],
    ],
    "pfdebug": [
        ["PFADD", "@h", "a", "b", "c", "d", "e", "f", "g", "h"],
        ["PFDEBUG", "ENCODING", "@h"],
        ["PFDEBUG", "encoding", "@h"],
        ["PFDEBUG", "DECODE", "@h"],
        ["PFDEBUG", "GETREG", "@h"],
        ["PFDEBUG", "ENCODING", "@h"],
        ["PFDEBUG", "DECODE", "@h"],
        ["PFDEBUG", "TODENSE", "@h"],
        ["GET", "@h"],
        ["PFADD", "@h2", "x"],
        ["PFDEBUG", "TODENSE", "@h2"],
        ["PFDEBUG", "TODENSE", "@h2"],
        ["GET", "@h2"],
        ["PFCOUNT", "@h2"],
        ["PFDEBUG", "FOO", "@h"],
        ["PFDEBUG", "FOO", "@missing"],
        ["PFDEBUG", "GETREG", "@missing"],
        ["PFDEBUG", "GETREG"],
        ["PFDEBUG", "GETREG", "@h", "x"],
        ["PFDEBUG"],
        ["SET", "@s", "notanhll"],
        ["PFDEBUG", "FOO", "@s"],
        ["PFADD", "@e"],
        ["PFDEBUG", "DECODE", "@e"],
        ["PFSELFTEST", "x"],
    ],
}

for _name, _value in CORRUPT_HLLS:
    GROUPS["hll_value_" + _name] = corrupt_group(_value)

# Groups replayed after HELLO 3 (nulls, statuses and arrays change shape).
RESP3_GROUPS = ["setbit_getbit", "bitfield_overflow", "bitfield_ro", "bitpos", "pfdebug",
                "wrongtype", "hll_value_sparse_valid_cache", "hll_value_bad_magic"]

GROUP_REQUIRES = {name: ALL_COMMANDS for name in GROUPS}
for _g in ("wrongtype", "bitfield_ro"):
    GROUP_REQUIRES[_g] = ALL_COMMANDS + ["rpush"]


def compare_group(server, redis_server, name, resp3=False):
    compare_command_group(server, redis_server, GROUPS[name], GROUP_REQUIRES[name],
                          "bh:%s" % name, resp3, connect=latin1)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_bitmaps_hll_match_redis(server, redis_server, group):
    compare_group(server, redis_server, group)


@pytest.mark.parametrize("group", RESP3_GROUPS)
def test_bitmaps_hll_match_redis_resp3(server, redis_server, group):
    compare_group(server, redis_server, group, resp3=True)


def test_case_table_size():
    total = sum(len(v) for v in GROUPS.values())
    total += sum(len(GROUPS[g]) for g in RESP3_GROUPS)
    assert total >= 1000


def skip_unless_implemented(srv):
    conn = RawConnection(srv.client())
    try:
        missing = missing_commands(conn, ALL_COMMANDS)
    finally:
        conn.close()
    if missing:
        pytest.skip("Redoubt lacks %s" % ", ".join(missing))


# ---------------------------------------------------------------------------
# Limits: proto-max-bulk-len bounds every bit offset
# ---------------------------------------------------------------------------
LIMIT_GROUP = [
    ["CONFIG", "SET", "proto-max-bulk-len", "1048576"],
    ["SETBIT", "@b", "8388608", "1"],
    ["SETBIT", "@b", "8388607", "1"],
    ["STRLEN", "@b"],
    ["BITCOUNT", "@b"],
    ["BITPOS", "@b", "1"],
    ["BITPOS", "@b", "1", "-1"],
    ["GETBIT", "@b", "8388607"],
    ["GETBIT", "@b", "8388608"],
    ["BITFIELD", "@b", "GET", "u8", "8388608"],
    ["BITFIELD", "@b", "GET", "u8", "8388600", "GET", "i64", "8388607"],
    ["BITFIELD", "@b", "SET", "i64", "8388607", "-1"],
    ["STRLEN", "@b"],
    ["BITFIELD", "@b", "GET", "u8", "#1048576"],
    ["BITFIELD", "@b", "GET", "u8", "#1048575"],
    ["BITFIELD_RO", "@b", "GET", "i64", "#131072"],
    ["BITFIELD_RO", "@b", "GET", "i64", "#131071"],
    ["BITCOUNT", "@b", "0", "-1", "BIT"],
    ["BITCOUNT", "@b", "-9", "-1", "BIT"],
    ["BITPOS", "@b", "0", "1048570", "-1"],
    ["BITOP", "NOT", "@n", "@b"],
    ["BITCOUNT", "@n"],
    ["CONFIG", "SET", "proto-max-bulk-len", "536870912"],
    ["SETBIT", "@b", "4294967296", "1"],
    ["GETBIT", "@b", "4294967296"],
    ["BITFIELD", "@b", "GET", "u8", "4294967296"],
]


def test_offsets_bounded_by_proto_max_bulk_len(server, redis_server):
    skip_unless_implemented(server)
    try:
        compare_command_group(server, redis_server, LIMIT_GROUP, ALL_COMMANDS, "bh:limit")
    finally:
        for srv in (server, redis_server):
            srv.client().config_set("proto-max-bulk-len", "536870912")


# ---------------------------------------------------------------------------
# hll-sparse-max-bytes: where sparse values are promoted to dense
# ---------------------------------------------------------------------------
def sparse_limit_group():
    cmds = [["CONFIG", "SET", "hll-sparse-max-bytes", "120"]]
    for i in range(0, 200, 4):
        cmds.append(["PFADD", "@h", *["e%d" % j for j in range(i, i + 4)]])
        cmds.append(["PFDEBUG", "ENCODING", "@h"])
        cmds.append(["STRLEN", "@h"])
    cmds += [["GET", "@h"], ["PFCOUNT", "@h"],
             ["CONFIG", "SET", "hll-sparse-max-bytes", "0"],
             ["PFADD", "@z", "a"], ["PFDEBUG", "ENCODING", "@z"], ["PFADD", "@z", "b"],
             ["PFDEBUG", "ENCODING", "@z"], ["GET", "@z"],
             ["CONFIG", "GET", "hll-sparse-max-bytes"],
             ["CONFIG", "SET", "hll-sparse-max-bytes", "-1"],
             ["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]]
    return cmds


def test_hll_sparse_max_bytes_promotion(server, redis_server):
    skip_unless_implemented(server)
    try:
        compare_command_group(server, redis_server, sparse_limit_group(), ALL_COMMANDS,
                              "bh:sparse")
    finally:
        for srv in (server, redis_server):
            srv.client().config_set("hll-sparse-max-bytes", "3000")


# ---------------------------------------------------------------------------
# HLL values: same bytes, same counts, readable across servers
# ---------------------------------------------------------------------------
CARDINALITIES = [0, 1, 2, 10, 100, 300, 500, 1000, 1500, 2000, 3000, 5000, 10000, 20000,
                 50000, 200000]
BATCH = 1000


def pfadd_all(conn, key, elements):
    """PFADD in batches, pipelined; returns the replies."""
    batches = [elements[i:i + BATCH] for i in range(0, len(elements), BATCH)] or [[]]
    for b in batches:
        conn.send("PFADD", key, *b)
    return [conn.read_reply() for _ in batches]


def hll_snapshot(conn, key):
    return (conn.command("GET", key), conn.command("PFCOUNT", key), conn.command("GET", key),
            conn.command("PFDEBUG", "ENCODING", key))


@pytest.mark.parametrize("n", CARDINALITIES)
def test_hll_bytes_and_counts_match_redis(server, redis_server, n):
    skip_unless_implemented(server)
    rng = random.Random(n)
    elements = ["el:%d:%d" % (i, rng.randrange(1 << 30)) for i in range(n)]
    key = "bh:card:%d:%s" % (n, uuid.uuid4().hex[:8])
    results = []
    for srv in (server, redis_server):
        conn = latin1(srv.client())
        try:
            adds = pfadd_all(conn, key, elements)
            results.append((adds, hll_snapshot(conn, key)))
        finally:
            conn.close()
    assert results[0][0] == results[1][0], "PFADD replies differ"
    ours, theirs = results[0][1], results[1][1]
    assert ours[1] == theirs[1], "PFCOUNT of %d elements: redoubt %r, redis %r" % (
        n, ours[1], theirs[1])
    assert ours == theirs


def test_hll_multi_key_count_and_merge_match_redis(server, redis_server):
    skip_unless_implemented(server)
    rng = random.Random(99)
    sizes = [0, 7, 150, 900, 4000, 30000]
    sets = [["m%d:%d" % (s, rng.randrange(60000)) for _ in range(s)] for s in sizes]
    out = []
    for srv in (server, redis_server):
        conn = latin1(srv.client())
        base = "bh:multi:%s:" % uuid.uuid4().hex[:8]
        try:
            keys = []
            for i, s in enumerate(sets):
                k = base + str(i)
                pfadd_all(conn, k, s)
                keys.append(k)
            replies = []
            for a in range(len(keys)):
                for b in range(a, len(keys)):
                    replies.append(conn.command("PFCOUNT", keys[a], keys[b]))
            replies.append(conn.command("PFCOUNT", *keys))
            replies.append(conn.command("PFCOUNT", *(keys + [base + "missing"])))
            replies.append(conn.command("PFMERGE", base + "all", *keys))
            replies.append(conn.command("GET", base + "all"))
            replies.append(conn.command("PFCOUNT", base + "all"))
            replies.append(conn.command("PFMERGE", keys[1], keys[2], keys[3]))
            replies.append(conn.command("GET", keys[1]))
            replies.append(conn.command("PFMERGE", base + "sparse", keys[0], keys[1]))
            replies.append(conn.command("GET", base + "sparse"))
            out.append(replies)
        finally:
            conn.close()
    diffs = [i for i, (g, w) in enumerate(zip(*out)) if g != w]
    assert not diffs, "replies %s differ: %r vs %r" % (diffs, [out[0][i] for i in diffs][:2],
                                                       [out[1][i] for i in diffs][:2])


def transfer_and_grow(writer, reader, n, seed):
    """Builds an HLL of n elements on `writer`, copies its bytes into `reader` with SET, then both
    grow it with the same elements. Returns what each side sees."""
    rng = random.Random(seed)
    first = ["t%d:%d" % (seed, rng.randrange(1 << 40)) for _ in range(n)]
    more = ["u%d:%d" % (seed, rng.randrange(1 << 40)) for _ in range(n // 2 + 50)]
    key = "bh:xfer:%d:%s" % (seed, uuid.uuid4().hex[:8])
    w, r = latin1(writer.client()), latin1(reader.client())
    try:
        pfadd_all(w, key, first)
        raw = w.command("GET", key)
        value = parse_resp(raw)
        r.command("SET", key, value.decode("latin-1"))
        seen = []
        for conn in (w, r):
            seen.append([conn.command("PFCOUNT", key), conn.command("GET", key)]
                        + pfadd_all(conn, key, more)
                        + [conn.command("PFCOUNT", key), conn.command("GET", key),
                           conn.command("PFDEBUG", "ENCODING", key)])
        return seen
    finally:
        w.close()
        r.close()


@pytest.mark.parametrize("n", [0, 40, 1200, 3000, 25000])
def test_hll_written_by_redis_reads_in_redoubt(server, redis_server, n):
    skip_unless_implemented(server)
    by_redis, by_redoubt = transfer_and_grow(redis_server, server, n, n + 1)
    assert by_redoubt == by_redis


@pytest.mark.parametrize("n", [0, 40, 1200, 3000, 25000])
def test_hll_written_by_redoubt_reads_in_redis(server, redis_server, n):
    skip_unless_implemented(server)
    by_redoubt, by_redis = transfer_and_grow(server, redis_server, n, n + 2)
    assert by_redis == by_redoubt


def test_pfselftest(server):
    skip_unless_implemented(server)
    conn = RawConnection(server.client())
    try:
        assert conn.command("PFSELFTEST") == b"+OK\r\n"
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Randomised differential bitmap workload (seeded)
# ---------------------------------------------------------------------------
RANDOM_COMMANDS_PER_SEED = 600


def random_bit_command(rng):
    k = lambda: "@k%d" % rng.randrange(4)  # noqa: E731
    off = lambda: str(rng.choice([rng.randrange(0, 200), rng.randrange(0, 2000), -1]))  # noqa: E731
    idx = lambda: str(rng.randrange(-30, 30))  # noqa: E731

    def ftype():
        s = rng.choice("iu")
        return s + str(rng.randrange(1, 65 if s == "i" else 64))

    choice = rng.randrange(14)
    if choice in (0, 1):
        return ["SETBIT", k(), off(), rng.choice(["0", "1", "1"])]
    if choice == 2:
        return ["GETBIT", k(), off()]
    if choice == 3:
        return ["BITCOUNT", k()] + rng.choice([[], [idx(), idx()], [idx(), idx(), "BIT"],
                                               [idx(), idx(), "BYTE"]])
    if choice == 4:
        return ["BITPOS", k(), rng.choice("01")] + rng.choice(
            [[], [idx()], [idx(), idx()], [idx(), idx(), "BIT"], [idx(), idx(), "BYTE"]])
    if choice == 5:
        op = rng.choice(["AND", "OR", "XOR", "NOT"])
        srcs = [k()] if op == "NOT" else [k() for _ in range(rng.randrange(1, 4))]
        return ["BITOP", op, k()] + srcs
    if choice in (6, 7, 8):
        args = ["BITFIELD", k()]
        for _ in range(rng.randrange(1, 5)):
            sub = rng.randrange(4)
            o = rng.choice([str(rng.randrange(0, 300)), "#%d" % rng.randrange(0, 20)])
            if sub == 0:
                args += ["GET", ftype(), o]
            elif sub == 1:
                args += ["SET", ftype(), o, str(rng.randrange(-2 ** 63, 2 ** 63))]
            elif sub == 2:
                args += ["INCRBY", ftype(), o, str(rng.choice(
                    [rng.randrange(-300, 300), rng.randrange(-2 ** 63, 2 ** 63)]))]
            else:
                args += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
        return args
    if choice == 9:
        return ["BITFIELD_RO", k(), "GET", ftype(), str(rng.randrange(0, 300))]
    if choice == 10:
        return ["GET", k()]
    if choice == 11:
        return ["SET", k(), rng.choice(["", "abc", "12345", "-7", "\xff\x00\x0f", "x" * 50])]
    if choice == 12:
        return ["APPEND", k(), rng.choice(["\x00", "zz", "1"])]
    return ["OBJECT", "ENCODING", k()]


@pytest.mark.parametrize("seed", list(range(1, 9)))
def test_random_bitmap_commands_match_redis(server, redis_server, seed):
    skip_unless_implemented(server)
    rng = random.Random(seed)
    commands = [random_bit_command(rng) for _ in range(RANDOM_COMMANDS_PER_SEED)]
    ours, theirs = latin1(server.client()), latin1(redis_server.client())
    prefix = "bhrnd:%d:%s:" % (seed, uuid.uuid4().hex[:8])
    try:
        got = run_group(ours, commands, prefix)
        want = run_group(theirs, commands, prefix)
    finally:
        ours.close()
        theirs.close()
    for i, (cmd, g, w) in enumerate(zip(commands, got, want)):
        assert g == w, "seed %d command #%d %r:\n redoubt: %r\n redis:   %r" % (
            seed, i, cmd, g, w)


def random_hll_command(rng):
    k = lambda: "@h%d" % rng.randrange(4)  # noqa: E731
    choice = rng.randrange(8)
    if choice in (0, 1, 2):
        return ["PFADD", k()] + ["%d" % rng.randrange(3000) for _ in range(rng.randrange(0, 40))]
    if choice == 3:
        return ["PFCOUNT"] + [k() for _ in range(rng.randrange(1, 4))]
    if choice == 4:
        return ["PFMERGE"] + [k() for _ in range(rng.randrange(1, 4))]
    if choice == 5:
        return ["PFDEBUG", rng.choice(["ENCODING", "DECODE", "TODENSE"]), k()]
    return ["GET", k()]


@pytest.mark.parametrize("seed", list(range(1, 5)))
def test_random_hll_commands_match_redis(server, redis_server, seed):
    skip_unless_implemented(server)
    rng = random.Random(seed * 7919)
    commands = [random_hll_command(rng) for _ in range(400)]
    ours, theirs = latin1(server.client()), latin1(redis_server.client())
    prefix = "hllrnd:%d:%s:" % (seed, uuid.uuid4().hex[:8])
    try:
        got = run_group(ours, commands, prefix)
        want = run_group(theirs, commands, prefix)
    finally:
        ours.close()
        theirs.close()
    for i, (cmd, g, w) in enumerate(zip(commands, got, want)):
        assert g == w, "seed %d command #%d %r:\n redoubt: %r\n redis:   %r" % (
            seed, i, cmd, g, w)


# ---------------------------------------------------------------------------
# Keyspace notifications: same events in the same order (no-ops signal nothing)
# ---------------------------------------------------------------------------
NOTIFY_SEQUENCE = [
    ["SETBIT", "@b", "3", "1"],
    ["SETBIT", "@b", "3", "1"],  # no change: no event
    ["SETBIT", "@b", "3", "0"],
    ["SETBIT", "@b", "20", "0"],  # grows: an event
    ["SETBIT", "@b", "-1", "0"],  # error
    ["GETBIT", "@b", "3"],
    ["BITCOUNT", "@b"],
    ["BITPOS", "@b", "1"],
    ["BITOP", "NOT", "@n", "@b"],
    ["BITOP", "AND", "@n", "@missing"],  # deletes @n
    ["BITOP", "AND", "@n", "@missing"],  # nothing to delete
    ["BITFIELD", "@f", "GET", "u8", "0"],
    ["BITFIELD", "@f", "SET", "u8", "0", "5"],
    ["BITFIELD", "@f", "SET", "u8", "0", "5"],  # same value: no event
    ["BITFIELD", "@f", "INCRBY", "u8", "0", "0"],
    ["BITFIELD", "@f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"],
    ["BITFIELD", "@f", "INCRBY", "u8", "0", "1", "INCRBY", "u8", "8", "2"],
    ["BITFIELD_RO", "@f", "GET", "u8", "0"],
    ["PFADD", "@h", "a"],
    ["PFADD", "@h", "a"],  # no change: no event
    ["PFADD", "@h"],
    ["PFCOUNT", "@h"],
    ["PFCOUNT", "@h"],
    ["PFMERGE", "@h2", "@h"],
    ["PFMERGE", "@h2", "@h"],
    ["PFDEBUG", "TODENSE", "@h"],
    ["PFDEBUG", "GETREG", "@h2"],
    ["PFADD", "@h3"],
    # key misses ("m" events) of every read path
    ["GETBIT", "@nokey", "1"],
    ["BITCOUNT", "@nokey"],
    ["BITPOS", "@nokey", "0"],
    ["BITOP", "OR", "@nokey2", "@nokey", "@b"],
    ["BITFIELD", "@nokey", "GET", "u8", "0"],
    ["BITFIELD_RO", "@nokey", "GET", "u8", "0"],
    ["PFCOUNT", "@nokey"],
    ["PFCOUNT", "@nokey", "@h"],
    ["PFMERGE", "@nokey3", "@nokey"],
    ["PFDEBUG", "ENCODING", "@nokey"],
    ["SET", "@done", "1"],
]


def collect_events(srv, prefix):
    sub = RawConnection(srv.client())
    cmd = RawConnection(srv.client())
    try:
        cmd.command("CONFIG", "SET", "notify-keyspace-events", "KEAm")
        sub.command("PSUBSCRIBE", "__key*@*__:*")
        for c in NOTIFY_SEQUENCE:
            cmd.command(*[prefix + a[1:] if a.startswith("@") else a for a in c])
        events = []
        done = ("__keyspace@0__:%sdone" % prefix).encode()
        for _ in range(1000):
            msg = parse_resp(sub.read_reply())
            events.append((msg[2], msg[3]))
            if msg[2] == done:
                break
        return events
    finally:
        cmd.command("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()
        cmd.close()


def test_keyspace_events_match_redis(server, redis_server):
    skip_unless_implemented(server)
    prefix = "bhev:%s:" % uuid.uuid4().hex[:8]
    assert collect_events(server, prefix) == collect_events(redis_server, prefix)


# ---------------------------------------------------------------------------
# WATCH: a command that changed nothing does not abort a transaction
# ---------------------------------------------------------------------------
WATCH_CASES = [
    # (setup commands, command another client runs while @k is watched)
    ([["SETBIT", "@k", "5", "1"]], ["SETBIT", "@k", "5", "1"]),
    ([["SETBIT", "@k", "5", "1"]], ["SETBIT", "@k", "5", "0"]),
    ([["SETBIT", "@k", "5", "1"]], ["SETBIT", "@k", "100", "0"]),
    ([["SETBIT", "@k", "5", "1"]], ["GETBIT", "@k", "5"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITCOUNT", "@k"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITOP", "NOT", "@k", "@k"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITOP", "OR", "@k", "@missing"]),
    ([], ["BITOP", "OR", "@k", "@missing"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITFIELD", "@k", "GET", "u8", "0"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITFIELD", "@k", "SET", "u8", "0", "4"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITFIELD", "@k", "SET", "u8", "0", "5"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITFIELD", "@k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0",
                                    "300"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITFIELD", "@k", "SET", "u8", "8", "0"]),
    ([["SETBIT", "@k", "5", "1"]], ["BITFIELD_RO", "@k", "GET", "u8", "0"]),
    ([["PFADD", "@k", "a"]], ["PFADD", "@k", "a"]),
    ([["PFADD", "@k", "a"]], ["PFADD", "@k", "b"]),
    ([["PFADD", "@k", "a"]], ["PFADD", "@k"]),
    ([], ["PFADD", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFCOUNT", "@k"]),
    ([["PFADD", "@k", "a"], ["PFCOUNT", "@k"]], ["PFCOUNT", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFCOUNT", "@k", "@missing"]),
    ([["PFADD", "@k", "a"]], ["PFMERGE", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFMERGE", "@other", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFDEBUG", "TODENSE", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFDEBUG", "ENCODING", "@k"]),
]


def watch_outcomes(srv, prefix):
    a, b = RawConnection(srv.client()), RawConnection(srv.client())
    out = []
    try:
        for i, (setup, cmd) in enumerate(WATCH_CASES):
            p = "%s%d:" % (prefix, i)
            k = lambda arg: p + arg[1:] if arg.startswith("@") else arg  # noqa: E731
            for s in setup:
                b.command(*[k(x) for x in s])
            a.command("WATCH", k("@k"))
            reply = b.command(*[k(x) for x in cmd])
            a.command("MULTI")
            a.command("PING")
            out.append((cmd, reply, a.command("EXEC")))
    finally:
        a.close()
        b.close()
    return out


def test_watch_invalidation_matches_redis(server, redis_server):
    skip_unless_implemented(server)
    prefix = "bhw:%s:" % uuid.uuid4().hex[:8]
    ours, theirs = watch_outcomes(server, prefix), watch_outcomes(redis_server, prefix)
    diffs = [(o, t) for o, t in zip(ours, theirs) if o != t]
    assert not diffs, "\n".join("%r\n  redoubt %r\n  redis   %r" % (o[0], o[1:], t[1:])
                                for o, t in diffs)


# ---------------------------------------------------------------------------
# Propagation: the AOF each server writes for the same commands
# ---------------------------------------------------------------------------
PROPAGATION_SEQUENCE = [
    ["SETBIT", "b", "3", "1"],
    ["SETBIT", "b", "3", "1"],
    ["SETBIT", "b", "40", "0"],
    ["GETBIT", "b", "3"],
    ["BITOP", "NOT", "n", "b"],
    ["BITOP", "AND", "n", "missing"],
    ["BITOP", "AND", "n", "missing"],
    ["BITFIELD", "f", "GET", "u8", "0"],
    ["BITFIELD", "f", "GET", "u8", "0", "SET", "u8", "0", "7", "GET", "u4", "0"],
    ["BITFIELD", "f", "SET", "u8", "0", "7"],
    ["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"],
    ["BITFIELD", "g", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "1000"],
    ["BITFIELD_RO", "f", "GET", "u8", "0"],
    ["PFADD", "h", "a", "b"],
    ["PFADD", "h", "a"],
    ["PFCOUNT", "h"],
    ["PFCOUNT", "h"],
    ["PFCOUNT", "h", "missing"],
    ["PFMERGE", "h2", "h"],
    ["PFDEBUG", "ENCODING", "h2"],
    ["PFDEBUG", "TODENSE", "h2"],
    ["PFDEBUG", "TODENSE", "h2"],
    ["PFDEBUG", "GETREG", "h"],
    ["SET", "done", "1"],
]


@pytest.mark.plain_only("the AOF does not depend on how clients connect")
def test_propagation_matches_redis(server_factory, redis_server_factory):
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    ours, theirs = server_factory(args), redis_server_factory(args)
    skip_unless_implemented(ours)
    files = []
    for srv in (ours, theirs):
        conn = RawConnection(srv.client())
        try:
            for c in PROPAGATION_SEQUENCE:
                conn.command(*c)
        finally:
            conn.close()
        d = srv.dir / "appendonlydir"
        deadline = time.monotonic() + 10
        incr = []
        while time.monotonic() < deadline:
            incr = sorted(p for p in d.glob("*.incr.aof"))
            if incr and b"done" in incr[-1].read_bytes():
                break
            time.sleep(0.05)
        assert incr, "%s wrote no incr AOF file" % srv.name
        files.append(incr[-1].read_bytes())
    assert files[0] == files[1]


# ---------------------------------------------------------------------------
# INFO errorstats and COMMAND INFO / DOCS
# ---------------------------------------------------------------------------
def error_stats(srv, prefix):
    conn = latin1(srv.client())
    try:
        conn.command("CONFIG", "RESETSTAT")
        conn.command("SET", prefix + "bad", b2s(hll_header() + op_xzero(100)))
        conn.command("SET", prefix + "str", "x")
        conn.command("PFCOUNT", prefix + "bad")
        conn.command("PFADD", prefix + "str", "a")
        conn.command("SETBIT", prefix + "str", "-1", "1")
        conn.command("BITFIELD", prefix + "str", "GET", "u64", "0")
        info = parse_resp(conn.command("INFO", "errorstats")).decode()
    finally:
        conn.close()
    return sorted(line for line in info.splitlines() if line.startswith("errorstat_"))


def test_errorstats_match_redis(server, redis_server):
    skip_unless_implemented(server)
    prefix = "bhes:%s:" % uuid.uuid4().hex[:8]
    assert error_stats(server, prefix) == error_stats(redis_server, prefix)


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_command_info_and_docs_match_redis(server, redis_server, name):
    skip_unless_implemented(server)
    out = []
    for srv in (server, redis_server):
        conn = RawConnection(srv.client())
        try:
            out.append((conn.command("COMMAND", "INFO", name),
                        conn.command("COMMAND", "DOCS", name)))
        finally:
            conn.close()
    assert out[0] == out[1]


# ---------------------------------------------------------------------------
# ACL: read-only users and the commands' key specs
# ---------------------------------------------------------------------------
ACL_SEQUENCE = [
    ["PFCOUNT", "hk"],
    ["PFCOUNT", "hk", "hk2"],
    ["PFADD", "hk", "b"],
    ["PFMERGE", "hk3", "hk"],
    ["PFDEBUG", "ENCODING", "hk"],
    ["GETBIT", "sk", "1"],
    ["BITCOUNT", "sk"],
    ["BITPOS", "sk", "1"],
    ["BITFIELD", "sk", "GET", "u8", "0"],
    ["BITFIELD_RO", "sk", "GET", "u8", "0"],
    ["SETBIT", "sk", "1", "1"],
    ["BITOP", "NOT", "sk2", "sk"],
]


def acl_replies(srv, user_rules):
    admin = RawConnection(srv.client())
    user = RawConnection(srv.client())
    name = "bhacl%s" % uuid.uuid4().hex[:6]
    try:
        admin.command("ACL", "SETUSER", name, "on", "nopass", *user_rules)
        admin.command("PFADD", "hk", "a")
        admin.command("SET", "sk", "abc")
        user.command("AUTH", name, "x")
        return [user.command(*c) for c in ACL_SEQUENCE]
    finally:
        admin.command("ACL", "DELUSER", name)
        admin.close()
        user.close()


@pytest.mark.parametrize("rules", [["%R~*", "+@all"], ["%W~*", "+@all"], ["~*", "+@bitmap"],
                                   ["~*", "+@hyperloglog", "-pfdebug"], ["~*", "+@read"]])
def test_acl_permissions_match_redis(server, redis_server, rules):
    skip_unless_implemented(server)
    assert acl_replies(server, rules) == acl_replies(redis_server, rules)


# The transport does not matter to what this file checks: one run, in the plain pass (keeps
# ./runtest under its 30-minute budget).
pytestmark = pytest.mark.plain_only("transport-independent: run once (plain)")
