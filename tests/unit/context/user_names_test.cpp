#include "context/user_names.h"

#include <gtest/gtest.h>

#include "unit/context/temp_tree.h"

namespace qtap {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "# a comment:x:5:5::/:/bin/false\n"
    "\n"
    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "+nisuser:x:40::::\n"
    "broken line without fields\n"
    "nouid:x::7::/:/bin/false\n"
    "baduid:x:12a:7::/:/bin/false\n"
    "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\r\n"
    "alias:x:1000:1000::/home/alice:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";  // no final newline

TEST(ParsePasswd, NamesByUid) {
  auto names = parse_passwd(kPasswd, 100);
  EXPECT_EQ(names.size(), 5u);
  EXPECT_EQ(names.at(0), "root");
  EXPECT_EQ(names.at(1), "daemon");
  EXPECT_EQ(names.at(33), "www-data");
  EXPECT_EQ(names.at(1000), "alice");  // the first line for a uid wins
  EXPECT_EQ(names.at(65534), "nobody");
  EXPECT_EQ(names.count(5), 0u);
  EXPECT_EQ(names.count(40), 0u);
  EXPECT_EQ(names.count(7), 0u);
}

TEST(ParsePasswd, Bounded) {
  auto names = parse_passwd(kPasswd, 2);
  EXPECT_EQ(names.size(), 2u);
  EXPECT_EQ(names.at(0), "root");
  EXPECT_EQ(names.at(1), "daemon");
}

TEST(UserNames, NameOrNumber) {
  testing::TempTree tree;
  tree.write("passwd", kPasswd);
  UserNames users(tree.path("passwd"));
  EXPECT_EQ(users.name_of(0), "root");
  EXPECT_EQ(users.name_of(1000), "alice");
  EXPECT_EQ(users.name_of(4242), "4242");
  EXPECT_EQ(users.name_of(4294967295u), "4294967295");
  EXPECT_EQ(users.loads(), 1u);  // the misses were within 5 s of the load
}

TEST(UserNames, MissRereadsTheFileAfterTheInterval) {
  testing::TempTree tree;
  tree.write("passwd", kPasswd);
  UserNames users(tree.path("passwd"), milliseconds(0));
  EXPECT_EQ(users.name_of(4242), "4242");
  EXPECT_EQ(users.loads(), 2u);  // first use, then the miss
  tree.write("passwd", std::string(kPasswd) + "\nbob:x:4242:4242::/home/bob:/bin/sh\n");
  EXPECT_EQ(users.name_of(4242), "bob");
  EXPECT_EQ(users.loads(), 3u);
  EXPECT_EQ(users.name_of(0), "root");  // hits never re-read
  EXPECT_EQ(users.loads(), 3u);
}

TEST(UserNames, MissWithinTheIntervalKeepsTheNumber) {
  testing::TempTree tree;
  tree.write("passwd", kPasswd);
  UserNames users(tree.path("passwd"), hours(1));
  EXPECT_EQ(users.name_of(4242), "4242");
  tree.write("passwd", std::string(kPasswd) + "\nbob:x:4242:4242::/home/bob:/bin/sh\n");
  EXPECT_EQ(users.name_of(4242), "4242");
  EXPECT_EQ(users.loads(), 1u);
}

TEST(UserNames, MissingFileGivesNumbers) {
  testing::TempTree tree;
  UserNames users(tree.path("no-such-passwd"), milliseconds(0));
  EXPECT_EQ(users.name_of(0), "0");
  EXPECT_EQ(users.name_of(1000), "1000");
}

}  // namespace
}  // namespace qtap
