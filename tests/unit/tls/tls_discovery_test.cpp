#include "tls/tls_discovery.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tls/elf_file.h"
#include "unit/tls/test_util.h"

namespace qtap::tls {
namespace {

namespace fs = std::filesystem;

TEST(TlsDiscovery, LibsslMatcher) {
  EXPECT_TRUE(is_libssl_path("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
  EXPECT_TRUE(is_libssl_path("/usr/lib/libssl.so.1.1"));
  EXPECT_TRUE(is_libssl_path("/usr/lib/libssl.so"));
  EXPECT_TRUE(is_libssl_path("libssl.so.3"));
  EXPECT_FALSE(is_libssl_path("/usr/lib/x86_64-linux-gnu/libssl3.so"));  // NSS
  EXPECT_FALSE(is_libssl_path("/usr/lib/libssl.a"));
  EXPECT_FALSE(is_libssl_path("/usr/lib/libssl.so.3/other"));
  EXPECT_FALSE(is_libssl_path("/opt/libssl.so.3.dir/libcrypto.so.3"));
  EXPECT_FALSE(is_libssl_path("/usr/lib/libcrypto.so.3"));
}

TEST(TlsDiscovery, HasOpenSslSymbols) {
  if (testing::exists(testing::kLibssl)) {
    auto lib = ElfFile::open(testing::kLibssl);
    ASSERT_TRUE(lib);
    EXPECT_TRUE(has_openssl_symbols(*lib));
  }
  if (testing::exists(testing::kNode)) {
    auto node = ElfFile::open(testing::kNode);
    ASSERT_TRUE(node);
    EXPECT_TRUE(has_openssl_symbols(*node));
  }
  auto self = ElfFile::open("/proc/self/exe");
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_FALSE(has_openssl_symbols(*self));
}

// A fake container root:
//   lib -> usr/lib                                (relative, merged /usr)
//   usr/lib/x/libssl.so -> /usr/lib/x/libssl.so.3 (absolute: must stay in the root)
//   usr/lib/x/libssl.so.3                         (the file)
//   usr/lib/x/libssl3.so                          (NSS, not a match)
//   usr/local/lib/libssl.so.1.1                   (another file)
//   usr/local/lib/libssl.so.9 -> /nowhere         (dangling)
//   usr/local/lib/loop -> loop
class FakeRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path();
    fs::create_directories(root_ + "/usr/lib/x");
    fs::create_directories(root_ + "/usr/local/lib");
    fs::create_directory_symlink("usr/lib", root_ + "/lib");
    std::ofstream(root_ + "/usr/lib/x/libssl.so.3") << "elf";
    std::ofstream(root_ + "/usr/lib/x/libssl3.so") << "nss";
    fs::create_symlink("/usr/lib/x/libssl.so.3", root_ + "/usr/lib/x/libssl.so");
    std::ofstream(root_ + "/usr/local/lib/libssl.so.1.1") << "old";
    fs::create_symlink("/nowhere", root_ + "/usr/local/lib/libssl.so.9");
    fs::create_symlink("loop", root_ + "/usr/local/lib/loop");
  }
  testing::TempDir dir_;
  std::string root_;
};

TEST_F(FakeRoot, ResolveInRootKeepsAbsoluteLinksInside) {
  EXPECT_EQ(resolve_in_root(root_, "/lib/x/libssl.so"), "/usr/lib/x/libssl.so.3");
  EXPECT_EQ(resolve_in_root(root_, "/usr/lib/x/libssl.so.3"), "/usr/lib/x/libssl.so.3");
  EXPECT_EQ(resolve_in_root(root_, "/lib/./x/../x/libssl.so.3"), "/usr/lib/x/libssl.so.3");
  EXPECT_EQ(resolve_in_root(root_, "/../../lib/x/libssl.so.3"), "/usr/lib/x/libssl.so.3");
  EXPECT_EQ(resolve_in_root(root_, "/"), "/");
  EXPECT_FALSE(resolve_in_root(root_, "/usr/local/lib/libssl.so.9"));  // dangling
  EXPECT_FALSE(resolve_in_root(root_, "/usr/local/lib/loop"));
  EXPECT_FALSE(resolve_in_root(root_, "/missing"));
}

TEST_F(FakeRoot, ScanFindsEachFileOnce) {
  const std::vector<std::string> dirs = {"/lib/x", "/usr/lib/x", "/usr/local/lib", "/nope"};
  const auto libs = scan_library_dirs(root_, is_libssl_path, dirs);
  ASSERT_EQ(libs.size(), 2u);
  EXPECT_EQ(libs[0].path, "/usr/lib/x/libssl.so.3");
  EXPECT_EQ(libs[0].host_path, root_ + "/usr/lib/x/libssl.so.3");
  auto id = file_identity(root_ + "/usr/lib/x/libssl.so.3");
  ASSERT_TRUE(id);
  EXPECT_EQ(libs[0].id, *id);
  EXPECT_EQ(libs[1].path, "/usr/local/lib/libssl.so.1.1");
  EXPECT_NE(libs[1].id, libs[0].id);
}

TEST(TlsDiscovery, HostScanFindsDebianLibsslOnce) {
  QTAP_REQUIRE_FILE(testing::kLibssl);
  const auto libs = scan_library_dirs("", is_libssl_path);
  struct stat st {};
  ASSERT_EQ(stat(testing::kLibssl, &st), 0);
  const FileIdentity want{st.st_dev, st.st_ino};
  size_t hits = 0;
  std::set<std::pair<uint64_t, uint64_t>> ids;
  for (const auto& l : libs) {
    EXPECT_TRUE(ids.insert({l.id.dev, l.id.ino}).second) << "twice: " << l.path;
    EXPECT_TRUE(is_libssl_path(l.path)) << l.path;
    EXPECT_EQ(l.host_path, l.path);
    if (l.id == want) {
      ++hits;
      EXPECT_EQ(l.path, testing::kLibssl);  // /lib and libssl.so symlinks resolved
    }
  }
  EXPECT_EQ(hits, 1u);
}

TEST(TlsDiscovery, FileIdentityOfAMissingFileIsAnError) {
  EXPECT_FALSE(file_identity("/nonexistent/qtap"));
}

}  // namespace
}  // namespace qtap::tls
