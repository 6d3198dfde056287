#include "tls/proc_maps.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tls/tls_discovery.h"
#include "unit/tls/test_util.h"

namespace qtap::tls {
namespace {

TEST(ProcMaps, ParsesAFileMapping) {
  auto e = parse_maps_line(
      "7f1c2a41f000-7f1c2a47c000 r-xp 0001f000 fe:01 1234567                    "
      "/usr/lib/x86_64-linux-gnu/libssl.so.3");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->start, 0x7f1c2a41f000u);
  EXPECT_EQ(e->end, 0x7f1c2a47c000u);
  EXPECT_EQ(e->perms, "r-xp");
  EXPECT_EQ(e->offset, 0x1f000u);
  EXPECT_EQ(e->dev_major, 0xfeu);
  EXPECT_EQ(e->dev_minor, 0x01u);
  EXPECT_EQ(e->inode, 1234567u);
  EXPECT_EQ(e->path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
  EXPECT_FALSE(e->deleted);
  EXPECT_TRUE(e->executable());
  EXPECT_TRUE(e->is_file());
}

TEST(ProcMaps, AnonymousAndSpecialMappings) {
  auto anon = parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->path, "");
  EXPECT_FALSE(anon->is_file());
  auto anon_no_space = parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0");
  ASSERT_TRUE(anon_no_space);
  EXPECT_EQ(anon_no_space->path, "");
  auto heap = parse_maps_line("55d0c000-55d2d000 rw-p 00000000 00:00 0          [heap]");
  ASSERT_TRUE(heap);
  EXPECT_EQ(heap->path, "[heap]");
  EXPECT_FALSE(heap->is_file());
  EXPECT_FALSE(heap->executable());
  auto vdso = parse_maps_line("7ffd5a5f0000-7ffd5a5f2000 r-xp 00000000 00:00 0  [vdso]");
  ASSERT_TRUE(vdso);
  EXPECT_FALSE(vdso->is_file());
}

TEST(ProcMaps, DeletedFilesAndPathsWithSpaces) {
  auto del = parse_maps_line(
      "7f00000000-7f00001000 r-xp 00002000 08:02 99 /usr/lib/libssl.so.3 (deleted)");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->path, "/usr/lib/libssl.so.3");
  EXPECT_TRUE(del->deleted);

  auto spaces = parse_maps_line(
      "7f00000000-7f00001000 r--p 00000000 103:05 42   /opt/My App/lib/libssl.so.1.1");
  ASSERT_TRUE(spaces);
  EXPECT_EQ(spaces->path, "/opt/My App/lib/libssl.so.1.1");
  EXPECT_EQ(spaces->dev_major, 0x103u);
  EXPECT_EQ(spaces->dev_minor, 0x05u);
  EXPECT_FALSE(spaces->deleted);

  auto both = parse_maps_line(
      "7f00000000-7f00001000 r-xp 00000000 08:02 7 /tmp/a  b/libssl.so.3 (deleted)\n");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->path, "/tmp/a  b/libssl.so.3");
  EXPECT_TRUE(both->deleted);

  // "(deleted)" that is part of the name, not the kernel's suffix.
  auto name = parse_maps_line("7f00000000-7f00001000 r-xp 00000000 08:02 7 /tmp/x(deleted)");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->path, "/tmp/x(deleted)");
  EXPECT_FALSE(name->deleted);
}

TEST(ProcMaps, RejectsMalformedLines) {
  for (const char* bad :
       {"", "garbage", "7f00-7f01", "7f00-7f01 r-xp", "7f00-7f01 r-xp 0 08:02",
        "7f00-7f01 r-x 00000000 08:02 7 /a", "zz-7f01 r-xp 00000000 08:02 7 /a",
        "7f00-7f01 r-xp 00000000 0802 7 /a", "7f00-7f01 r-xp 00000000 08:02 x7 /a",
        "7f00-7f01 r-xp 00000000 08:02 99999999999999999999999 /a"}) {
    EXPECT_FALSE(parse_maps_line(bad)) << bad;
  }
}

TEST(ProcMaps, DistinctMatchingFilesFromAFakeProcTree) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.file("1234"));
  std::ofstream(dir.file("1234/maps"))
      << "55d0a000-55d0b000 r--p 00000000 fe:01 100   /usr/bin/curl\n"
         "7f00000000-7f00020000 r--p 00000000 fe:01 200   /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
         "7f00020000-7f00080000 r-xp 00020000 fe:01 200   /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
         "7f00080000-7f000a0000 r--p 00080000 fe:01 200   /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
         "7f000a0000-7f000b0000 r--p 00000000 fe:01 300   /usr/lib/x86_64-linux-gnu/libssl3.so\n"
         "7f000b0000-7f000c0000 r-xp 00000000 fe:01 400   /opt/old/libssl.so.1.1 (deleted)\n"
         "7f000c0000-7f000d0000 r--p 00000000 00:2b 200   /mnt/other fs/libssl.so.3\n"
         "not a maps line\n"
         "7ffd1000-7ffd2000 rw-p 00000000 00:00 0          [stack]\n";
  auto files = find_mapped_files(dir.path(), 1234, is_libssl_path);
  ASSERT_TRUE(files) << files.error().message;
  ASSERT_EQ(files->size(), 3u);

  const MappedFile& a = (*files)[0];
  EXPECT_EQ(a.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
  EXPECT_EQ(a.access_path, dir.path() + "/1234/root/usr/lib/x86_64-linux-gnu/libssl.so.3");
  EXPECT_EQ(a.inode, 200u);
  EXPECT_EQ(a.dev_major, 0xfeu);
  EXPECT_EQ(a.dev_minor, 1u);
  EXPECT_TRUE(a.executable);  // the r-xp mapping, merged from the second line
  EXPECT_FALSE(a.deleted);

  const MappedFile& b = (*files)[1];
  EXPECT_EQ(b.path, "/opt/old/libssl.so.1.1");
  EXPECT_TRUE(b.deleted);
  EXPECT_EQ(b.access_path, dir.path() + "/1234/map_files/7f000b0000-7f000c0000");

  const MappedFile& c = (*files)[2];  // same inode, other device: another file
  EXPECT_EQ(c.path, "/mnt/other fs/libssl.so.3");
  EXPECT_EQ(c.inode, 200u);
  EXPECT_EQ(c.dev_major, 0u);
  EXPECT_EQ(c.dev_minor, 0x2bu);
  EXPECT_FALSE(c.executable);

  // The matcher is a parameter: the same maps, asking for NSS's libssl3.so.
  auto nss = find_mapped_files(dir.path(), 1234,
                               [](std::string_view p) { return p.ends_with("/libssl3.so"); });
  ASSERT_TRUE(nss);
  ASSERT_EQ(nss->size(), 1u);
  EXPECT_EQ((*nss)[0].inode, 300u);

  EXPECT_FALSE(find_mapped_files(dir.path(), 999, is_libssl_path));  // no such process
}

// The running test process maps libc: its maps line, its identity through
// /proc/self/root and a plain stat of the library all agree.
TEST(ProcMaps, OwnProcessMapsLibc) {
  auto files = find_mapped_files("/proc", static_cast<uint32_t>(getpid()), [](std::string_view p) {
    return p.substr(p.rfind('/') + 1).starts_with("libc.so");
  });
  ASSERT_TRUE(files) << files.error().message;
  ASSERT_EQ(files->size(), 1u);
  const MappedFile& libc = (*files)[0];
  EXPECT_TRUE(libc.executable);
  struct stat st {};
  ASSERT_EQ(stat(libc.path.c_str(), &st), 0) << libc.path;
  EXPECT_EQ(libc.inode, st.st_ino);
  EXPECT_EQ(makedev(libc.dev_major, libc.dev_minor), st.st_dev);
  auto id = file_identity(libc.access_path);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->ino, st.st_ino);
  EXPECT_EQ(id->dev, st.st_dev);
}

}  // namespace
}  // namespace qtap::tls
