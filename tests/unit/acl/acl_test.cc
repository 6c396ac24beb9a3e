// acl_test.cc: ACL rules (server/acl_rules.c): parsing and its error texts,
// canonical descriptions (ACL LIST / GETUSER wording of Redis 7.0.15),
// password hashing and permission checks, and the ACL command table.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

extern "C" {
#include "server/acl/acl.h"
#include "server/app.h"
#include "server/core/server.h"
}

namespace {

class AclTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static bool ready = false;
    if (!ready) {
      server_init_for_tests();
      ready = true;
    }
  }
  void SetUp() override { u_ = acl_user_new_detached("t", 1); }
  void TearDown() override { acl_user_free(u_); }

  // Apply rules; returns "" or the first error text.
  std::string Set(const std::vector<std::string> &rules) {
    for (const auto &r : rules) {
      const char *err = nullptr;
      if (acl_set_user(u_, r.data(), r.size(), &err) != C_OK) {
        return err ? err : "?";
      }
    }
    return "";
  }
  std::string Describe() {
    sds d = acl_describe_user(u_);
    std::string s(d, sds_len(d));
    sds_free(d);
    return s;
  }
  int Check(std::vector<std::string> args, int *errpos = nullptr) {
    std::vector<robj *> argv;
    for (auto &a : args) {
      argv.push_back(create_string_object(a.data(), a.size()));
    }
    redis_command *cmd = lookup_command(argv.data(), (int)argv.size());
    EXPECT_NE(cmd, nullptr) << args[0];
    int pos = 0;
    int rc =
        cmd ? acl_check_command(u_, cmd, argv.data(), (int)argv.size(), &pos)
            : -1;
    for (robj *o : argv) {
      decr_ref_count(o);
    }
    if (errpos) {
      *errpos = pos;
    }
    return rc;
  }
  acl_user *u_ = nullptr;
};

TEST_F(AclTest, NewUserDescription) {
  EXPECT_EQ(Describe(), "off resetchannels -@all");
}

TEST_F(AclTest, DefaultUser) {
  acl_user *d = acl_default_user();
  ASSERT_NE(d, nullptr);
  sds s = acl_describe_user(d);
  EXPECT_STREQ(s, "on nopass ~* &* +@all");
  sds_free(s);
  EXPECT_TRUE(d->all_perms);  // the fast path
}

TEST_F(AclTest, FullRuleSetDescription) {
  ASSERT_EQ(Set({"on", ">abc", "~foo*", "%R~bar", "&ch", "+get", "+config|get",
                 "-@dangerous"}),
            "");
  EXPECT_EQ(
      Describe(),
      "on #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
      " ~foo* %R~bar resetchannels &ch -@all +get");
}

TEST_F(AclTest, SubtractiveDescription) {
  ASSERT_EQ(Set({"+@all", "-config", "+config", "-config|get", "+get", "-get",
                 "+@string", "-@string"}),
            "");
  EXPECT_EQ(Describe(), "off resetchannels +@all -@string -config|get");
  ASSERT_EQ(Set({"reset", "+@all", "-@write", "+set"}), "");
  EXPECT_EQ(Describe(),
            "off sanitize-payload resetchannels +@all -@write +set");
}

TEST_F(AclTest, Errors) {
  EXPECT_EQ(Set({"x"}), "Syntax error");
  EXPECT_EQ(Set({"+nosuch"}), "Unknown command or category name in ACL");
  EXPECT_EQ(Set({"+@nosuch"}), "Unknown command or category name in ACL");
  EXPECT_EQ(Set({"+config|"}), "Syntax error");
  EXPECT_EQ(Set({"+config|get|x"}),
            "Allowing first-arg of a subcommand is not supported");
  EXPECT_EQ(Set({"%~a"}), "Syntax error");
  EXPECT_EQ(Set({"%X~a"}), "Syntax error");
  EXPECT_EQ(Set({"#abc"}),
            "The password hash must be exactly 64 characters and contain only "
            "lowercase hexadecimal characters");
  EXPECT_EQ(Set({"<nope"}),
            "The password you are trying to remove from the user does not "
            "exist");
  EXPECT_EQ(Set({"allkeys", "~a"}).substr(0, 40),
            "Adding a pattern after the * pattern (or");
  EXPECT_EQ(
      Set({"allchannels", "&a"}).find("resetchannels") != std::string::npos,
      true);
}

TEST_F(AclTest, PasswordsHashedAndChecked) {
  ASSERT_EQ(Set({">p1", ">p2", ">p1"}), "");
  EXPECT_EQ(list_length(u_->passwords), 2u);
  EXPECT_TRUE(acl_check_password(u_, "p1", 2));
  EXPECT_TRUE(acl_check_password(u_, "p2", 2));
  EXPECT_FALSE(acl_check_password(u_, "p3", 2));
  EXPECT_FALSE(acl_check_password(u_, "p", 1));
  ASSERT_EQ(Set({"<p1"}), "");
  EXPECT_FALSE(acl_check_password(u_, "p1", 2));
  ASSERT_EQ(Set({"nopass"}), "");
  EXPECT_TRUE(acl_check_password(u_, "anything", 8));
  ASSERT_EQ(Set({"resetpass"}), "");
  EXPECT_FALSE(acl_check_password(u_, "anything", 8));
}

TEST_F(AclTest, KeyPermissions) {
  ASSERT_EQ(Set({"on", "+@all", "~k*", "%R~r*", "%W~w*"}), "");
  int pos = 0;
  EXPECT_EQ(Check({"get", "k1"}), ACL_OK);
  EXPECT_EQ(Check({"get", "x"}, &pos), ACL_DENIED_KEY);
  EXPECT_EQ(pos, 1);
  EXPECT_EQ(Check({"get", "r1"}), ACL_OK);
  EXPECT_EQ(Check({"set", "r1", "v"}), ACL_DENIED_KEY);
  EXPECT_EQ(Check({"set", "w1", "v"}), ACL_OK);
  EXPECT_EQ(Check({"get", "w1"}), ACL_DENIED_KEY);
  EXPECT_EQ(Check({"mget", "k1", "x"}, &pos), ACL_DENIED_KEY);
  EXPECT_EQ(pos, 2);
}

TEST_F(AclTest, CommandPermissions) {
  ASSERT_EQ(Set({"on", "allkeys", "+get", "+config|get", "+select|0"}), "");
  EXPECT_EQ(Check({"get", "a"}), ACL_OK);
  EXPECT_EQ(Check({"set", "a", "b"}), ACL_DENIED_CMD);
  EXPECT_EQ(Check({"config", "get", "x"}), ACL_OK);
  EXPECT_EQ(Check({"config", "set", "x", "y"}), ACL_DENIED_CMD);
  EXPECT_EQ(Check({"select", "0"}), ACL_OK);
  EXPECT_EQ(Check({"select", "1"}), ACL_DENIED_CMD);
  EXPECT_EQ(Check({"auth", "x"}), ACL_OK);  // no-auth commands always run
  EXPECT_EQ(Describe(), "on ~* resetchannels -@all +get +select|0 +config|get");
}

TEST_F(AclTest, ChannelPermissions) {
  ASSERT_EQ(Set({"on", "allkeys", "+@all", "resetchannels", "&news.*"}), "");
  int pos = 0;
  EXPECT_EQ(Check({"publish", "news.a", "m"}), ACL_OK);
  EXPECT_EQ(Check({"publish", "other", "m"}), ACL_DENIED_CHANNEL);
  EXPECT_EQ(Check({"subscribe", "news.1", "x"}, &pos), ACL_DENIED_CHANNEL);
  EXPECT_EQ(pos, 2);
  EXPECT_EQ(Check({"psubscribe", "news.*"}), ACL_OK);
  EXPECT_EQ(Check({"psubscribe", "news.a*"}), ACL_DENIED_CHANNEL);
}

TEST_F(AclTest, FastPathFlag) {
  ASSERT_EQ(Set({"+@all", "~*", "&*"}), "");
  EXPECT_TRUE(u_->all_perms);
  ASSERT_EQ(Set({"-get"}), "");
  EXPECT_FALSE(u_->all_perms);
  ASSERT_EQ(Set({"+get"}), "");
  EXPECT_FALSE(u_->all_perms);  // only +@all restores "all commands"
  ASSERT_EQ(Set({"+@all"}), "");
  EXPECT_TRUE(u_->all_perms);
}

TEST_F(AclTest, DescriptionRoundTrips) {
  ASSERT_EQ(Set({"on", "+@read", "-@hash", "+hget", "~a", "%W~b", "&c"}), "");
  std::string d = Describe();
  acl_user *v = acl_user_new_detached("v", 1);
  size_t start = 0;
  while (start < d.size()) {
    size_t end = d.find(' ', start);
    if (end == std::string::npos) {
      end = d.size();
    }
    std::string op = d.substr(start, end - start);
    const char *err = nullptr;
    ASSERT_EQ(acl_set_user(v, op.data(), op.size(), &err), C_OK) << op;
    start = end + 1;
  }
  sds dv = acl_describe_user(v);
  EXPECT_EQ(std::string(dv), d);
  sds_free(dv);
  acl_user_free(v);
}

TEST_F(AclTest, Selectors) {
  ASSERT_EQ(Set({"on", "~root*", "+get", "(~a* +set)", "(%R~b* &ch +@list)"}),
            "");
  EXPECT_EQ(Describe(),
            "on ~root* resetchannels -@all +get (~a* resetchannels -@all +set)"
            " (%R~b* resetchannels &ch -@all +@list)");
  int pos = 0;
  EXPECT_EQ(Check({"set", "a1", "v"}), ACL_OK);
  EXPECT_EQ(Check({"lrange", "b1", "0", "1"}), ACL_OK);
  // Every selector refuses: the most specific refusal (a key) wins.
  EXPECT_EQ(Check({"set", "b1", "v"}, &pos), ACL_DENIED_KEY);
  EXPECT_EQ(pos, 1);
  EXPECT_EQ(Check({"incr", "a1"}), ACL_DENIED_CMD);
  EXPECT_EQ(Set({"(on)"}), "Syntax error");
  EXPECT_EQ(Set({"(~x +nosuch)"}), "Unknown command or category name in ACL");
  ASSERT_EQ(Set({"clearselectors"}), "");
  EXPECT_EQ(Describe(), "on ~root* resetchannels -@all +get");
}

TEST(AclMerge, SelectorArguments) {
  const char *in[] = {"on", "(~a", "+get)", "()", "(", "~x", ")"};
  sds argv[7];
  for (int i = 0; i < 7; i++) {
    argv[i] = sds_new(in[i]);
  }
  int n = 0;
  const char *bad = nullptr;
  sds *out = acl_merge_selector_args(argv, 7, &n, &bad);
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(n, 4);
  EXPECT_STREQ(out[1], "(~a +get)");
  EXPECT_STREQ(out[2], "()");
  EXPECT_STREQ(out[3], "( ~x )");
  sds_free_split(out, n);
  out = acl_merge_selector_args(argv, 2, &n, &bad);
  EXPECT_EQ(out, nullptr);
  EXPECT_STREQ(bad, "(~a");
  for (int i = 0; i < 7; i++) {
    sds_free(argv[i]);
  }
}

TEST(AclTable, ContainerAndSubcommands) {
  ASSERT_NE(acl_commands[0].declared_name, nullptr);
  EXPECT_STREQ(acl_commands[0].declared_name, "acl");
  EXPECT_EQ(acl_commands[0].arity, -2);
  EXPECT_EQ(acl_commands[1].declared_name, nullptr);
  std::set<std::string> subs;
  for (redis_command *s = acl_commands[0].subcommands; s->declared_name; s++) {
    subs.insert(s->declared_name);
    EXPECT_NE(s->proc, nullptr);
  }
  EXPECT_EQ(subs,
            (std::set<std::string>{"cat", "deluser", "dryrun", "genpass",
                                   "getuser", "help", "list", "load", "log",
                                   "save", "setuser", "users", "whoami"}));
}

}  // namespace
