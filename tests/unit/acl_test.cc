// Unit tests for the partial ACL module: the shape of acl_commands[].
// Rule parsing and permission checks do not exist yet (see the report).
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

extern "C" {
#include "server/server.h"
}

TEST(AclTable, ContainerAndSubcommands) {
  ASSERT_NE(acl_commands[0].declared_name, nullptr);
  EXPECT_STREQ(acl_commands[0].declared_name, "acl");
  EXPECT_EQ(acl_commands[0].arity, -2);
  EXPECT_EQ(acl_commands[1].declared_name, nullptr);
  std::set<std::string> subs;
  for (redis_command *s = acl_commands[0].subcommands; s->declared_name;
       s++) {
    subs.insert(s->declared_name);
    EXPECT_NE(s->proc, nullptr);
    EXPECT_TRUE(s->acl_categories & ACL_CATEGORY_SLOW) << s->declared_name;
  }
  EXPECT_EQ(subs, (std::set<std::string>{"cat", "genpass", "help", "users",
                                         "whoami"}));
}

TEST(AclTable, UsersIsAdminAndDangerous) {
  for (redis_command *s = acl_commands[0].subcommands; s->declared_name;
       s++) {
    bool admin = std::strcmp(s->declared_name, "users") == 0;
    EXPECT_EQ((s->acl_categories & ACL_CATEGORY_ADMIN) != 0, admin);
    EXPECT_EQ((s->acl_categories & ACL_CATEGORY_DANGEROUS) != 0, admin);
  }
}
