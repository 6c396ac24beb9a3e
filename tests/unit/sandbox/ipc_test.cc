// ipc_test.cc: the main <-> handshaker codec (sandbox/ipc.h).
//
// For every message type: a round trip through builder and parser gives the
// same fields; every truncation of a valid datagram is rejected; a trailing
// byte is rejected; fields over their named maximum are refused by the
// builder and by the parser; requests are not accepted as answers and vice
// versa; the conn_id rule (0 for process-wide, nonzero per connection) holds.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "sandbox/ipc.h"
}

namespace {

using Bytes = std::vector<uint8_t>;

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; i++) {
    b[i] = static_cast<uint8_t>(seed + i * 7);
  }
  return b;
}

// A buffer big enough for any datagram plus slack, so tests can append.
struct Datagram {
  Bytes buf = Bytes(IPC_MAX_MESSAGE + 64);
  size_t len = 0;
  Bytes Get() const { return Bytes(buf.begin(), buf.begin() + len); }
};

bool ParseRequest(const Bytes &b, ipc_message *m) {
  return ipc_parse_request(b.data(), b.size(), m) == 1;
}
bool ParseAnswer(const Bytes &b, ipc_message *m) {
  return ipc_parse_answer(b.data(), b.size(), m) == 1;
}

// Asserts the common rejection properties of a valid datagram |b| that
// |parse| accepts and the other direction's parser rejects.
void ExpectStrict(const Bytes &b, bool is_request) {
  auto parse = is_request ? ParseRequest : ParseAnswer;
  auto other = is_request ? ParseAnswer : ParseRequest;
  ipc_message m;
  ASSERT_TRUE(parse(b, &m));
  ipc_message_cleanup(&m);
  // Wrong direction.
  EXPECT_FALSE(other(b, &m));
  // Every truncation point.
  for (size_t n = 0; n < b.size(); n++) {
    Bytes t(b.begin(), b.begin() + n);
    EXPECT_FALSE(parse(t, &m)) << "truncated at " << n << " of " << b.size();
  }
  // One trailing byte.
  Bytes extra = b;
  extra.push_back(0);
  EXPECT_FALSE(parse(extra, &m));
  // Flipping conn_id between zero and nonzero is rejected.
  Bytes flipped = b;
  bool zero = true;
  for (int i = 1; i <= 8; i++) {
    zero = zero && flipped[i] == 0;
  }
  if (zero) {
    flipped[8] = 1;
  } else {
    std::memset(&flipped[1], 0, 8);
  }
  EXPECT_FALSE(parse(flipped, &m));
}

ipc_config SampleConfig() {
  ipc_config c;
  std::memset(&c, 0, sizeof(c));
  c.cert_file = "/etc/redoubt/server.crt";
  c.key_file = "/etc/redoubt/server.key";
  c.key_file_pass = "redoubt-test-pass";
  c.ca_cert_file = "/etc/redoubt/ca.crt";
  c.ca_cert_dir = nullptr;
  c.dh_params_file = "";
  c.protocols = "TLSv1.2 TLSv1.3";
  c.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  c.ciphersuites = "TLS_AES_128_GCM_SHA256";
  c.sandbox_user = "nobody";
  c.client_cert_file = "/etc/redoubt/client.crt";
  c.client_key_file = "/etc/redoubt/client.key";
  c.client_key_file_pass = nullptr;
  c.auth_clients = 2;
  c.prefer_server_ciphers = 1;
  c.session_caching = 1;
  c.seccomp = 1;
  c.session_cache_size = 20480;
  c.session_cache_timeout = 300;
  return c;
}

std::string Str(const char *s) { return s ? std::string(s) : "(null)"; }

TEST(IpcTest, ConfigRoundTrip) {
  Datagram d;
  ipc_config c = SampleConfig();
  d.len = ipc_build_config(d.buf.data(), d.buf.size(), &c);
  ASSERT_GT(d.len, 0u);
  ipc_message m;
  ASSERT_TRUE(ParseRequest(d.Get(), &m));
  EXPECT_EQ(m.type, IPC_REQ_CONFIG);
  EXPECT_EQ(m.conn_id, 0u);
  EXPECT_EQ(Str(m.config.cert_file), c.cert_file);
  EXPECT_EQ(Str(m.config.key_file), c.key_file);
  EXPECT_EQ(Str(m.config.key_file_pass), c.key_file_pass);
  EXPECT_EQ(Str(m.config.ca_cert_file), c.ca_cert_file);
  EXPECT_EQ(m.config.ca_cert_dir, nullptr);
  EXPECT_EQ(m.config.dh_params_file, nullptr);  // "" means unset
  EXPECT_EQ(Str(m.config.protocols), c.protocols);
  EXPECT_EQ(Str(m.config.ciphers), c.ciphers);
  EXPECT_EQ(Str(m.config.ciphersuites), c.ciphersuites);
  EXPECT_EQ(Str(m.config.sandbox_user), c.sandbox_user);
  EXPECT_EQ(Str(m.config.client_cert_file), c.client_cert_file);
  EXPECT_EQ(Str(m.config.client_key_file), c.client_key_file);
  EXPECT_EQ(m.config.client_key_file_pass, nullptr);
  EXPECT_EQ(m.config.auth_clients, 2);
  EXPECT_EQ(m.config.prefer_server_ciphers, 1);
  EXPECT_EQ(m.config.session_caching, 1);
  EXPECT_EQ(m.config.seccomp, 1);
  EXPECT_EQ(m.config.session_cache_size, 20480u);
  EXPECT_EQ(m.config.session_cache_timeout, 300u);
  ipc_message_cleanup(&m);
  EXPECT_EQ(m.owned_strings, nullptr);
  ExpectStrict(d.Get(), true);
}

TEST(IpcTest, ConfigLimits) {
  Datagram d;
  ipc_config c = SampleConfig();
  std::string max_path(IPC_MAX_PATH, 'p');
  std::string long_path(IPC_MAX_PATH + 1, 'p');
  c.cert_file = max_path.c_str();
  c.key_file = max_path.c_str();
  EXPECT_GT(ipc_build_config(d.buf.data(), d.buf.size(), &c), 0u);
  c.cert_file = long_path.c_str();
  EXPECT_EQ(ipc_build_config(d.buf.data(), d.buf.size(), &c), 0u);
  c = SampleConfig();
  c.auth_clients = 3;
  EXPECT_EQ(ipc_build_config(d.buf.data(), d.buf.size(), &c), 0u);
  c = SampleConfig();
  c.seccomp = 2;
  EXPECT_EQ(ipc_build_config(d.buf.data(), d.buf.size(), &c), 0u);
  // Capacity one short of the message is refused.
  c = SampleConfig();
  size_t n = ipc_build_config(d.buf.data(), d.buf.size(), &c);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(ipc_build_config(d.buf.data(), n - 1, &c), 0u);
  EXPECT_EQ(ipc_build_config(d.buf.data(), n, &c), n);
}

// Hand-built datagrams: the parser must enforce limits even when a builder
// would never produce the message.
Bytes Header(uint8_t type, uint64_t conn_id) {
  Bytes b;
  b.push_back(type);
  for (int i = 7; i >= 0; i--) {
    b.push_back(static_cast<uint8_t>(conn_id >> (8 * i)));
  }
  return b;
}
void PutU32(Bytes *b, uint32_t v) {
  for (int i = 3; i >= 0; i--) {
    b->push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
}
void PutField(Bytes *b, const Bytes &f) {
  PutU32(b, static_cast<uint32_t>(f.size()));
  b->insert(b->end(), f.begin(), f.end());
}

TEST(IpcTest, ParserRejectsOversizeFields) {
  ipc_message m;
  // RECORD one byte over IPC_MAX_RECORD.
  Bytes rec = Header(IPC_REQ_RECORD, 7);
  PutField(&rec, Pattern(IPC_MAX_RECORD + 1, 1));
  EXPECT_FALSE(ParseRequest(rec, &m));
  rec = Header(IPC_REQ_RECORD, 7);
  PutField(&rec, Pattern(IPC_MAX_RECORD, 1));
  EXPECT_TRUE(ParseRequest(rec, &m));
  // A length that claims more than the datagram holds.
  rec = Header(IPC_REQ_RECORD, 7);
  PutU32(&rec, 0xffffffffu);
  rec.push_back(0x16);
  EXPECT_FALSE(ParseRequest(rec, &m));
  // FAIL reason over IPC_MAX_REASON.
  Bytes fail = Header(IPC_ANS_FAIL, 7);
  PutField(&fail, Bytes(IPC_MAX_REASON + 1, 'r'));
  PutField(&fail, Bytes());
  EXPECT_FALSE(ParseAnswer(fail, &m));
  // A NUL inside a string.
  fail = Header(IPC_ANS_FAIL, 7);
  Bytes reason = {'a', 0, 'b'};
  PutField(&fail, reason);
  PutField(&fail, Bytes());
  EXPECT_FALSE(ParseAnswer(fail, &m));
  // DONE handback over IPC_MAX_HANDBACK, and empty handback.
  Bytes done = Header(IPC_ANS_DONE, 7);
  PutField(&done, Bytes());
  PutField(&done, Pattern(IPC_MAX_HANDBACK + 1, 2));
  done.push_back(0);
  EXPECT_FALSE(ParseAnswer(done, &m));
  done = Header(IPC_ANS_DONE, 7);
  PutField(&done, Bytes());
  PutField(&done, Bytes());
  done.push_back(0);
  EXPECT_FALSE(ParseAnswer(done, &m));
  // DONE resumed must be 0 or 1.
  done = Header(IPC_ANS_DONE, 7);
  PutField(&done, Bytes());
  PutField(&done, Pattern(10, 2));
  done.push_back(2);
  EXPECT_FALSE(ParseAnswer(done, &m));
  // NEED_INPUT out over IPC_MAX_FLIGHT.
  Bytes need = Header(IPC_ANS_NEED_INPUT, 7);
  PutField(&need, Pattern(IPC_MAX_FLIGHT + 1, 3));
  EXPECT_FALSE(ParseAnswer(need, &m));
  // A whole datagram over IPC_MAX_MESSAGE is refused before parsing.
  Bytes huge(IPC_MAX_MESSAGE + 1, 0);
  EXPECT_FALSE(ParseAnswer(huge, &m));
  EXPECT_FALSE(ParseRequest(huge, &m));
  // Empty, and a lone type byte.
  EXPECT_FALSE(ParseRequest(Bytes(), &m));
  EXPECT_FALSE(ParseAnswer(Bytes{IPC_ANS_READY}, &m));
  // Too many ticket keys.
  Bytes keys = Header(IPC_REQ_TICKET_KEYS, 0);
  keys.push_back(IPC_MAX_TICKET_KEYS + 1);
  Bytes raw = Pattern((IPC_MAX_TICKET_KEYS + 1) * IPC_TICKET_KEY_LEN, 4);
  keys.insert(keys.end(), raw.begin(), raw.end());
  EXPECT_FALSE(ParseRequest(keys, &m));
  // Unknown types.
  EXPECT_FALSE(ParseRequest(Header(0, 1), &m));
  EXPECT_FALSE(ParseRequest(Header(6, 1), &m));
  EXPECT_FALSE(ParseAnswer(Header(69, 1), &m));
  EXPECT_FALSE(ParseAnswer(Header(255, 1), &m));
  // A failed parse leaves the message safe to clean up.
  ipc_message_cleanup(&m);
}

TEST(IpcTest, TicketKeysRoundTrip) {
  uint8_t keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN];
  for (size_t i = 0; i < IPC_MAX_TICKET_KEYS; i++) {
    Bytes p = Pattern(IPC_TICKET_KEY_LEN, static_cast<uint8_t>(i * 50));
    std::memcpy(keys[i], p.data(), IPC_TICKET_KEY_LEN);
  }
  for (size_t count = 0; count <= IPC_MAX_TICKET_KEYS; count++) {
    Datagram d;
    d.len = ipc_build_ticket_keys(d.buf.data(), d.buf.size(), keys, count);
    ASSERT_GT(d.len, 0u);
    ipc_message m;
    ASSERT_TRUE(ParseRequest(d.Get(), &m));
    EXPECT_EQ(m.type, IPC_REQ_TICKET_KEYS);
    EXPECT_EQ(m.ticket_key_count, count);
    for (size_t i = 0; i < count; i++) {
      EXPECT_EQ(0, std::memcmp(m.ticket_keys[i], keys[i], IPC_TICKET_KEY_LEN));
    }
    ipc_message_cleanup(&m);
    ExpectStrict(d.Get(), true);
  }
  Datagram d;
  EXPECT_EQ(ipc_build_ticket_keys(d.buf.data(), d.buf.size(), keys,
                                  IPC_MAX_TICKET_KEYS + 1),
            0u);
}

TEST(IpcTest, RecordRoundTrip) {
  for (size_t len : {size_t{5}, size_t{517}, size_t{IPC_MAX_RECORD}}) {
    Datagram d;
    Bytes rec = Pattern(len, 9);
    d.len = ipc_build_record(d.buf.data(), d.buf.size(), 0x0102030405060708ull,
                             rec.data(), rec.size());
    ASSERT_GT(d.len, 0u);
    ipc_message m;
    Bytes wire = d.Get();
    ASSERT_TRUE(ParseRequest(wire, &m));
    EXPECT_EQ(m.type, IPC_REQ_RECORD);
    EXPECT_EQ(m.conn_id, 0x0102030405060708ull);
    ASSERT_EQ(m.data_len, len);
    EXPECT_EQ(0, std::memcmp(m.data, rec.data(), len));
    ipc_message_cleanup(&m);
    if (len < 1000) {
      ExpectStrict(wire, true);
    }
  }
  Datagram d;
  Bytes big = Pattern(IPC_MAX_RECORD + 1, 1);
  EXPECT_EQ(
      ipc_build_record(d.buf.data(), d.buf.size(), 1, big.data(), big.size()),
      0u);
  EXPECT_EQ(ipc_build_record(d.buf.data(), d.buf.size(), 1, big.data(), 4), 0u);
  EXPECT_EQ(ipc_build_record(d.buf.data(), d.buf.size(), 0, big.data(), 10),
            0u);
}

TEST(IpcTest, AbortRoundTrip) {
  Datagram d;
  d.len = ipc_build_abort(d.buf.data(), d.buf.size(), 42);
  ASSERT_EQ(d.len, 9u);
  ipc_message m;
  ASSERT_TRUE(ParseRequest(d.Get(), &m));
  EXPECT_EQ(m.type, IPC_REQ_ABORT);
  EXPECT_EQ(m.conn_id, 42u);
  ExpectStrict(d.Get(), true);
  EXPECT_EQ(ipc_build_abort(d.buf.data(), d.buf.size(), 0), 0u);
}

TEST(IpcTest, SignRoundTrip) {
  Datagram d;
  Bytes input = Pattern(130, 3);
  d.len = ipc_build_sign(d.buf.data(), d.buf.size(), 9, 0x0804, input.data(),
                         input.size());
  ASSERT_EQ(d.len, 9u + 2u + 4u + input.size());
  ipc_message m;
  Bytes wire = d.Get();
  ASSERT_TRUE(ParseRequest(wire, &m));
  EXPECT_EQ(m.type, IPC_REQ_SIGN);
  EXPECT_EQ(m.conn_id, 9u);
  EXPECT_EQ(m.sigalg, 0x0804);
  ASSERT_EQ(m.data_len, input.size());
  EXPECT_EQ(0, std::memcmp(m.data, input.data(), input.size()));
  ExpectStrict(d.Get(), true);
  // A request is not an answer; empty, oversized and connection-less inputs
  // are refused by the builder.
  EXPECT_FALSE(ParseAnswer(wire, &m));
  Bytes big = Pattern(IPC_MAX_SIGN_INPUT + 1, 1);
  EXPECT_EQ(ipc_build_sign(d.buf.data(), d.buf.size(), 9, 0x0804, big.data(),
                           big.size()),
            0u);
  EXPECT_EQ(
      ipc_build_sign(d.buf.data(), d.buf.size(), 9, 0x0804, input.data(), 0),
      0u);
  EXPECT_EQ(ipc_build_sign(d.buf.data(), d.buf.size(), 0, 0x0804, input.data(),
                           input.size()),
            0u);
}

TEST(IpcTest, SignedRoundTrip) {
  Datagram d;
  Bytes sig = Pattern(256, 5);
  d.len =
      ipc_build_signed(d.buf.data(), d.buf.size(), 9, sig.data(), sig.size());
  ASSERT_GT(d.len, 0u);
  ipc_message m;
  Bytes wire = d.Get();
  ASSERT_TRUE(ParseAnswer(wire, &m));
  EXPECT_EQ(m.type, IPC_ANS_SIGNED);
  ASSERT_EQ(m.data_len, sig.size());
  EXPECT_EQ(0, std::memcmp(m.data, sig.data(), sig.size()));
  ExpectStrict(d.Get(), false);
  EXPECT_FALSE(ParseRequest(wire, &m));
  Bytes big = Pattern(IPC_MAX_SIGNATURE + 1, 1);
  EXPECT_EQ(
      ipc_build_signed(d.buf.data(), d.buf.size(), 9, big.data(), big.size()),
      0u);
}

TEST(IpcTest, TestSyscallRoundTrip) {
  Datagram d;
  d.len = ipc_build_test_syscall(d.buf.data(), d.buf.size(), "openat");
  ASSERT_GT(d.len, 0u);
  ipc_message m;
  ASSERT_TRUE(ParseRequest(d.Get(), &m));
  EXPECT_EQ(m.type, IPC_REQ_TEST_SYSCALL);
  EXPECT_STREQ(m.reason, "openat");
  ExpectStrict(d.Get(), true);
  EXPECT_EQ(ipc_build_test_syscall(d.buf.data(), d.buf.size(), ""), 0u);
  std::string long_name(IPC_MAX_REASON + 1, 'x');
  EXPECT_EQ(
      ipc_build_test_syscall(d.buf.data(), d.buf.size(), long_name.c_str()),
      0u);
}

TEST(IpcTest, ReadyRoundTrip) {
  Datagram d;
  std::string subject(IPC_MAX_REASON, 's');
  d.len = ipc_build_ready(d.buf.data(), d.buf.size(), subject.c_str(),
                          "CN=Redoubt Test CA", -5);
  ASSERT_GT(d.len, 0u);
  ipc_message m;
  ASSERT_TRUE(ParseAnswer(d.Get(), &m));
  EXPECT_EQ(m.type, IPC_ANS_READY);
  EXPECT_EQ(m.conn_id, 0u);
  EXPECT_EQ(std::string(m.cert_subject), subject);
  EXPECT_STREQ(m.cert_issuer, "CN=Redoubt Test CA");
  EXPECT_EQ(m.cert_not_after, -5);
  ExpectStrict(d.Get(), false);
  d.len = ipc_build_ready(d.buf.data(), d.buf.size(), "a", "b",
                          INT64_C(1893456000));
  ASSERT_TRUE(ParseAnswer(d.Get(), &m));
  EXPECT_EQ(m.cert_not_after, INT64_C(1893456000));
  std::string too_long(IPC_MAX_REASON + 1, 's');
  EXPECT_EQ(
      ipc_build_ready(d.buf.data(), d.buf.size(), too_long.c_str(), "b", 0),
      0u);
}

TEST(IpcTest, ConfigFailRoundTrip) {
  Datagram d;
  d.len = ipc_build_config_fail(d.buf.data(), d.buf.size(),
                                "cannot load key: bad passphrase");
  ASSERT_GT(d.len, 0u);
  ipc_message m;
  ASSERT_TRUE(ParseAnswer(d.Get(), &m));
  EXPECT_EQ(m.type, IPC_ANS_CONFIG_FAIL);
  EXPECT_STREQ(m.reason, "cannot load key: bad passphrase");
  ExpectStrict(d.Get(), false);
}

TEST(IpcTest, NeedInputRoundTrip) {
  for (size_t len : {size_t{0}, size_t{90}, size_t{IPC_MAX_FLIGHT}}) {
    Datagram d;
    Bytes out = Pattern(len, 5);
    d.len = ipc_build_need_input(d.buf.data(), d.buf.size(), 3, out.data(),
                                 out.size());
    ASSERT_GT(d.len, 0u);
    ipc_message m;
    Bytes wire = d.Get();  // parsed fields point into it
    ASSERT_TRUE(ParseAnswer(wire, &m));
    EXPECT_EQ(m.type, IPC_ANS_NEED_INPUT);
    EXPECT_EQ(m.conn_id, 3u);
    ASSERT_EQ(m.data_len, len);
    if (len > 0) {
      EXPECT_EQ(0, std::memcmp(m.data, out.data(), len));
    }
    if (len < 1000) {
      ExpectStrict(d.Get(), false);
    }
  }
  Datagram d;
  Bytes big = Pattern(IPC_MAX_FLIGHT + 1, 1);
  EXPECT_EQ(ipc_build_need_input(d.buf.data(), d.buf.size(), 3, big.data(),
                                 big.size()),
            0u);
  EXPECT_EQ(ipc_build_need_input(d.buf.data(), d.buf.size(), 0, big.data(), 1),
            0u);
}

TEST(IpcTest, DoneRoundTrip) {
  Datagram d;
  // Both fields at their maxima still fit one datagram.
  Bytes out = Pattern(IPC_MAX_FLIGHT, 1);
  Bytes hb = Pattern(IPC_MAX_HANDBACK, 2);
  d.len = ipc_build_done(d.buf.data(), d.buf.size(), UINT64_MAX, out.data(),
                         out.size(), hb.data(), hb.size(), 1);
  ASSERT_GT(d.len, 0u);
  ipc_message m;
  Bytes wire = d.Get();  // parsed fields point into it
  ASSERT_TRUE(ParseAnswer(wire, &m));
  EXPECT_EQ(m.type, IPC_ANS_DONE);
  EXPECT_EQ(m.conn_id, UINT64_MAX);
  ASSERT_EQ(m.data_len, out.size());
  ASSERT_EQ(m.handback_len, hb.size());
  EXPECT_EQ(0, std::memcmp(m.data, out.data(), out.size()));
  EXPECT_EQ(0, std::memcmp(m.handback, hb.data(), hb.size()));
  EXPECT_EQ(m.resumed, 1);

  Bytes small_out = Pattern(80, 3);
  Bytes small_hb = Pattern(1500, 4);
  d.len = ipc_build_done(d.buf.data(), d.buf.size(), 9, small_out.data(),
                         small_out.size(), small_hb.data(), small_hb.size(), 0);
  ASSERT_TRUE(ParseAnswer(d.Get(), &m));
  EXPECT_EQ(m.resumed, 0);
  ExpectStrict(d.Get(), false);

  EXPECT_EQ(ipc_build_done(d.buf.data(), d.buf.size(), 9, small_out.data(),
                           small_out.size(), small_hb.data(), 0, 0),
            0u);
  Bytes big_hb = Pattern(IPC_MAX_HANDBACK + 1, 4);
  EXPECT_EQ(ipc_build_done(d.buf.data(), d.buf.size(), 9, nullptr, 0,
                           big_hb.data(), big_hb.size(), 0),
            0u);
  EXPECT_EQ(ipc_build_done(d.buf.data(), d.buf.size(), 0, nullptr, 0,
                           small_hb.data(), small_hb.size(), 0),
            0u);
}

TEST(IpcTest, FailRoundTrip) {
  Datagram d;
  Bytes alert = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
  d.len = ipc_build_fail(d.buf.data(), d.buf.size(), 11, "handshake failure",
                         alert.data(), alert.size());
  ASSERT_GT(d.len, 0u);
  ipc_message m;
  Bytes wire = d.Get();  // parsed fields point into it
  ASSERT_TRUE(ParseAnswer(wire, &m));
  EXPECT_EQ(m.type, IPC_ANS_FAIL);
  EXPECT_EQ(m.conn_id, 11u);
  EXPECT_STREQ(m.reason, "handshake failure");
  ASSERT_EQ(m.data_len, alert.size());
  EXPECT_EQ(0, std::memcmp(m.data, alert.data(), alert.size()));
  ExpectStrict(d.Get(), false);
  // No alert bytes, NULL reason.
  d.len = ipc_build_fail(d.buf.data(), d.buf.size(), 11, nullptr, nullptr, 0);
  ASSERT_TRUE(ParseAnswer(d.Get(), &m));
  EXPECT_STREQ(m.reason, "");
  EXPECT_EQ(m.data_len, 0u);
  std::string long_reason(IPC_MAX_REASON + 1, 'r');
  EXPECT_EQ(ipc_build_fail(d.buf.data(), d.buf.size(), 11, long_reason.c_str(),
                           nullptr, 0),
            0u);
}

// VERIFY (issue 17 item 1): main's only way to have a chain checked. Count,
// per-certificate and total lengths, purpose and conn_id are all bounded.
TEST(IpcTest, VerifyRoundTrip) {
  Bytes leaf = Pattern(900, 1), ca = Pattern(1200, 2);
  const uint8_t *certs[] = {leaf.data(), ca.data()};
  size_t lens[] = {leaf.size(), ca.size()};
  Datagram d;
  d.len = ipc_build_verify(d.buf.data(), d.buf.size(), 5,
                           IPC_VERIFY_PURPOSE_CLIENT, certs, lens, 2);
  ASSERT_EQ(d.len, 9u + 2u + 4u + leaf.size() + 4u + ca.size());
  Bytes wire = d.Get();
  ipc_message m;
  ASSERT_TRUE(ParseRequest(wire, &m));
  EXPECT_EQ(m.type, IPC_REQ_VERIFY);
  EXPECT_EQ(m.conn_id, 5u);
  EXPECT_EQ(m.purpose, IPC_VERIFY_PURPOSE_CLIENT);
  ASSERT_EQ(m.cert_count, 2u);
  ASSERT_EQ(m.cert_lens[0], leaf.size());
  ASSERT_EQ(m.cert_lens[1], ca.size());
  EXPECT_EQ(0, std::memcmp(m.certs[0], leaf.data(), leaf.size()));
  EXPECT_EQ(0, std::memcmp(m.certs[1], ca.data(), ca.size()));
  ExpectStrict(wire, true);
  // Purpose SERVER too; anything else is refused both ways.
  EXPECT_GT(ipc_build_verify(d.buf.data(), d.buf.size(), 5,
                             IPC_VERIFY_PURPOSE_SERVER, certs, lens, 1),
            0u);
  EXPECT_EQ(ipc_build_verify(d.buf.data(), d.buf.size(), 5, 3, certs, lens, 1),
            0u);
  Bytes bad = wire;
  bad[9] = 3;
  EXPECT_FALSE(ParseRequest(bad, &m));
  bad[9] = 0;
  EXPECT_FALSE(ParseRequest(bad, &m));
  // A count of zero, or one that disagrees with the fields, is refused.
  bad = wire;
  bad[10] = 0;
  EXPECT_FALSE(ParseRequest(bad, &m));
  bad[10] = 3;
  EXPECT_FALSE(ParseRequest(bad, &m));
  bad[10] = 1;
  EXPECT_FALSE(ParseRequest(bad, &m));
  EXPECT_EQ(ipc_build_verify(d.buf.data(), d.buf.size(), 5,
                             IPC_VERIFY_PURPOSE_CLIENT, certs, lens, 0),
            0u);
  EXPECT_EQ(ipc_build_verify(d.buf.data(), d.buf.size(), 0,
                             IPC_VERIFY_PURPOSE_CLIENT, certs, lens, 2),
            0u);
}

TEST(IpcTest, VerifyLimits) {
  Datagram d;
  ipc_message m;
  // At most IPC_MAX_CHAIN_CERTS certificates.
  Bytes one = Pattern(10, 4);
  std::vector<const uint8_t *> certs(IPC_MAX_CHAIN_CERTS + 1, one.data());
  std::vector<size_t> lens(IPC_MAX_CHAIN_CERTS + 1, one.size());
  d.len =
      ipc_build_verify(d.buf.data(), d.buf.size(), 1, IPC_VERIFY_PURPOSE_CLIENT,
                       certs.data(), lens.data(), IPC_MAX_CHAIN_CERTS);
  ASSERT_GT(d.len, 0u);
  ASSERT_TRUE(ParseRequest(d.Get(), &m));
  EXPECT_EQ(m.cert_count, size_t{IPC_MAX_CHAIN_CERTS});
  EXPECT_EQ(
      ipc_build_verify(d.buf.data(), d.buf.size(), 1, IPC_VERIFY_PURPOSE_CLIENT,
                       certs.data(), lens.data(), IPC_MAX_CHAIN_CERTS + 1),
      0u);
  {  // the parser refuses an eleventh certificate, hand-built
    Bytes wire = d.Get();
    wire[10] = IPC_MAX_CHAIN_CERTS + 1;
    wire.insert(wire.end(), {0, 0, 0, 1, 7});
    EXPECT_FALSE(ParseRequest(wire, &m));
  }
  // An empty certificate is refused.
  Bytes empty;
  const uint8_t *e[] = {one.data()};
  size_t zero[] = {0};
  EXPECT_EQ(ipc_build_verify(d.buf.data(), d.buf.size(), 1,
                             IPC_VERIFY_PURPOSE_CLIENT, e, zero, 1),
            0u);
  {
    Bytes wire = {IPC_REQ_VERIFY,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  1,
                  IPC_VERIFY_PURPOSE_CLIENT,
                  1,
                  0,
                  0,
                  0,
                  0};
    EXPECT_FALSE(ParseRequest(wire, &m));
  }
  // One certificate over IPC_MAX_CERT_LEN; a chain over IPC_MAX_CERT_CHAIN.
  Bytes big = Pattern(IPC_MAX_CERT_LEN + 1, 5);
  const uint8_t *b[] = {big.data()};
  size_t blen[] = {big.size()};
  EXPECT_EQ(ipc_build_verify(d.buf.data(), d.buf.size(), 1,
                             IPC_VERIFY_PURPOSE_CLIENT, b, blen, 1),
            0u);
  Bytes max = Pattern(IPC_MAX_CERT_LEN, 6);
  const uint8_t *three[] = {max.data(), max.data(), max.data()};
  size_t three_lens[] = {max.size(), max.size(), max.size()};
  EXPECT_GT(ipc_build_verify(d.buf.data(), d.buf.size(), 1,
                             IPC_VERIFY_PURPOSE_CLIENT, three, three_lens, 2),
            0u);
  EXPECT_EQ(ipc_build_verify(d.buf.data(), d.buf.size(), 1,
                             IPC_VERIFY_PURPOSE_CLIENT, three, three_lens, 3),
            0u);
  {  // hand-built: three maximal certificates exceed the chain total
    Bytes wire = {
        IPC_REQ_VERIFY, 0, 0, 0, 0, 0, 0, 0, 1, IPC_VERIFY_PURPOSE_CLIENT, 3};
    for (int i = 0; i < 3; i++) {
      uint32_t n = IPC_MAX_CERT_LEN;
      wire.insert(wire.end(),
                  {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                   static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
      wire.insert(wire.end(), max.begin(), max.end());
    }
    EXPECT_FALSE(ParseRequest(wire, &m));
  }
}

// VERIFIED: a compromised verifier writes these; main parses them strictly.
TEST(IpcTest, VerifiedRoundTrip) {
  Datagram d;
  std::string subject(IPC_MAX_REASON, 'c');
  d.len = ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 0, "",
                             subject.c_str(), "DNS:localhost,IP:127.0.0.1");
  ASSERT_GT(d.len, 0u);
  Bytes wire = d.Get();
  ipc_message m;
  ASSERT_TRUE(ParseAnswer(wire, &m));
  EXPECT_EQ(m.type, IPC_ANS_VERIFIED);
  EXPECT_EQ(m.conn_id, 8u);
  EXPECT_EQ(m.verdict, 1);
  EXPECT_EQ(m.verify_error, 0u);
  EXPECT_EQ(std::string(m.cert_subject), subject);
  EXPECT_STREQ(m.cert_sans, "DNS:localhost,IP:127.0.0.1");
  EXPECT_STREQ(m.reason, "");
  ExpectStrict(wire, false);
  d.len = ipc_build_verified(d.buf.data(), d.buf.size(), 8, 0, 10,
                             "certificate has expired", "CN=old", "");
  wire = d.Get();
  ASSERT_TRUE(ParseAnswer(wire, &m));
  EXPECT_EQ(m.verdict, 0);
  EXPECT_EQ(m.verify_error, 10u);
  EXPECT_STREQ(m.reason, "certificate has expired");
  ExpectStrict(wire, false);
}

TEST(IpcTest, VerifiedLimits) {
  Datagram d;
  ipc_message m;
  // The verdict and the error must agree; the error is bounded.
  EXPECT_EQ(
      ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 10, "", "", ""), 0u);
  EXPECT_EQ(ipc_build_verified(d.buf.data(), d.buf.size(), 8, 0, 0, "", "", ""),
            0u);
  EXPECT_EQ(ipc_build_verified(d.buf.data(), d.buf.size(), 8, 0,
                               IPC_MAX_VERIFY_ERROR + 1, "", "", ""),
            0u);
  EXPECT_EQ(ipc_build_verified(d.buf.data(), d.buf.size(), 8, 2, 0, "", "", ""),
            0u);
  EXPECT_EQ(ipc_build_verified(d.buf.data(), d.buf.size(), 0, 1, 0, "", "", ""),
            0u);
  d.len = ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 0, "r", "s", "");
  Bytes ok = d.Get();
  ASSERT_TRUE(ParseAnswer(ok, &m));
  Bytes bad = ok;
  bad[9] = 2;  // verdict
  EXPECT_FALSE(ParseAnswer(bad, &m));
  bad = ok;
  bad[13] = 10;  // an error with verdict 1
  EXPECT_FALSE(ParseAnswer(bad, &m));
  bad = ok;
  bad[9] = 0;  // verdict 0 with error 0
  EXPECT_FALSE(ParseAnswer(bad, &m));
  // Control bytes (a forged log line, a NUL) in any text are refused.
  for (const char *text : {"CN=a\nsecurity event=x", "tab\there", "del\x7f"}) {
    EXPECT_EQ(
        ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 0, "", text, ""),
        0u)
        << text;
    EXPECT_EQ(
        ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 0, text, "", ""),
        0u);
    EXPECT_EQ(
        ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 0, "", "", text),
        0u);
  }
  for (size_t field = 0; field < 3; field++) {
    // Patch a control byte into each text of a valid datagram ("r", "s", "x").
    d.len =
        ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 0, "r", "s", "x");
    Bytes wire = d.Get();
    size_t at = 9 + 1 + 4 + field * 5 + 4;  // after each u32 length
    wire[at] = '\n';
    EXPECT_FALSE(ParseAnswer(wire, &m)) << field;
    wire[at] = 0;
    EXPECT_FALSE(ParseAnswer(wire, &m)) << field;
  }
  std::string long_text(IPC_MAX_REASON + 1, 'x');
  EXPECT_EQ(ipc_build_verified(d.buf.data(), d.buf.size(), 8, 1, 0, "",
                               long_text.c_str(), ""),
            0u);
}

TEST(IpcTest, BuildersRespectCapacity) {
  uint8_t buf[16];
  Bytes rec = Pattern(100, 1);
  EXPECT_EQ(ipc_build_record(buf, sizeof(buf), 1, rec.data(), rec.size()), 0u);
  EXPECT_EQ(ipc_build_abort(buf, 8, 1), 0u);
  EXPECT_EQ(ipc_build_abort(buf, 9, 1), 9u);
  EXPECT_EQ(ipc_build_abort(nullptr, 100, 1), 0u);
}

}  // namespace
