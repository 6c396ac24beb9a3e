"""Geo commands (GEOADD ... GEOSEARCHSTORE) and SORT / SORT_RO against Redoubt, compared byte
for byte with Debian's redis-server (7.0) in RESP2 and RESP3.

The core is a table of command groups replayed on one connection to each server (keys
prefixed per run: "@k" -> "<prefix>k"); every reply must be identical. Then seeded random
runs (geo searches over thousands of points, near the poles and the antimeridian, with huge
radii and duplicate positions, so distance ties and the partial sort of COUNT are exercised;
SORT over lists, sets and sorted sets with BY / GET patterns, LIMIT and STORE), keyspace
events, ACL limits on BY / GET patterns, what reaches the AOF (GEOADD as ZADD, SORT ... STORE
as itself), and COMMAND INFO / DOCS / GETKEYS.

Redis behaviour that is not reproduced, so never exercised here:
  - ties of SORT ... ALPHA on sets and sorted sets (elements equal for strcoll(), e.g. with an
    embedded NUL, or equal BY values): Redis lists them in its hash table's order, which
    depends on a per-process random seed;
  - SORT after an unrelated command left errno at ERANGE: Redis does not clear errno before
    strtod() and then fails numeric sorts with "One or more scores can't be converted into
    double" (Redoubt clears it), so groups put ERANGE inputs (1e400, 1e-400) last.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_geo_sort.py
(REDOUBT_TEST_MODE=tls for TLS; the reference server is always plain.)
"""

import random
import time
import uuid
from pathlib import Path

import pytest

from compare import compare_command_group, parse_resp
from compare import RawConnection as _SharedRawConnection


def RawConnection(client):
    """Arguments are latin-1 (one byte per code point), so "\\xff" is one byte."""
    return _SharedRawConnection(client, encoding="latin-1")


BIN = "a\x00b\r\nc\xff"

# ---------------------------------------------------------------------------
# The comparison table ("@" marks a key name)
# ---------------------------------------------------------------------------
SICILY = ["13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
          "12.758489", "38.788135", "edge1", "17.241510", "38.222625", "edge2"]

GEO_GROUPS = {
    "geoadd": [
        ["GEOADD", "@g"] + SICILY,
        ["GEOADD", "@g"] + SICILY,
        ["ZRANGE", "@g", "0", "-1", "WITHSCORES"],
        ["GEOADD", "@g", "CH", "13.361389", "38.115556", "Palermo", "1", "1", "new"],
        ["GEOADD", "@g", "CH", "13.4", "38.1", "Palermo"],
        ["GEOADD", "@g", "NX", "0", "0", "Palermo", "2", "2", "nx"],
        ["GEOADD", "@g", "XX", "0", "0", "Palermo", "3", "3", "xx"],
        ["GEOADD", "@g", "XX", "CH", "0", "0", "Palermo"],
        ["GEOADD", "@g", "CH", "XX", "5", "5", "Palermo"],
        ["GEOADD", "@g", "NX", "XX", "1", "1", "a"],
        ["GEOADD", "@g", "GT", "1", "1", "a"],
        ["GEOADD", "@g", "LT", "CH", "1", "1", "a"],
        ["GEOADD", "@g", "INCR", "1", "1", "a"],
        ["GEOADD", "@g", "1", "1"],
        ["GEOADD", "@g", "1", "1", "a", "2"],
        ["GEOADD", "@g", "CH", "CH", "CH"],
        ["GEOADD", "@g", "CH", "1", "1", "a", "x"],
        ["GEOADD", "@g", "nx", "ch", "1", "1", "lower"],
        ["GEOADD", "@g", "181", "0", "a"],
        ["GEOADD", "@g", "-180.000001", "0", "a"],
        ["GEOADD", "@g", "0", "85.05112879", "a"],
        ["GEOADD", "@g", "0", "-85.06", "a"],
        ["GEOADD", "@g", "1", "1", "ok", "0", "86", "bad"],
        ["ZSCORE", "@g", "ok"],
        ["GEOADD", "@g", "abc", "0", "a"],
        ["GEOADD", "@g", "0", "abc", "a"],
        ["GEOADD", "@g", "0x10", "0", "a"],
        ["GEOADD", "@g", " 1", "0", "a"],
        ["GEOADD", "@g", "inf", "0", "a"],
        ["GEOADD", "@g", "nan", "0", "a"],
        ["GEOADD", "@g", "180", "85.05112878", "corner1", "-180", "-85.05112878", "corner2",
         "180", "-85.05112878", "corner3", "-180", "85.05112878", "corner4"],
        ["GEOADD", "@g", "0", "0", "origin", "-0", "-0", "negzero", "1e-10", "1e-10", "tiny"],
        ["GEOADD", "@g", "1", "2", "", "1", "2", BIN, "1", "2", "12345", "1", "2", "-7"],
        ["ZRANGE", "@g", "0", "-1", "WITHSCORES"],
        ["OBJECT", "ENCODING", "@g"],
        ["GEOADD", "@new", "XX", "1", "1", "a"],
        ["EXISTS", "@new"],
        ["SET", "@str", "x"],
        ["GEOADD", "@str", "1", "1", "a"],
        ["GEOADD", "@g"],
        ["GEOADD", "@g", "1", "1"],
    ],
    "geopos_geohash_geodist": [
        ["GEOADD", "@g"] + SICILY,
        ["GEOADD", "@g", "180", "85.05112878", "c1", "-180", "-85.05112878", "c2", "0", "0",
         "o", "-0.0001", "0.0001", "near", "179.9999", "0", "am1", "-179.9999", "0", "am2",
         "1", "2", "42"],
        ["GEOPOS", "@g", "Palermo", "Catania", "nosuch", "edge1", "edge2"],
        ["GEOPOS", "@g", "c1", "c2", "o", "near", "am1", "am2", "42"],
        ["GEOPOS", "@g"],
        ["GEOPOS", "@nosuch", "a", "b"],
        ["GEOPOS", "@nosuch"],
        ["GEOHASH", "@g", "Palermo", "Catania", "nosuch", "c1", "c2", "o", "am1", "am2", "42"],
        ["GEOHASH", "@g"],
        ["GEOHASH", "@nosuch", "a"],
        ["GEODIST", "@g", "Palermo", "Catania"],
        ["GEODIST", "@g", "Palermo", "Catania", "km"],
        ["GEODIST", "@g", "Palermo", "Catania", "KM"],
        ["GEODIST", "@g", "Palermo", "Catania", "mi"],
        ["GEODIST", "@g", "Palermo", "Catania", "ft"],
        ["GEODIST", "@g", "Palermo", "Catania", "M"],
        ["GEODIST", "@g", "Palermo", "Palermo"],
        ["GEODIST", "@g", "c1", "c2"],
        ["GEODIST", "@g", "am1", "am2"],
        ["GEODIST", "@g", "o", "near", "m"],
        ["GEODIST", "@g", "c1", "am1", "mi"],
        ["GEODIST", "@g", "Palermo", "nosuch"],
        ["GEODIST", "@g", "nosuch", "Palermo"],
        ["GEODIST", "@nosuch", "a", "b"],
        ["GEODIST", "@g", "Palermo", "Catania", "parsec"],
        ["GEODIST", "@g", "Palermo", "Catania", "km", "extra"],
        ["GEODIST", "@nosuch", "a", "b", "parsec"],
        ["GEODIST", "@g", "Palermo"],
        ["SET", "@str", "x"],
        ["GEOPOS", "@str", "a"],
        ["GEOHASH", "@str", "a"],
        ["GEODIST", "@str", "a", "b"],
        ["GEODIST", "@str", "a", "b", "parsec"],
    ],
    "foreign_scores": [
        # Scores GEOADD never writes: decoded exactly as Redis reads them.
        ["ZADD", "@z", "-1", "neg", "1e30", "huge", "inf", "pinf", "-inf", "ninf",
         "9223372036854775808", "two63", "18446744073709551616", "two64", "0", "zero",
         "4503599627370496", "two52", "-9223372036854775808", "m63", "-1e300", "mbig",
         "9.3e18", "mid", "0.5", "half", "4503599627370495", "max52", "12345.678", "frac"],
        ["GEOPOS", "@z", "neg", "huge", "pinf", "ninf", "two63", "two64", "zero", "two52", "m63",
         "mbig", "mid", "half", "max52", "frac"],
        ["GEOHASH", "@z", "neg", "huge", "pinf", "ninf", "two63", "two64", "zero", "two52",
         "m63", "mbig", "mid", "half", "max52", "frac"],
        ["GEODIST", "@z", "neg", "huge"],
        ["GEODIST", "@z", "zero", "max52", "km"],
        ["GEORADIUS", "@z", "0", "0", "20000", "km", "WITHHASH", "WITHCOORD", "ASC"],
        ["GEOSEARCH", "@z", "FROMMEMBER", "two52", "BYRADIUS", "100", "km", "WITHDIST"],
    ],
    "georadius_options": [
        ["GEOADD", "@g"] + SICILY,
        ["GEORADIUS", "@g", "15", "37", "200", "km"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "ASC"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "DESC"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "WITHCOORD"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "WITHHASH"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "WITHHASH", "WITHDIST", "ASC"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "withdist", "withcoord", "desc"],
        ["GEORADIUS", "@g", "15", "37", "400", "km", "COUNT", "1"],
        ["GEORADIUS", "@g", "15", "37", "400", "km", "COUNT", "2", "DESC", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "400", "km", "COUNT", "3", "ANY"],
        ["GEORADIUS", "@g", "15", "37", "400", "km", "COUNT", "3", "ANY", "ASC"],
        ["GEORADIUS", "@g", "15", "37", "400", "km", "ANY", "COUNT", "1", "DESC"],
        ["GEORADIUS", "@g", "15", "37", "400", "km", "COUNT", "100"],
        ["GEORADIUS", "@g", "15", "37", "400", "km", "COUNT", "1", "COUNT", "2"],
        ["GEORADIUS", "@g", "15", "37", "200000", "m", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "200", "KM", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "124.27", "mi", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "656168", "ft", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "0", "km"],
        ["GEORADIUS", "@g", "13.361389", "38.115556", "0", "m", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "1", "m"],
        ["GEORADIUS", "@g", "15", "37", "20000", "km", "WITHDIST", "ASC"],
        ["GEORADIUS", "@g", "-165", "-37", "20037", "km", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "COUNT", "0"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "COUNT", "-5"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "COUNT", "x"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "COUNT"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "ANY"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "NOSUCHOPT"],
        ["GEORADIUS", "@g", "15", "37", "-1", "km"],
        ["GEORADIUS", "@g", "15", "37", "x", "km"],
        ["GEORADIUS", "@g", "15", "37", "1", "parsec"],
        ["GEORADIUS", "@g", "200", "37", "1", "km"],
        ["GEORADIUS", "@g", "15", "86", "1", "km"],
        ["GEORADIUS", "@g", "x", "37", "1", "km"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "FROMMEMBER", "Palermo"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "BYBOX", "1", "1", "km"],
        ["GEORADIUS", "@nosuch", "15", "37", "200", "km"],
        ["GEORADIUS", "@nosuch", "15", "37", "200", "km", "WITHDIST", "COUNT", "3"],
        ["GEORADIUS", "@nosuch", "15", "37", "-1", "km"],
        ["GEORADIUS_RO", "@g", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "COUNT", "1"],
        ["GEORADIUS_RO", "@g", "15", "37", "200", "km", "STORE", "@dst"],
        ["GEORADIUS_RO", "@g", "15", "37", "200", "km", "STOREDIST", "@dst"],
        ["GEORADIUS", "@g", "15", "37"],
        ["SET", "@str", "x"],
        ["GEORADIUS", "@str", "15", "37", "200", "km"],
        ["GEORADIUS", "@str", "200", "37", "200", "km"],
    ],
    "georadius_store": [
        ["GEOADD", "@g"] + SICILY,
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@dst"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["OBJECT", "ENCODING", "@dst"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STOREDIST", "@dst"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["GEORADIUS", "@g", "15", "37", "200", "mi", "STOREDIST", "@dst", "COUNT", "1", "DESC"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@a", "STOREDIST", "@b"],
        ["ZRANGE", "@a", "0", "-1", "WITHSCORES"],
        ["ZRANGE", "@b", "0", "-1", "WITHSCORES"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STOREDIST", "@c", "STORE", "@d"],
        ["EXISTS", "@c", "@d"],
        ["ZRANGE", "@d", "0", "-1", "WITHSCORES"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@dst", "WITHDIST"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "WITHCOORD", "STORE", "@dst"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@dst", "WITHHASH"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE"],
        ["GEORADIUS", "@g", "15", "37", "1", "m", "STORE", "@dst"],
        ["EXISTS", "@dst"],
        ["GEORADIUS", "@g", "15", "37", "1", "m", "STORE", "@dst"],
        ["GEORADIUS", "@nosuch", "15", "37", "1", "km", "STORE", "@a"],
        ["EXISTS", "@a"],
        ["GEORADIUS", "@nosuch", "15", "37", "1", "km", "STORE", "@a"],
        ["SET", "@str", "x"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@str"],
        ["TYPE", "@str"],
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@g"],
        ["ZRANGE", "@g", "0", "-1", "WITHSCORES"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "200", "km", "STOREDIST", "@g"],
        ["ZRANGE", "@g", "0", "-1", "WITHSCORES"],
    ],
    "georadiusbymember": [
        ["GEOADD", "@g"] + SICILY,
        ["GEOADD", "@g", "13.583333", "37.316667", "Agrigento"],
        ["GEORADIUSBYMEMBER", "@g", "Agrigento", "100", "km"],
        ["GEORADIUSBYMEMBER", "@g", "Agrigento", "200", "km", "WITHDIST", "WITHCOORD", "ASC"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "500", "km", "WITHHASH", "DESC", "COUNT", "2"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "500", "km", "COUNT", "2", "ANY"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "0", "km", "WITHDIST"],
        ["GEORADIUSBYMEMBER", "@g", "nosuch", "100", "km"],
        ["GEORADIUSBYMEMBER", "@g", "nosuch", "-100", "km"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "-100", "km"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "x", "km"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "100", "parsec"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "100", "km", "BADOPT"],
        ["GEORADIUSBYMEMBER", "@nosuch", "Palermo", "100", "km"],
        ["GEORADIUSBYMEMBER", "@nosuch", "Palermo", "x", "parsec"],
        ["GEORADIUSBYMEMBER", "@nosuch", "Palermo", "x", "parsec", "STORE", "@dst"],
        ["GEORADIUSBYMEMBER", "@nosuch", "Palermo", "x", "parsec", "BADOPT"],
        ["GEORADIUSBYMEMBER", "@nosuch", "Palermo", "1", "km", "COUNT", "0"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "200", "km", "STORE", "@dst"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo", "200", "km", "STOREDIST", "@dst", "ASC"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["GEORADIUSBYMEMBER_RO", "@g", "Palermo", "200", "km", "WITHDIST"],
        ["GEORADIUSBYMEMBER_RO", "@g", "Palermo", "200", "km", "STORE", "@dst"],
        ["GEORADIUSBYMEMBER", "@g", "Palermo"],
    ],
    "geosearch": [
        ["GEOADD", "@g"] + SICILY,
        ["GEOSEARCH", "@g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"],
        ["GEOSEARCH", "@g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC",
         "WITHCOORD", "WITHDIST", "WITHHASH"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "WITHDIST"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "200", "100", "km", "WITHDIST"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "100", "400", "mi", "DESC"],
        ["GEOSEARCH", "@g", "BYRADIUS", "200", "km", "FROMMEMBER", "Palermo", "COUNT", "2"],
        ["GEOSEARCH", "@g", "FROMLONLAT", "15", "37", "BYBOX", "1000", "1000", "km", "COUNT",
         "1", "ANY"],
        ["GEOSEARCH", "@g", "FROMLONLAT", "15", "37", "BYBOX", "0", "0", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "0", "0", "km", "WITHDIST"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "0", "km", "WITHDIST"],
        ["geosearch", "@g", "frommember", "Palermo", "byradius", "200", "KM", "withdist", "asc"],
        ["GEOSEARCH", "@g"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo"],
        ["GEOSEARCH", "@g", "BYRADIUS", "10", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "WITHDIST"],
        ["GEOSEARCH", "@g", "BYBOX", "1", "1", "km", "WITHDIST"],
        ["geoSearch", "@g", "BYBOX", "1", "1", "km", "WITHDIST"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "nosuch", "BYRADIUS", "10", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "1", "BYRADIUS", "10",
         "km"],
        ["GEOSEARCH", "@g", "FROMLONLAT", "1", "1", "FROMMEMBER", "Palermo", "BYRADIUS", "10",
         "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km", "BYBOX", "1", "1",
         "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "km", "BYRADIUS", "10",
         "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "10"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "1", "1"],
        ["GEOSEARCH", "@g", "FROMLONLAT", "1", "BYRADIUS", "10", "km"],
        ["GEOSEARCH", "@g", "FROMLONLAT", "181", "1", "BYRADIUS", "10", "km"],
        ["GEOSEARCH", "@g", "FROMLONLAT", "x", "1", "BYRADIUS", "10", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "1", "-1", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "x", "1", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "1", "x", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "parsec"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "-1", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "x", "km"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "parsec"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STORE", "@x"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STOREDIST"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "ANY"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "COUNT", "0"],
        ["GEOSEARCH", "@nosuch", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"],
        ["GEOSEARCH", "@nosuch", "FROMMEMBER", "Palermo", "BYRADIUS", "-1", "km"],
        ["GEOSEARCH", "@nosuch", "FROMMEMBER", "Palermo"],
        ["GEOSEARCH", "@nosuch", "FROMLONLAT", "500", "1", "BYRADIUS", "1", "km"],
        ["SET", "@str", "x"],
        ["GEOSEARCH", "@str", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"],
    ],
    "geosearchstore": [
        ["GEOADD", "@g"] + SICILY,
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
         "ASC", "COUNT", "3"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["OBJECT", "ENCODING", "@dst"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
         "ASC", "COUNT", "3", "STOREDIST"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMMEMBER", "Catania", "BYRADIUS", "100", "mi",
         "STOREDIST", "DESC"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMMEMBER", "Catania", "BYRADIUS", "100", "km",
         "WITHDIST"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMMEMBER", "Catania", "BYRADIUS", "100", "km",
         "WITHHASH"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMMEMBER", "Catania", "BYRADIUS", "100", "km",
         "STORE", "@x"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMMEMBER", "Catania"],
        ["geosearchstore", "@dst", "@g", "BYRADIUS", "1", "km"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ["EXISTS", "@dst"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ["GEOSEARCHSTORE", "@dst", "@nosuch", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ["GEOSEARCHSTORE", "@g", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km",
         "STOREDIST"],
        ["ZRANGE", "@g", "0", "-1", "WITHSCORES"],
        ["SET", "@str", "x"],
        ["GEOSEARCHSTORE", "@dst", "@str", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        ["GEOSEARCHSTORE", "@str", "@g", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km"],
        ["TYPE", "@str"],
        ["GEOSEARCHSTORE", "@dst", "@g", "FROMLONLAT", "0", "0"],
    ],
    "geo_encodings": [
        # 130 members: skiplist; members longer than 64 bytes: skiplist results.
        ["GEOADD", "@big"] + [x for i in range(130)
                              for x in (str(10 + i * 0.01), str(45 + (i % 13) * 0.01),
                                        "p%03d" % i)],
        ["OBJECT", "ENCODING", "@big"],
        ["GEOSEARCH", "@big", "FROMLONLAT", "10.5", "45.05", "BYRADIUS", "5", "km", "WITHDIST",
         "ASC"],
        ["GEOSEARCH", "@big", "FROMLONLAT", "10.5", "45.05", "BYBOX", "30", "3", "km",
         "COUNT", "7", "DESC"],
        ["GEOSEARCHSTORE", "@dst", "@big", "FROMLONLAT", "10.5", "45.05", "BYRADIUS", "500",
         "km"],
        ["OBJECT", "ENCODING", "@dst"],
        ["ZCARD", "@dst"],
        ["GEOSEARCHSTORE", "@dst", "@big", "FROMLONLAT", "10.5", "45.05", "BYRADIUS", "500",
         "km", "COUNT", "128"],
        ["OBJECT", "ENCODING", "@dst"],
        ["GEOADD", "@long", "1", "1", "L" * 65, "1.001", "1", "s"],
        ["GEORADIUS", "@long", "1", "1", "10", "km", "STORE", "@dst2"],
        ["OBJECT", "ENCODING", "@dst2"],
        ["ZRANGE", "@dst2", "0", "-1", "WITHSCORES"],
    ],
    "geo_in_multi": [
        ["MULTI"],
        ["GEOADD", "@g"] + SICILY,
        ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@dst"],
        ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "COUNT", "0"],
        ["GEODIST", "@dst", "Palermo", "Catania"],
        ["EXEC"],
        ["MULTI"],
        ["GEOADD", "@g", "1"],
        ["EXEC"],
    ],
}

SORT_GROUPS = {
    "sort_list_numeric": [
        ["RPUSH", "@l", "3", "1", "2", "10", "-5", "2.5", "1e2", "0x10", " 7", "", "-0", "inf",
         "-inf"],
        ["SORT", "@l"],
        ["SORT", "@l", "DESC"],
        ["SORT", "@l", "ASC"],
        ["SORT", "@l", "desc", "asc"],
        ["SORT", "@l", "LIMIT", "0", "3"],
        ["SORT", "@l", "LIMIT", "2", "3"],
        ["SORT", "@l", "LIMIT", "-1", "3"],
        ["SORT", "@l", "LIMIT", "2", "-1"],
        ["SORT", "@l", "LIMIT", "2", "-7"],
        ["SORT", "@l", "LIMIT", "12", "5"],
        ["SORT", "@l", "LIMIT", "13", "5"],
        ["SORT", "@l", "LIMIT", "100", "5"],
        ["SORT", "@l", "LIMIT", "0", "0"],
        ["SORT", "@l", "LIMIT", "0", "100"],
        ["SORT", "@l", "LIMIT", "9223372036854775807", "9223372036854775807"],
        ["SORT", "@l", "LIMIT", "-9223372036854775808", "-9223372036854775808"],
        ["SORT", "@l", "LIMIT", "1", "2", "LIMIT", "3", "2"],
        ["SORT", "@l", "DESC", "LIMIT", "1", "4"],
        ["RPUSH", "@dup", "2", "1", "2", "1", "02", "2.0", "1"],
        ["SORT", "@dup"],
        ["SORT", "@dup", "DESC"],
        ["RPUSH", "@bad", "1", "2", "abc"],
        ["SORT", "@bad"],
        ["SORT", "@bad", "LIMIT", "0", "1"],
        ["SORT", "@bad", "ALPHA"],
        ["RPUSH", "@nan", "nan"],
        ["SORT", "@nan"],
        ["RPUSH", "@nul", "1\x00x", "2"],
        ["SORT", "@nul"],
    ],
    "sort_list_alpha": [
        ["RPUSH", "@l", "b", "a", "B", "ab", "ba", "", "a\x00b", "a\x00a", "\xff", "\xe9", "10",
         "9", "Z", "_", "a"],
        ["SORT", "@l", "ALPHA"],
        ["SORT", "@l", "ALPHA", "DESC"],
        ["SORT", "@l", "ALPHA", "LIMIT", "2", "5"],
        ["SORT", "@l", "ALPHA", "DESC", "LIMIT", "0", "3"],
        ["SORT", "@l", "alpha", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@l", "ALPHA", "DESC", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@l", "ALPHA", "ALPHA"],
        ["SORT", "@l"],
    ],
    "sort_nosort": [
        ["RPUSH", "@l", "3", "1", "2", "b", "a"],
        ["SORT", "@l", "BY", "nosort"],
        ["SORT", "@l", "BY", "nosort", "DESC"],
        ["SORT", "@l", "BY", "nosort", "LIMIT", "1", "2"],
        ["SORT", "@l", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
        ["SORT", "@l", "BY", "nosort", "DESC", "LIMIT", "3", "10"],
        ["SORT", "@l", "BY", "nosort", "LIMIT", "5", "10"],
        ["SORT", "@l", "BY", "nosort", "LIMIT", "4", "0"],
        ["SORT", "@l", "BY", "nosort", "ALPHA"],
        ["SORT", "@l", "BY", "constant-key", "GET", "#"],
        ["SORT", "@l", "BY", "nosort", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@l", "BY", "nosort", "DESC", "LIMIT", "1", "2", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["ZADD", "@z", "3", "c", "1", "a", "2", "b", "2", "bb", "5", "e", "-1", "neg"],
        ["SORT", "@z", "BY", "nosort"],
        ["SORT", "@z", "BY", "nosort", "DESC"],
        ["SORT", "@z", "BY", "nosort", "LIMIT", "1", "3"],
        ["SORT", "@z", "BY", "nosort", "DESC", "LIMIT", "1", "3"],
        ["SORT", "@z", "BY", "nosort", "DESC", "LIMIT", "5", "3"],
        ["SORT", "@z", "BY", "nosort", "LIMIT", "6", "3"],
        ["SORT", "@z", "BY", "nosort", "GET", "#", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SADD", "@is", "5", "3", "9", "1", "-2"],
        ["SORT", "@is", "BY", "nosort"],
        ["SORT", "@is", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
        ["SORT", "@is", "BY", "nosort", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SADD", "@hs", "b", "a", "c", "10", "9"],
        ["SORT", "@hs", "BY", "nosort", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@hs", "BY", "nosort", "DESC", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@hs", "BY", "nosort", "LIMIT", "1", "2", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
    ],
    "sort_by_pattern": [
        ["RPUSH", "@l", "1", "2", "3", "4", "5"],
        ["MSET", "@w_1", "50", "@w_2", "10", "@w_3", "30", "@w_5", "-1"],
        ["SORT", "@l", "BY", "@w_*"],
        ["SORT", "@l", "BY", "@w_*", "DESC"],
        ["SORT", "@l", "BY", "@w_*", "LIMIT", "1", "2"],
        ["SORT", "@l", "BY", "@w_*", "DESC", "LIMIT", "0", "1"],
        ["SORT", "@l", "BY", "@w_*", "ALPHA"],
        ["SORT", "@l", "BY", "@w_*", "ALPHA", "DESC"],
        ["SORT", "@l", "BY", "@w_*", "ALPHA", "LIMIT", "1", "3"],
        ["SORT", "@l", "BY", "@w_*_suffix"],
        ["SORT", "@l", "BY", "*"],
        ["SORT", "@l", "BY", "@w_**"],
        ["HSET", "@h_1", "f", "5", "g", "one"],
        ["HSET", "@h_2", "f", "1", "g", "two"],
        ["HSET", "@h_3", "f", "3"],
        ["HSET", "@h_4", "g", "four"],
        ["SORT", "@l", "BY", "@h_*->f"],
        ["SORT", "@l", "BY", "@h_*->f", "DESC"],
        ["SORT", "@l", "BY", "@h_*->g", "ALPHA"],
        ["SORT", "@l", "BY", "@h_*->g", "ALPHA", "DESC", "LIMIT", "1", "2"],
        ["SORT", "@l", "BY", "@h_*->nosuch"],
        ["SORT", "@l", "BY", "@h_*->"],
        ["SORT", "@l", "BY", "@h_*-"],
        ["SORT", "@l", "BY", "@h_*->f->g"],
        ["SORT", "@l", "BY", "@w_*->f"],
        ["SORT", "@l", "BY", "@h_*"],
        ["SET", "@w_4", "notanumber"],
        ["SORT", "@l", "BY", "@w_*"],
        ["SORT", "@l", "BY", "@w_*", "ALPHA"],
        ["SET", "@w_4", "7"],
        ["SORT", "@l", "BY", "@w_*", "GET", "#", "GET", "@w_*", "GET", "@h_*->g"],
        ["RPUSH", "@ties", "e", "d", "c", "b", "a", "f", "g", "h", "i", "j", "k"],
        ["SORT", "@ties", "BY", "@nokey_*"],
        ["SORT", "@ties", "BY", "@nokey_*", "DESC"],
        ["SORT", "@ties", "BY", "@nokey_*", "ALPHA"],
        ["SORT", "@ties", "BY", "@nokey_*", "ALPHA", "DESC"],
        ["SORT", "@ties", "BY", "@nokey_*", "ALPHA", "LIMIT", "2", "3"],
        ["SORT", "@ties", "BY", "@nokey_*", "ALPHA", "DESC", "LIMIT", "0", "4"],
        ["SORT", "@ties", "BY", "@nokey_*", "LIMIT", "3", "3"],
        ["SORT", "@ties", "BY", "@nokey_*", "ALPHA", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
    ],
    "sort_get": [
        ["RPUSH", "@l", "1", "2", "3"],
        ["MSET", "@o_1", "one", "@o_2", "two", "@o_3", BIN],
        ["HSET", "@h_1", "name", "uno"],
        ["HSET", "@h_3", "name", "tre", "n", "33"],
        ["RPUSH", "@o_2x", "listvalue"],
        ["SORT", "@l", "GET", "#"],
        ["SORT", "@l", "GET", "@o_*"],
        ["SORT", "@l", "GET", "@o_*", "GET", "#"],
        ["SORT", "@l", "GET", "#", "GET", "@o_*", "GET", "@h_*->name", "GET", "@h_*->n"],
        ["SORT", "@l", "GET", "@o_*x"],
        ["SORT", "@l", "GET", "fixed"],
        ["SORT", "@l", "GET", "#x"],
        ["SORT", "@l", "GET", "@h_*->"],
        ["SORT", "@l", "GET", "@h_*"],
        ["SORT", "@l", "GET", "@o_*->name"],
        ["SORT", "@l", "DESC", "GET", "@o_*", "LIMIT", "0", "2"],
        ["SORT", "@l", "GET", "@o_*", "BY", "@o_*", "ALPHA"],
        ["SORT", "@l", "GET", "@o_*", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@l", "GET", "@h_*->name", "GET", "#", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@l", "GET"],
        ["SORT", "@l", "GET", "#", "GET"],
        ["SORT", "@l", "LIMIT", "0", "0", "GET", "#", "GET", "#"],
        ["SORT", "@nosuch", "GET", "#", "GET", "@o_*"],
    ],
    "sort_store": [
        ["RPUSH", "@l", "3", "1", "2"],
        ["SORT", "@l", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["TYPE", "@dst"],
        ["OBJECT", "ENCODING", "@dst"],
        ["SORT", "@l", "DESC", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@l", "STORE", "@a", "STORE", "@b"],
        ["EXISTS", "@a", "@b"],
        ["LRANGE", "@b", "0", "-1"],
        ["SET", "@str", "x"],
        ["EXPIRE", "@str", "100"],
        ["SORT", "@l", "STORE", "@str"],
        ["TYPE", "@str"],
        ["TTL", "@str"],
        ["SORT", "@l", "LIMIT", "0", "0", "STORE", "@dst"],
        ["EXISTS", "@dst"],
        ["SORT", "@l", "LIMIT", "0", "0", "STORE", "@dst"],
        ["SORT", "@nosuch", "STORE", "@str"],
        ["EXISTS", "@str"],
        ["SORT", "@l", "STORE", "@l"],
        ["LRANGE", "@l", "0", "-1"],
        ["SADD", "@s", "c", "a", "b"],
        ["SORT", "@s", "ALPHA", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["ZADD", "@z", "1", "x", "2", "y"],
        ["SORT", "@z", "ALPHA", "DESC", "STORE", "@dst"],
        ["LRANGE", "@dst", "0", "-1"],
        ["SORT", "@l", "STORE"],
        ["SORT_RO", "@l", "STORE", "@dst"],
        ["sort_ro", "@l", "store", "@dst"],
        ["SORT_RO", "@l", "DESC"],
        ["SORT_RO", "@l", "BY", "nosort", "GET", "#"],
        ["RPUSH", "@big", *[str(i) for i in range(300, 0, -1)]],
        ["SORT", "@big", "STORE", "@bigdst"],
        ["LLEN", "@bigdst"],
        ["LRANGE", "@bigdst", "0", "5"],
        ["OBJECT", "ENCODING", "@bigdst"],
    ],
    "sort_types_and_errors": [
        ["SADD", "@s", "5", "3", "9", "1", "-2", "100"],
        ["SORT", "@s"],
        ["SORT", "@s", "DESC", "LIMIT", "1", "3"],
        ["SADD", "@hs", "b", "a", "c", "10", "9", "B"],
        ["SORT", "@hs", "ALPHA"],
        ["SORT", "@hs", "ALPHA", "DESC"],
        ["SORT", "@hs"],
        ["ZADD", "@z", "3", "c", "1", "a", "2", "b"],
        ["OBJECT", "ENCODING", "@z"],
        ["SORT", "@z", "ALPHA"],
        ["OBJECT", "ENCODING", "@z"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
        ["ZADD", "@zn", "1", "30", "2", "10", "3", "20"],
        ["SORT_RO", "@zn"],
        ["SORT_RO", "@zn", "DESC"],
        ["OBJECT", "ENCODING", "@zn"],
        ["ZADD", "@zn", "4", "5"],
        ["SORT_RO", "@zn", "BY", "nosort"],
        ["SET", "@str", "x"],
        ["SORT", "@str"],
        ["SORT", "@str", "BY", "nosort"],
        ["HSET", "@hash", "f", "v"],
        ["SORT", "@hash"],
        ["SORT_RO", "@hash"],
        ["SORT", "@str", "BADOPT"],
        ["SORT", "@nosuch"],
        ["SORT", "@nosuch", "ALPHA", "DESC", "LIMIT", "0", "1"],
        ["SORT", "@nosuch", "BY", "nosort"],
        ["SORT", "@s", "BADOPT"],
        ["SORT", "@s", "LIMIT"],
        ["SORT", "@s", "LIMIT", "1"],
        ["SORT", "@s", "LIMIT", "x", "1"],
        ["SORT", "@s", "LIMIT", "1", "x"],
        ["SORT", "@s", "LIMIT", "1.5", "1"],
        ["SORT", "@s", "BY"],
        ["SORT", "@s", "STORE"],
        ["SORT", "@s", "ASC", "x"],
        ["SORT", "@s", "LIMIT", "x", "1", "BADOPT"],
        ["SORT", "@s", "BADOPT", "LIMIT", "x", "1"],
        ["SORT"],
        ["SORT_RO"],
    ],
    "sort_in_multi": [
        ["RPUSH", "@l", "3", "1", "2"],
        ["MULTI"],
        ["SORT", "@l", "STORE", "@dst"],
        ["SORT", "@l", "BADOPT"],
        ["SORT_RO", "@dst", "DESC"],
        ["EXEC"],
        ["MULTI"],
        ["SORT_RO", "@l", "STORE", "@dst"],
        ["EXEC"],
    ],
    # Inputs that leave errno at ERANGE in Redis come last (see the module docstring).
    "sort_erange_last": [
        ["RPUSH", "@l", "1", "1e400"],
        ["SORT", "@l"],
        ["RPUSH", "@l2", "1", "1e-400"],
        ["SORT", "@l2"],
        ["SORT", "@l2", "ALPHA"],
    ],
}

GROUPS = dict(GEO_GROUPS)
GROUPS.update(SORT_GROUPS)


def compare_group(server, redis_server, name, resp3=False):
    compare_command_group(server, redis_server, GROUPS[name], [], "gs:%s" % name, resp3,
                          connect=RawConnection)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_geo_sort_match_redis_resp2(server, redis_server, group):
    compare_group(server, redis_server, group)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_geo_sort_match_redis_resp3(server, redis_server, group):
    compare_group(server, redis_server, group, resp3=True)


def test_case_table_size():
    assert sum(len(v) for v in GEO_GROUPS.values()) >= 250
    assert sum(len(v) for v in SORT_GROUPS.values()) >= 200


# ---------------------------------------------------------------------------
# Randomised geo searches (seeded), replies compared byte for byte
# ---------------------------------------------------------------------------
def rand_lon(rng):
    r = rng.random()
    if r < 0.1:
        return rng.choice(["180", "-180", "179.9999", "-179.9999", "0", "-0.00001"])
    if r < 0.25:  # around the antimeridian
        return repr(rng.choice([1, -1]) * rng.uniform(175, 180))
    return repr(rng.uniform(-180, 180))


def rand_lat(rng):
    r = rng.random()
    if r < 0.1:
        return rng.choice(["85.05112878", "-85.05112878", "85", "-85", "0", "80.5", "-66.1"])
    if r < 0.3:  # near the poles
        return repr(rng.choice([1, -1]) * rng.uniform(66, 85.05112878))
    return repr(rng.uniform(-85.05112878, 85.05112878))


def rand_radius(rng, unit):
    meters = rng.choice([rng.uniform(0, 1000), rng.uniform(0, 300e3), rng.uniform(0, 5000e3),
                         rng.uniform(5000e3, 25000e3), 0.0, 20037e3, 1.0])
    scale = {"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34}[unit.lower()]
    return repr(meters / scale)


def random_geo_points(rng, n):
    """n points: uniform, clustered, near the poles / antimeridian, and many exact duplicates
    (equal distances: the order of ties is the sort's)."""
    args = []
    for i in range(n):
        r = rng.random()
        if r < 0.15:
            lon, lat = "13.5", "38.5"
        elif r < 0.2:
            lon, lat = "-179.99", "84.9"
        elif r < 0.45:
            lon, lat = repr(13 + rng.uniform(-2, 2)), repr(38 + rng.uniform(-2, 2))
        else:
            lon, lat = rand_lon(rng), rand_lat(rng)
        args += [lon, lat, "m%d" % i]
    return args


def random_geo_command(rng, key, npts):
    unit = rng.choice(["m", "km", "ft", "mi", "KM", "Mi"])
    groups = [[o] for o in ["WITHDIST", "WITHCOORD", "WITHHASH"] if rng.random() < 0.4]
    if rng.random() < 0.5:
        groups.append(["COUNT", str(rng.choice([1, 2, 3, 5, 10, 50, 100000]))])
        if rng.random() < 0.3:
            groups.append(["ANY"])
    if rng.random() < 0.6:
        groups.append([rng.choice(["ASC", "DESC"])])
    rng.shuffle(groups)
    opts = [o for g in groups for o in g]
    radius = rand_radius(rng, unit)
    member = "m%d" % rng.randrange(npts)
    kind = rng.choice(["radius", "member", "search", "box", "search", "box", "pos", "dist",
                       "hash"])
    if kind == "radius":
        return [rng.choice(["GEORADIUS", "GEORADIUS_RO"]), key, rand_lon(rng), rand_lat(rng),
                radius, unit] + opts
    if kind == "member":
        return [rng.choice(["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"]), key, member,
                radius, unit] + opts
    if kind in ("search", "box"):
        if rng.random() < 0.5:
            frm = ["FROMMEMBER", member]
        else:
            frm = ["FROMLONLAT", rand_lon(rng), rand_lat(rng)]
        if kind == "search":
            by = ["BYRADIUS", radius, unit]
        else:
            by = ["BYBOX", radius, repr(float(radius) * rng.uniform(0.1, 4)), unit]
        return ["GEOSEARCH", key] + frm + by + opts
    if kind == "pos":
        return ["GEOPOS", key, member, "nosuch", "m%d" % rng.randrange(npts)]
    if kind == "dist":
        return ["GEODIST", key, member, "m%d" % rng.randrange(npts), unit]
    return ["GEOHASH", key, member, "m%d" % rng.randrange(npts)]


GEO_RANDOM_COMMANDS = 250


@pytest.mark.parametrize("seed,npts", [(1, 20), (2, 120), (3, 400), (4, 2500), (5, 60),
                                       (6, 1000)])
def test_random_geo_commands_match_redis(server, redis_server, seed, npts):
    rng = random.Random(seed)
    prefix = "gr:%d:%s:" % (seed, uuid.uuid4().hex[:8])
    key = prefix + "g"
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        if seed % 2 == 0:
            for conn in (ours, theirs):
                conn.command("HELLO", "3")
        points = random_geo_points(rng, npts)
        for i in range(0, len(points), 300):
            cmd = ["GEOADD", key] + points[i:i + 300]
            assert ours.command(*cmd) == theirs.command(*cmd)
        enc = ["OBJECT", "ENCODING", key]
        assert ours.command(*enc) == theirs.command(*enc)
        for n in range(GEO_RANDOM_COMMANDS):
            cmd = random_geo_command(rng, key, npts)
            if n % 25 == 0 and cmd[0] in ("GEORADIUS", "GEORADIUSBYMEMBER"):
                cmd = [c for c in cmd if c not in ("WITHDIST", "WITHCOORD", "WITHHASH")]
                cmd += [rng.choice(["STORE", "STOREDIST"]), prefix + "dst"]
                cmds = [cmd, ["ZRANGE", prefix + "dst", "0", "-1", "WITHSCORES"]]
            else:
                cmds = [cmd]
            for c in cmds:
                g, w = ours.command(*c), theirs.command(*c)
                assert g == w, "%r\n redoubt: %r\n redis:   %r" % (c, g[:2000], w[:2000])
    finally:
        ours.close()
        theirs.close()


def test_geo_poles_and_antimeridian_grid(server, redis_server):
    """A regular grid over the whole globe, searched from points on the edges of the
    projection with radii from 1 m to half the planet: the neighbour boxes wrap around in
    longitude and latitude."""
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        args = []
        for lon in range(-180, 181, 15):
            for lat in (-85.05112878, -85, -80, -66, -30, 0, 30, 66, 80, 85, 85.05112878):
                args += [str(lon), str(lat), "p%d_%s" % (lon, lat)]
        cmds = [["GEOADD", "grid"] + args]
        centres = [("180", "0"), ("-180", "0"), ("179.99", "85"), ("-179.99", "-85"),
                   ("0", "85.05112878"), ("0", "-85.05112878"), ("90", "80.1"),
                   ("-90", "-66.5"), ("0", "0")]
        for lon, lat in centres:
            for radius in ("1", "1000", "500000", "2000000", "6000000", "12000000", "20037726"):
                cmds.append(["GEORADIUS", "grid", lon, lat, radius, "m", "WITHDIST", "ASC"])
                cmds.append(["GEOSEARCH", "grid", "FROMLONLAT", lon, lat, "BYBOX", radius,
                             radius, "m", "WITHDIST", "COUNT", "7", "DESC"])
        for c in cmds:
            g, w = ours.command(*c), theirs.command(*c)
            assert g == w, "%r\n redoubt: %r\n redis:   %r" % (c, g[:2000], w[:2000])
    finally:
        ours.close()
        theirs.close()


# ---------------------------------------------------------------------------
# Randomised SORT (seeded)
# ---------------------------------------------------------------------------
SORT_RANDOM_COMMANDS = 300
NUM_POOL = ["-20", "-3", "0", "1", "2", "7", "13", "1.5", "-0.5", "3e2", "007", "100"]
STR_POOL = ["a", "b", "B", "ab", "ba", "z", "zz", "\xe9", "A1", "", "_", "a b"]


def sort_fixture_commands(rng, p):
    cmds = []
    lst = [rng.choice(NUM_POOL + STR_POOL if rng.random() < 0.3 else NUM_POOL)
           for _ in range(rng.randint(0, 60))]
    lst_bin = lst + ["a\x00b", "a\x00c"]  # equal for strcoll: a list keeps its order
    if lst:
        cmds.append(["RPUSH", p + "L"] + lst_bin)
    cmds.append(["RPUSH", p + "LS"] + [rng.choice(STR_POOL) for _ in range(rng.randint(1, 40))])
    cmds.append(["SADD", p + "I"] + list({str(rng.randint(-50, 50)) for _ in range(25)}))
    cmds.append(["SADD", p + "S"] + list({rng.choice(STR_POOL) + str(rng.randint(0, 20))
                                          for _ in range(25)}))
    zset = []
    for i in range(rng.randint(1, 40)):
        zset += [str(rng.randint(0, 10)), rng.choice(NUM_POOL + STR_POOL) + str(i)]
    cmds.append(["ZADD", p + "Z"] + zset)
    members = set(lst_bin) | set(NUM_POOL) | set(STR_POOL) | set(zset[1::2])
    members |= {str(i) for i in range(-50, 51)}
    for m in sorted(members):
        if rng.random() < 0.6:
            cmds.append(["SET", p + "w_" + m,
                         rng.choice([str(rng.randint(0, 5)), "x%d" % rng.randint(0, 3),
                                     repr(rng.uniform(-3, 3))])])
        if rng.random() < 0.5:
            cmds.append(["HSET", p + "h_" + m, "f", str(rng.randint(0, 4)), "g",
                         rng.choice(STR_POOL)])
    return cmds


def random_sort_command(rng, p):
    key = rng.choice(["L", "LS", "I", "S", "Z", "nokey"])
    name = "SORT" if rng.random() < 0.7 else "SORT_RO"
    alpha = rng.random() < 0.4 or key in ("LS", "S")
    by = None
    r = rng.random()
    if r < 0.25:
        by = "nosort"
    elif r < 0.5:
        by = p + "w_*"
    elif r < 0.65:
        by = p + "h_*->" + rng.choice(["f", "g", "nosuch"])
    if by and by != "nosort" and alpha and key not in ("L", "LS"):
        by = None  # equal BY values: Redis lists those in hash-table order
    if by == "nosort" and key == "S" and name == "SORT_RO":
        by = None  # unsorted hash-table order
    parts = []
    if by:
        parts.append(["BY", by])
    if rng.random() < 0.5:
        parts.append(["LIMIT", str(rng.randint(-2, 8)), str(rng.randint(-2, 8))])
    for _ in range(rng.choice([0, 0, 1, 2])):
        parts.append(["GET", rng.choice(["#", p + "w_*", p + "h_*->g", p + "h_*->f", "fixed"])])
    if rng.random() < 0.5:
        parts.append([rng.choice(["ASC", "DESC"])])
    if alpha:
        parts.append(["ALPHA"])
    store = name == "SORT" and rng.random() < 0.3
    if store:
        parts.append(["STORE", p + "dst"])
    if by == "nosort" and key == "S" and not store:
        parts = [x for x in parts if x[0] != "BY"]
    rng.shuffle(parts)
    args = [name, p + key]
    for x in parts:
        args += x
    cmds = [args]
    if store:
        cmds.append(["LRANGE", p + "dst", "0", "-1"])
    return cmds


@pytest.mark.parametrize("seed", list(range(1, 9)))
def test_random_sort_commands_match_redis(server, redis_server, seed):
    rng = random.Random(seed)
    p = "sr:%d:%s:" % (seed, uuid.uuid4().hex[:8])
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        if seed % 2 == 0:
            for conn in (ours, theirs):
                conn.command("HELLO", "3")
        for cmd in sort_fixture_commands(rng, p):
            assert ours.command(*cmd) == theirs.command(*cmd), cmd
        for _ in range(SORT_RANDOM_COMMANDS):
            for cmd in random_sort_command(rng, p):
                g, w = ours.command(*cmd), theirs.command(*cmd)
                assert g == w, "%r\n redoubt: %r\n redis:   %r" % (cmd, g[:2000], w[:2000])
    finally:
        ours.close()
        theirs.close()


def test_sort_large_list_limit_partial_sort(server, redis_server):
    """Thousands of elements with few distinct BY values: LIMIT windows use the partial
    quicksort, whose order of ties must be Redis's."""
    rng = random.Random(11)
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        elems = ["e%d" % i for i in range(3000)]
        rng.shuffle(elems)
        cmds = [["RPUSH", "big"] + elems]
        for i in range(0, 3000, 500):
            args = []
            for e in elems[i:i + 500]:
                args += ["wt_" + e, str(rng.randint(0, 9)), "ws_" + e, rng.choice("abc")]
            cmds.append(["MSET"] + args)
        for _ in range(60):
            a, n = rng.randint(0, 3100), rng.randint(0, 40)
            cmds.append(["SORT", "big", "BY", rng.choice(["wt_*", "ws_*"]), "LIMIT", str(a),
                         str(n)] + rng.choice([[], ["DESC"], ["ALPHA"], ["ALPHA", "DESC"]]))
        cmds.append(["SORT", "big", "BY", "ws_*", "ALPHA", "LIMIT", "100", "50", "STORE", "d"])
        cmds.append(["LRANGE", "d", "0", "-1"])
        for c in cmds:
            g, w = ours.command(*c), theirs.command(*c)
            assert g == w, c[:8]
    finally:
        ours.close()
        theirs.close()


# ---------------------------------------------------------------------------
# Keyspace events
# ---------------------------------------------------------------------------
NOTIFY_SEQUENCE = [
    ["GEOADD", "@g"] + SICILY,
    ["GEOADD", "@g", "13.361389", "38.115556", "Palermo"],
    ["GEOADD", "@g", "XX", "1", "1", "nosuch"],
    ["GEORADIUS", "@g", "15", "37", "200", "km", "STORE", "@r"],
    ["GEORADIUS", "@g", "15", "37", "200", "km", "STOREDIST", "@r"],
    ["GEORADIUS", "@g", "15", "37", "1", "m", "STORE", "@r"],
    ["GEORADIUS", "@g", "15", "37", "1", "m", "STORE", "@r"],
    ["GEORADIUSBYMEMBER", "@g", "Palermo", "200", "km", "STORE", "@r"],
    ["GEOSEARCHSTORE", "@s", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km"],
    ["GEOSEARCHSTORE", "@s", "@nosuch", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km"],
    ["GEOSEARCH", "@g", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km"],
    ["RPUSH", "@l", "3", "1", "2"],
    ["SORT", "@l", "STORE", "@d"],
    ["SORT", "@l", "BY", "nosort", "STORE", "@d"],
    ["SORT", "@l", "LIMIT", "0", "0", "STORE", "@d"],
    ["SORT", "@l", "LIMIT", "0", "0", "STORE", "@d"],
    ["SORT", "@nosuch", "STORE", "@d"],
    ["SORT_RO", "@l"],
    ["SORT", "@l"],
]


def collect_events(srv, prefix):
    cfg = RawConnection(srv.client())
    sub = RawConnection(srv.client())
    try:
        cfg.command("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub.command("PSUBSCRIBE", "__key*__:%s*" % prefix)
        for cmd in NOTIFY_SEQUENCE:
            cfg.command(*[prefix + a[1:] if a.startswith("@") else a for a in cmd])
        cfg.command("PUBLISH", "__keyspace@0__:%sEND" % prefix, "end")
        events = []
        while True:
            msg = parse_resp(sub.read_reply())
            events.append((msg[2], msg[3]))
            if msg[3] == b"end":
                break
        return events
    finally:
        cfg.command("CONFIG", "SET", "notify-keyspace-events", "")
        cfg.close()
        sub.close()


def test_keyspace_events_match_redis(server, redis_server):
    prefix = "gev:%s:" % uuid.uuid4().hex[:8]
    ours = collect_events(server, prefix)
    assert ours == collect_events(redis_server, prefix)
    assert (("__keyspace@0__:%sd" % prefix).encode(), b"sortstore") in ours


def test_watch_invalidated_by_store(server, redis_server):
    """GEORADIUS ... STORE, GEOSEARCHSTORE and SORT ... STORE touch their destination (WATCH
    fails); a STORE that finds nothing and had nothing to delete does not."""
    results = []
    for srv in (server, redis_server):
        a = RawConnection(srv.client())
        b = RawConnection(srv.client())
        try:
            b.command("GEOADD", "wg", *SICILY)
            b.command("RPUSH", "wl", "2", "1")
            out = []
            for cmd in (["GEORADIUS", "wg", "15", "37", "200", "km", "STORE", "wd"],
                        ["GEOSEARCHSTORE", "wd", "wg", "FROMMEMBER", "Palermo", "BYRADIUS",
                         "1", "m"],
                        ["SORT", "wl", "STORE", "wd"],
                        ["SORT", "wl", "LIMIT", "0", "0", "STORE", "wnone"],
                        ["GEORADIUS", "wg", "0", "0", "1", "m", "STORE", "wnone"],
                        ["SORT", "wl"],
                        ["GEOADD", "wg", "NX", "13.361389", "38.115556", "Palermo"]):
                key = "wnone" if "wnone" in cmd else ("wg" if cmd[0] == "GEOADD" else "wd")
                a.command("WATCH", key)
                b.command(*cmd)
                a.command("MULTI")
                a.command("PING")
                out.append(a.command("EXEC"))
            results.append(out)
        finally:
            a.close()
            b.close()
    assert results[0] == results[1]


# ---------------------------------------------------------------------------
# ACL: BY / GET patterns need a user that may read every key
# ---------------------------------------------------------------------------
ACL_SEQUENCE = [
    ["ACL", "SETUSER", "@u1", "on", "nopass", "~l*", "+@all"],
    ["ACL", "SETUSER", "@u2", "on", "nopass", "%R~*", "~l*", "+@all"],
    ["ACL", "SETUSER", "@u3", "on", "nopass", "~l*", "+@all", "(~* +sort)"],
    ["ACL", "SETUSER", "@u4", "on", "nopass", "%W~*", "~l*", "+@all"],
    ["ACL", "SETUSER", "@u5", "on", "nopass", "allkeys", "+@all", "-sort"],
    ["ACL", "SETUSER", "@u6", "on", "nopass", "~l*", "+@all", "(~* +sort_ro)"],
    ["ACL", "SETUSER", "@u7", "on", "nopass", "~*", "-@all", "+sort", "+auth"],
    ["RPUSH", "l", "2", "1"],
    ["SET", "w_1", "5"],
    ["AUTH", "@u1", "x"],
    ["SORT", "l"],
    ["SORT", "l", "BY", "nosort"],
    ["SORT", "l", "BY", "w_*"],
    ["SORT", "l", "GET", "#"],
    ["SORT", "l", "BY", "nosort", "GET", "w_*"],
    ["SORT", "l", "BADOPT", "GET", "#"],
    ["SORT", "l", "GET", "#", "BADOPT"],
    ["SORT", "l", "LIMIT", "x", "1", "GET", "#"],
    ["SORT", "other"],
    ["SORT", "l", "STORE", "other"],
    ["SORT", "l", "STORE", "ldst"],
    ["SORT_RO", "l", "GET", "#"],
    ["AUTH", "@u2", "x"],
    ["SORT", "l", "BY", "w_*"],
    ["SORT", "l", "GET", "#"],
    ["SORT", "l", "BY", "w_*", "STORE", "dst"],
    ["AUTH", "@u3", "x"],
    ["SORT", "l", "BY", "w_*"],
    ["SORT", "l", "GET", "#"],
    ["SORT_RO", "l", "GET", "#"],
    ["AUTH", "@u4", "x"],
    ["SORT", "l", "BY", "w_*"],
    ["SORT", "l", "GET", "#"],
    ["AUTH", "@u5", "x"],
    ["SORT", "l", "BY", "w_*"],
    ["SORT_RO", "l", "BY", "w_*"],
    ["AUTH", "@u6", "x"],
    ["SORT", "l", "BY", "w_*"],
    ["SORT_RO", "l", "BY", "w_*"],
    ["SORT_RO", "l", "GET", "#", "GET", "w_*"],
    ["AUTH", "@u7", "x"],
    ["SORT", "l", "BY", "w_*", "GET", "#"],
    ["SORT", "l", "BY", "w_*", "STORE", "ldst"],
    ["AUTH", "default", "x"],
]


def test_sort_acl_patterns_match_redis(server, redis_server):
    tag = uuid.uuid4().hex[:6]
    cmds = [[("u%s%s" % (tag, a[2:])) if a.startswith("@u") else a for a in c]
            for c in ACL_SEQUENCE]
    replies = []
    for srv in (server, redis_server):
        conn = RawConnection(srv.client())
        try:
            replies.append([conn.command(*c) for c in cmds])
        finally:
            conn.close()
    for cmd, g, w in zip(cmds, replies[0], replies[1]):
        assert g == w, "%r\n redoubt: %r\n redis:   %r" % (cmd, g, w)
    by_denied = b"-ERR BY option of SORT denied due to insufficient ACL permissions.\r\n"
    assert replies[0].count(by_denied) >= 3


# ---------------------------------------------------------------------------
# Propagation: what the AOF receives
# ---------------------------------------------------------------------------
PROPAGATION_SEQUENCE = [
    ["GEOADD", "pg", "CH", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
     "Catania"],
    ["GEOADD", "pg", "NX", "1", "1", "Palermo"],
    ["GEOADD", "pg", "XX", "CH", "13.4", "38.1", "Palermo"],
    ["GEOADD", "pg", "1", "1"],
    ["GEORADIUS", "pg", "15", "37", "200", "km", "STORE", "pr"],
    ["GEORADIUS", "pg", "15", "37", "200", "km", "STOREDIST", "pr", "COUNT", "1"],
    ["GEORADIUS", "pg", "15", "37", "1", "m", "STORE", "pr"],
    ["GEORADIUS", "pg", "15", "37", "1", "m", "STORE", "pr"],
    ["GEORADIUS", "pg", "15", "37", "200", "km"],
    ["GEOSEARCHSTORE", "ps", "pg", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km"],
    ["GEOSEARCH", "pg", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km"],
    ["RPUSH", "pl", "3", "1", "2"],
    ["SORT", "pl", "STORE", "pd"],
    ["SORT", "pl"],
    ["SORT_RO", "pl", "DESC"],
    ["SADD", "pset", "b", "a", "c"],
    ["SORT", "pset", "BY", "nosort", "STORE", "pd2"],
    ["SORT", "pl", "LIMIT", "0", "0", "STORE", "pd"],
    ["SORT", "pl", "LIMIT", "0", "0", "STORE", "pd"],
    ["SET", "end", "1"],
]


def aof_commands(srv):
    """The commands of the AOF's last incr file, each a list of bytes."""
    d = Path(srv.dir) / "appendonlydir"
    manifest = (d / "appendonly.aof.manifest").read_text().splitlines()
    incr = [ln.split()[1] for ln in manifest if ln.strip().endswith("type i")][-1]
    data = (d / incr).read_bytes()
    cmds, pos = [], 0
    while pos < len(data):
        assert data[pos:pos + 1] == b"*", data[pos:pos + 40]
        end = data.index(b"\r\n", pos)
        n = int(data[pos + 1:end])
        pos = end + 2
        args = []
        for _ in range(n):
            end = data.index(b"\r\n", pos)
            size = int(data[pos + 1:end])
            args.append(data[end + 2:end + 2 + size])
            pos = end + 2 + size + 2
        cmds.append(args)
    return cmds


@pytest.mark.plain_only("the AOF does not depend on how clients connect")
def test_propagation_matches_redis(server_factory, redis_server_factory):
    """GEOADD reaches the AOF as the ZADD it runs; GEORADIUS ... STORE, GEOSEARCHSTORE and
    SORT ... STORE as themselves, only when they changed something."""
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    got = []
    for factory in (server_factory, redis_server_factory):
        srv = factory(args)
        conn = RawConnection(srv.client())
        try:
            for cmd in PROPAGATION_SEQUENCE:
                conn.command(*cmd)
        finally:
            conn.close()
        deadline = time.time() + 10
        while True:
            cmds = aof_commands(srv)
            if cmds and cmds[-1] == [b"SET", b"end", b"1"] or time.time() > deadline:
                break
            time.sleep(0.05)
        got.append(cmds)
    assert got[0] == got[1]
    assert [b"zadd", b"pg", b"CH"] in [c[:3] for c in got[0]]


# ---------------------------------------------------------------------------
# COMMAND INFO / DOCS / GETKEYS
# ---------------------------------------------------------------------------
OWNED_COMMANDS = ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
                  "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore",
                  "sort", "sort_ro"]


@pytest.mark.parametrize("name", OWNED_COMMANDS)
def test_command_info_and_docs_bytes_match_redis(server, redis_server, name):
    for sub in ("INFO", "DOCS"):
        conn = RawConnection(server.client())
        ref = RawConnection(redis_server.client())
        try:
            assert conn.command("COMMAND", sub, name) == ref.command("COMMAND", sub, name), sub
        finally:
            conn.close()
            ref.close()


GETKEYS_SAMPLES = [
    ["sort", "a"],
    ["sort", "a", "STORE", "b"],
    ["sort", "a", "BY", "x", "STORE", "b", "GET", "y", "LIMIT", "0", "1", "STORE", "c"],
    ["sort", "a", "LIMIT", "store", "x", "y"],
    ["sort", "a", "STORE"],
    ["sort_ro", "a", "BY", "x", "GET", "y"],
    ["georadius", "a", "0", "0", "1", "km", "STORE", "b"],
    ["georadius", "a", "0", "0", "1", "km", "STORE", "b", "STOREDIST", "c"],
    ["georadius", "a", "0", "0", "1", "km"],
    ["georadiusbymember", "a", "m", "1", "km", "STOREDIST", "b"],
    ["georadius_ro", "a", "0", "0", "1", "km"],
    ["geosearchstore", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
    ["geosearch", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
    ["geoadd", "a", "0", "0", "m"],
    ["geopos", "a", "m"],
]


@pytest.mark.parametrize("args", GETKEYS_SAMPLES, ids=lambda a: "-".join(a[:3]))
def test_command_getkeys_matches_redis(server, redis_server, args):
    conn = RawConnection(server.client())
    ref = RawConnection(redis_server.client())
    try:
        for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
            cmd = ["COMMAND", sub] + args
            assert conn.command(*cmd) == ref.command(*cmd), cmd
    finally:
        conn.close()
        ref.close()


# The transport does not matter to what this file checks: one run, in the plain pass (keeps
# ./runtest under its 30-minute budget).
pytestmark = pytest.mark.plain_only("transport-independent: run once (plain)")
