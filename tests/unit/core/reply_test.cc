// reply_test.cc: the Reply API (server/reply.c) and the write path
// (server/networking.c) over a real socketpair: RESP2 and RESP3 encodings,
// error prefixes and counting, deferred lengths, replies larger than the
// static buffer (block list + writev), CLIENT LIST line shape.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

extern "C" {
#include "server/core/networking.h"
#include "server/core/server.h"
}

namespace {

// The core needs an access-control module for every client; this test of
// the core alone gives it an open one (no user, never authenticating).
void OpenInitClient(client *c) {
  c->user = nullptr;
  c->authenticated = 1;
}
int NoAuthRequired(client *) { return 0; }
const char *DefaultUser(client *) { return "default"; }
int DefaultUserNopass() { return 1; }
const client_auth_ops kOpenAuth = {OpenInitClient, NoAuthRequired, DefaultUser,
                                   DefaultUserNopass};

class ReplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_set_auth_ops(&kOpenAuth);
    loop_ = ae_create(1024);
    ASSERT_NE(loop_, nullptr);
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    peer_ = sv[1];
    connection *conn = conn_create_accepted_tcp(loop_, sv[0]);
    conn->state = CONN_STATE_CONNECTED;
    c_ = create_client(conn);
    ASSERT_NE(c_, nullptr);
    server.stat_total_error_replies = 0;
  }
  void TearDown() override {
    free_client(c_);
    close(peer_);
    ae_free(loop_);
  }
  // Flushes pending writes and returns what the peer received.
  std::string Flush() {
    handle_clients_with_pending_writes();
    std::string out;
    char buf[65536];
    for (;;) {
      ssize_t n = read(peer_, buf, sizeof(buf));
      if (n <= 0) {
        if (!client_has_pending_replies(c_)) break;
        write_to_client(c_, 0);
        continue;
      }
      out.append(buf, (size_t)n);
    }
    return out;
  }
  ae_loop *loop_ = nullptr;
  client *c_ = nullptr;
  int peer_ = -1;
};

TEST_F(ReplyTest, Resp2Scalars) {
  add_reply_status(c_, "OK");
  add_reply_long_long(c_, -42);
  add_reply_bulk_cstring(c_, "hello");
  add_reply_bulk_cstring(c_, nullptr);
  add_reply_null(c_);
  add_reply_null_array(c_);
  add_reply_bool(c_, 1);
  add_reply_double(c_, 1.5);
  add_reply_double(c_, 0.1);
  add_reply_bulk_long_long(c_, 1234);
  add_reply_verbatim(c_, "abc", 3, "txt");
  add_reply_big_num(c_, "12345678901234567890", 20);
  EXPECT_EQ(Flush(),
            "+OK\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n$-1\r\n*-1\r\n:1\r\n"
            "$3\r\n1.5\r\n$19\r\n0.10000000000000001\r\n$4\r\n1234\r\n"
            "$3\r\nabc\r\n$20\r\n12345678901234567890\r\n");
}

TEST_F(ReplyTest, Resp3Scalars) {
  c_->resp = 3;
  add_reply_null(c_);
  add_reply_null_array(c_);
  add_reply_bool(c_, 0);
  add_reply_double(c_, 2.5);
  add_reply_double(c_, 1.0 / 0.0);
  add_reply_verbatim(c_, "abc", 3, "mkd");
  add_reply_big_num(c_, "123", 3);
  EXPECT_EQ(Flush(),
            "_\r\n_\r\n#f\r\n,2.5\r\n,inf\r\n=7\r\nmkd:abc\r\n(123\r\n");
}

TEST_F(ReplyTest, Aggregates) {
  add_reply_map_len(c_, 2);
  add_reply_set_len(c_, 3);
  add_reply_push_len(c_, 1);
  add_reply_array_len(c_, 0);
  add_reply_attribute_len(c_, 1);  // nothing in RESP2
  c_->resp = 3;
  add_reply_map_len(c_, 2);
  add_reply_set_len(c_, 3);
  add_reply_push_len(c_, 1);
  add_reply_attribute_len(c_, 1);
  EXPECT_EQ(Flush(), "*4\r\n*3\r\n*1\r\n*0\r\n%2\r\n~3\r\n>1\r\n|1\r\n");
}

TEST_F(ReplyTest, ErrorsPrefixAndCount) {
  add_reply_error(c_, "plain");
  add_reply_error(c_, "-WRONGTYPE Operation");
  add_reply_error_format(c_, "bad %s\r\nline\n", "x");
  EXPECT_EQ(Flush(),
            "-ERR plain\r\n-WRONGTYPE Operation\r\n-ERR bad x  line\r\n");
  EXPECT_EQ(server.stat_total_error_replies, 3);
}

TEST_F(ReplyTest, DeferredLengths) {
  void *slot = add_reply_deferred_len(c_);
  add_reply_bulk_cstring(c_, "a");
  add_reply_bulk_cstring(c_, "b");
  set_deferred_array_len(c_, slot, 2);
  c_->resp = 3;
  void *map = add_reply_deferred_len(c_);
  add_reply_bulk_cstring(c_, "k");
  add_reply_long_long(c_, 1);
  set_deferred_map_len(c_, map, 1);
  EXPECT_EQ(Flush(), "*2\r\n$1\r\na\r\n$1\r\nb\r\n%1\r\n$1\r\nk\r\n:1\r\n");
}

TEST_F(ReplyTest, LargeRepliesUseBlocks) {
  std::string big(200000, 'q');
  std::string expect;
  for (int i = 0; i < 5; i++) {
    add_reply_bulk_cbuffer(c_, big.data(), big.size());
    add_reply_long_long(c_, i);
    expect += "$200000\r\n" + big + "\r\n:" + std::to_string(i) + "\r\n";
  }
  EXPECT_GT(list_length(c_->reply), 0u);
  EXPECT_EQ(Flush(), expect);
  EXPECT_EQ(c_->reply_bytes, 0u);
  EXPECT_EQ(c_->bufpos, 0u);
}

TEST_F(ReplyTest, ReplyOffDropsOutput) {
  c_->flags |= CLIENT_REPLY_OFF;
  add_reply_status(c_, "OK");
  EXPECT_FALSE(client_has_pending_replies(c_));
  c_->flags &= ~CLIENT_REPLY_OFF;
}

TEST_F(ReplyTest, ClientListLine) {
  sds s = cat_client_info_string(sds_empty(), c_);
  std::string line(s, sds_len(s));
  sds_free(s);
  const char *keys[] = {
      "id=",           " addr=",       " laddr=",    " fd=",      " name=",
      " age=",         " idle=",       " flags=N",   " db=0",     " sub=0",
      " psub=0",       " ssub=0",      " multi=-1",  " qbuf=",    " qbuf-free=",
      " argv-mem=",    " multi-mem=0", " rbs=16384", " rbp=",     " obl=0",
      " oll=0",        " omem=0",      " tot-mem=",  " events=r", " cmd=NULL",
      " user=default", " redir=-1",    " resp=2"};
  size_t pos = 0;
  for (const char *k : keys) {
    size_t at = line.find(k, pos);
    ASSERT_NE(at, std::string::npos) << k << " in " << line;
    pos = at;
  }
}

}  // namespace
