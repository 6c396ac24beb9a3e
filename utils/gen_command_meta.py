#!/usr/bin/python3
"""gen_command_meta.py: regenerate server/command_meta_data.c from a running
Redis 7.0 server (the reference for COMMAND INFO tips and key specs, and the
COMMAND DOCS fields our command tables do not declare).

Usage: redis-server --port 7390 --save '' &
       utils/gen_command_meta.py 7390 > server/command_meta_data.c

The facts (key positions, tips, complexity, history, argument trees) are
protocol metadata read from the reference server's replies; nothing here is
Redis source code."""
import socket
import sys


class Resp3Reader:
    """Minimal RESP3 reader returning (kind, value) tuples so that maps,
    sets and arrays stay distinguishable."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"$":
            return ("bulk", self._bytes(int(rest)))
        if t == b"+":
            return ("status", rest)
        if t == b":":
            return ("int", int(rest))
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b"_":
            return ("null", None)
        if t in (b"*", b"~"):
            kind = "array" if t == b"*" else "set"
            return (kind, [self.read() for _ in range(int(rest))])
        if t == b"%":
            items = []
            for _ in range(int(rest)):
                items.append((self.read(), self.read()))
            return ("map", items)
        raise RuntimeError("unexpected reply type %r" % line)


def command(sock, reader, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return reader.read()


def template(node):
    """Serialises a reply tree into the template language that
    command_meta_render() in commands.c replays."""
    kind, val = node
    if kind == "bulk":
        return b"$%d\n" % len(val) + val
    if kind == "status":
        return b"+%d\n" % len(val) + val
    if kind == "int":
        return b":%d\n" % val
    if kind in ("array", "set"):
        head = b"*" if kind == "array" else b"~"
        return head + b"%d\n" % len(val) + b"".join(template(v) for v in val)
    if kind == "map":
        return b"%%%d\n" % len(val) + b"".join(
            template(k) + template(v) for k, v in val)
    raise RuntimeError(kind)


def c_string(data):
    out = []
    for b in data:
        ch = chr(b)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= b < 127 and ch != "?":
            out.append(ch)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


KEY_FLAGS = {"RO": "KSPEC_RO", "RW": "KSPEC_RW", "OW": "KSPEC_OW",
             "RM": "KSPEC_RM", "access": "KSPEC_ACCESS",
             "update": "KSPEC_UPDATE", "insert": "KSPEC_INSERT",
             "delete": "KSPEC_DELETE", "not_key": "KSPEC_NOT_KEY",
             "incomplete": "KSPEC_INCOMPLETE",
             "variable_flags": "KSPEC_VARIABLE_FLAGS"}


def as_dict(node):
    return {k[1].decode(): v for k, v in node[1]}


def key_spec_c(spec):
    d = as_dict(spec)
    flags = " | ".join(KEY_FLAGS[f[1].decode()] for f in d["flags"][1]) or "0"
    bs = as_dict(d["begin_search"])
    bs_type = bs["type"][1].decode()
    bs_spec = as_dict(bs["spec"])
    fk = as_dict(d["find_keys"])
    fk_type = fk["type"][1].decode()
    fk_spec = as_dict(fk["spec"])
    notes = c_string(d["notes"][1]) if "notes" in d else "NULL"
    if bs_type == "index":
        bs_c = "KSPEC_BS_INDEX, %d, NULL, 0" % bs_spec["index"][1]
    elif bs_type == "keyword":
        bs_c = "KSPEC_BS_KEYWORD, 0, %s, %d" % (
            c_string(bs_spec["keyword"][1]), bs_spec["startfrom"][1])
    else:
        bs_c = "KSPEC_BS_UNKNOWN, 0, NULL, 0"
    if fk_type == "range":
        fk_c = "KSPEC_FK_RANGE, %d, %d, %d" % (
            fk_spec["lastkey"][1], fk_spec["keystep"][1], fk_spec["limit"][1])
    elif fk_type == "keynum":
        fk_c = "KSPEC_FK_KEYNUM, %d, %d, %d" % (
            fk_spec["keynumidx"][1], fk_spec["firstkey"][1],
            fk_spec["keystep"][1])
    else:
        fk_c = "KSPEC_FK_UNKNOWN, 0, 0, 0"
    return "{%s, %s, %s, %s}" % (flags, bs_c, fk_c, notes)


DOC_KEYS_FROM_TABLE = ("summary", "since", "group", "subcommands")


def walk_info(info, out):
    fields = info[1]
    name = fields[0][1].decode()
    out[name] = {"tips": fields[7], "specs": fields[8][1]}
    for sub in fields[9][1]:
        walk_info(sub, out)


def walk_docs(name, docs, out):
    extra = []
    for k, v in docs[1]:
        key = k[1].decode()
        if key == "subcommands":
            for sk, sv in v[1]:
                walk_docs(sk[1].decode(), sv, out)
        elif key not in DOC_KEYS_FROM_TABLE:
            extra.append((k, v))
    out[name] = extra


def main():
    port = int(sys.argv[1])
    sock = socket.create_connection(("127.0.0.1", port))
    reader = Resp3Reader(sock)
    command(sock, reader, "HELLO", "3")
    infos = {}
    for info in command(sock, reader, "COMMAND", "INFO")[1]:
        walk_info(info, infos)
    docs = {}
    for k, v in command(sock, reader, "COMMAND", "DOCS")[1]:
        walk_docs(k[1].decode(), v, docs)

    print("/* command_meta_data.c: GENERATED by utils/gen_command_meta.py from")
    print(" * Redis 7.0.15's COMMAND INFO and COMMAND DOCS replies. Do not edit.")
    print(" * Tips and docs are reply templates (see command_meta.h). */")
    print('#include "command_meta.h"')
    print()
    names = sorted(infos)
    for i, name in enumerate(names):
        specs = infos[name]["specs"]
        if specs:
            print("static const command_key_spec specs_%d[] = {" % i)
            for s in specs:
                print("    %s," % key_spec_c(s))
            print("};")
    print()
    print("const command_meta command_meta_table[] = {")
    for i, name in enumerate(names):
        tips = template(infos[name]["tips"])
        extra = docs.get(name, [])
        docs_tpl = b"".join(template(k) + template(v) for k, v in extra)
        nspecs = len(infos[name]["specs"])
        print("    {%s, %s, %s, %d, %d, %s}," % (
            c_string(name.encode()), c_string(tips),
            ("specs_%d" % i) if nspecs else "NULL", nspecs, len(extra),
            c_string(docs_tpl)))
    print("};")
    print("const size_t command_meta_table_len =")
    print("    sizeof(command_meta_table) / sizeof(command_meta_table[0]);")


if __name__ == "__main__":
    main()
