// commands_test: the command table built from the module tables, lookup with
// subcommands, implicit ACL categories, legacy and key-spec key extraction,
// and the generated metadata table.
#include <gtest/gtest.h>
#include <strings.h>

#include <string>
#include <vector>

extern "C" {
#include "server/app.h"
#include "server/core/command_meta.h"
#include "server/core/server.h"
}

namespace {

class CommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!server.commands) {
      server_populate_command_table();
    }
  }

  // Argv of raw string objects, released in TearDown.
  robj **Argv(const std::vector<std::string> &args) {
    for (const auto &a : args) {
      objects_.push_back(create_raw_string_object(a.data(), a.size()));
    }
    return objects_.data() + (objects_.size() - args.size());
  }

  void TearDown() override {
    for (robj *o : objects_) {
      decr_ref_count(o);
    }
    objects_.clear();
  }

  std::vector<robj *> objects_;
};

TEST_F(CommandsTest, MetaTableIsSortedAndFound) {
  ASSERT_GT(command_meta_table_len, 200u);
  for (size_t j = 1; j < command_meta_table_len; j++) {
    EXPECT_LT(strcasecmp(command_meta_table[j - 1].fullname,
                         command_meta_table[j].fullname),
              0)
        << command_meta_table[j].fullname;
  }
  ASSERT_NE(command_meta_lookup("get"), nullptr);
  ASSERT_NE(command_meta_lookup("CONFIG|GET"), nullptr);
  EXPECT_EQ(command_meta_lookup("nosuchcommand"), nullptr);
  const command_meta *lmove = command_meta_lookup("lmove");
  ASSERT_NE(lmove, nullptr);
  ASSERT_EQ(lmove->key_specs_num, 2);
  EXPECT_EQ(lmove->key_specs[0].flags, KSPEC_RW | KSPEC_ACCESS | KSPEC_DELETE);
  EXPECT_EQ(lmove->key_specs[1].bs_index, 2);
}

TEST_F(CommandsTest, LookupTopLevelAndSubcommands) {
  redis_command *cmd = lookup_command(Argv({"PiNg"}), 1);
  ASSERT_NE(cmd, nullptr);
  EXPECT_STREQ(cmd->fullname, "ping");

  redis_command *container = lookup_command(Argv({"command"}), 1);
  ASSERT_NE(container, nullptr);
  EXPECT_TRUE(is_container_command(container));
  redis_command *sub = lookup_command(Argv({"COMMAND", "Count"}), 2);
  ASSERT_NE(sub, nullptr);
  EXPECT_STREQ(sub->fullname, "command|count");
  EXPECT_EQ(sub->parent, container);
  EXPECT_EQ(lookup_command(Argv({"command", "nosuch"}), 2), nullptr);
  // A command without subcommands ignores argv[1].
  EXPECT_EQ(lookup_command(Argv({"ping", "x"}), 2), cmd);
  EXPECT_EQ(lookup_command(Argv({"nosuch"}), 1), nullptr);

  EXPECT_EQ(lookup_command_by_cstring("COMMAND|count"), sub);
  EXPECT_EQ(lookup_command_by_cstring("command"), container);
  EXPECT_EQ(lookup_command_by_cstring("command|count|x"), nullptr);
  EXPECT_EQ(lookup_command_by_cstring("ping|x"), nullptr);
  EXPECT_EQ(lookup_command_or_original(Argv({"ping"}), 1), cmd);
}

TEST_F(CommandsTest, IntegerEncodedNameIsSafe) {
  robj *num = create_string_object_from_long_long_for_value(12345);
  robj *argv[1] = {num};
  EXPECT_EQ(lookup_command(argv, 1), nullptr);
  decr_ref_count(num);
}

TEST_F(CommandsTest, ImplicitAclCategories) {
  redis_command *ping = lookup_command_by_cstring("ping");
  ASSERT_NE(ping, nullptr);
  EXPECT_TRUE(ping->acl_categories & ACL_CATEGORY_FAST);
  EXPECT_FALSE(ping->acl_categories & ACL_CATEGORY_SLOW);
  redis_command *info = lookup_command_by_cstring("info");
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->acl_categories & ACL_CATEGORY_SLOW);
  redis_command *kill = lookup_command_by_cstring("client|kill");
  ASSERT_NE(kill, nullptr);
  EXPECT_TRUE(kill->acl_categories & ACL_CATEGORY_ADMIN);
  EXPECT_TRUE(kill->acl_categories & ACL_CATEGORY_DANGEROUS);
  EXPECT_TRUE(kill->acl_categories & ACL_CATEGORY_CONNECTION);
}

TEST_F(CommandsTest, LegacyKeyPositions) {
  redis_command *mset = lookup_command_by_cstring("mset");
  if (!mset) {
    GTEST_SKIP() << "mset not in this build";
  }
  get_keys_result result;
  robj **argv = Argv({"mset", "a", "1", "b", "2", "c", "3"});
  int n = get_keys_from_command(mset, argv, 7, &result);
  ASSERT_EQ(n, 3);
  EXPECT_EQ(result.keys[0].pos, 1);
  EXPECT_EQ(result.keys[1].pos, 3);
  EXPECT_EQ(result.keys[2].pos, 5);
  get_keys_free_result(&result);
  // Out of range positions on a variadic command: no keys.
  argv = Argv({"mset", "a", "1", "b"});
  EXPECT_EQ(get_keys_from_command(mset, argv, 4, &result), 2);
  get_keys_free_result(&result);
}

TEST_F(CommandsTest, PrepareResultGrowsBeyondStaticBuffer) {
  get_keys_result result;
  result.keys = nullptr;
  key_reference *keys = get_keys_prepare_result(&result, 10);
  EXPECT_EQ(keys, result.keysbuf);
  keys = get_keys_prepare_result(&result, MAX_KEYS_BUFFER * 3);
  ASSERT_NE(keys, result.keysbuf);
  keys[MAX_KEYS_BUFFER * 3 - 1].pos = 7;  // writable
  get_keys_free_result(&result);
  EXPECT_EQ(result.keys, result.keysbuf);
}

}  // namespace
