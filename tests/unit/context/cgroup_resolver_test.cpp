#include "context/cgroup_resolver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "context/proc_files.h"
#include "unit/context/temp_tree.h"

namespace qtap {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

// /proc/self/mountinfo of this development host: cgroup v1 controllers plus
// cgroup2 at /sys/fs/cgroup/unified (systemd's "hybrid" layout).
#define QTAP_V1_MOUNTS                                                         \
  "22 1 0:20 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"         \
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"        \
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"       \
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" \
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
constexpr std::string_view kV1Mountinfo = QTAP_V1_MOUNTS;
constexpr std::string_view kHybridMountinfo =
    QTAP_V1_MOUNTS "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
#undef QTAP_V1_MOUNTS

TEST(FindCgroup2Mount, Hybrid) {
  auto m = find_cgroup2_mount(kHybridMountinfo);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m->root, "/");
}

TEST(FindCgroup2Mount, PureV2WithOptionalFields) {
  constexpr std::string_view text =
      "25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
      "26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 master:1 - cgroup2 "
      "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
  auto m = find_cgroup2_mount(text);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->mount_point, "/sys/fs/cgroup");
  EXPECT_EQ(m->root, "/");
}

TEST(FindCgroup2Mount, EscapedMountPointAndSubCgroupRoot) {
  constexpr std::string_view text =
      "26 25 0:24 /kubepods.slice /host\\040root/sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw\n";
  auto m = find_cgroup2_mount(text);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->mount_point, "/host root/sys/fs/cgroup");
  EXPECT_EQ(m->root, "/kubepods.slice");
}

TEST(FindCgroup2Mount, NoneOnV1OnlyHostsOrGarbage) {
  EXPECT_EQ(find_cgroup2_mount(kV1Mountinfo), std::nullopt);
  EXPECT_EQ(find_cgroup2_mount(""), std::nullopt);
  EXPECT_EQ(find_cgroup2_mount("1 2 3\n - cgroup2\n"), std::nullopt);
}

class CgroupTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.mkdir("cg/system.slice/nginx.service");
    tree.mkdir("cg/user.slice/user-1000.slice/session-3.scope");
    tree.mkdir(
        "cg/kubepods.slice/kubepods-besteffort.slice/"
        "kubepods-besteffort-pod74c13223_5a00_11e9_b385_42010a80018d.slice/"
        "cri-containerd-34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376.scope");
    tree.write("cg/system.slice/nginx.service/cgroup.procs", "123\n");  // files are skipped
  }

  CgroupResolverConfig config(milliseconds interval = milliseconds(1000)) const {
    CgroupResolverConfig cfg;
    cfg.proc_root = tree.path("proc");
    cfg.cgroup_root = tree.path("cg");
    cfg.rebuild_interval = interval;
    return cfg;
  }

  testing::TempTree tree;
};

TEST_F(CgroupTreeTest, MapsInodeNumbersToPaths) {
  CgroupResolver r(config());
  EXPECT_EQ(r.path_of(tree.inode("cg")), std::optional<std::string>("/"));
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice")), std::optional<std::string>("/system.slice"));
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice/nginx.service")),
            std::optional<std::string>("/system.slice/nginx.service"));
  EXPECT_EQ(r.path_of(tree.inode("cg/user.slice/user-1000.slice/session-3.scope")),
            std::optional<std::string>("/user.slice/user-1000.slice/session-3.scope"));
  const std::string pod =
      "/kubepods.slice/kubepods-besteffort.slice/"
      "kubepods-besteffort-pod74c13223_5a00_11e9_b385_42010a80018d.slice";
  const std::string ctr =
      pod +
      "/cri-containerd-34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376.scope";
  EXPECT_EQ(r.path_of(tree.inode("cg" + pod)), std::optional<std::string>(pod));
  EXPECT_EQ(r.path_of(tree.inode("cg" + ctr)), std::optional<std::string>(ctr));
  EXPECT_EQ(r.mount_point(), tree.path("cg"));
  EXPECT_EQ(r.size(), 10u);  // root + 9 directories, no files
  EXPECT_EQ(r.walks(), 1u);
}

TEST_F(CgroupTreeTest, FindsTheMountInMountinfo) {
  // A hybrid host whose unified hierarchy is the fake tree.
  tree.write("proc/self/mountinfo", std::string(kV1Mountinfo) + "41 31 0:38 / " + tree.path("cg") +
                                        " rw,relatime shared:1 - cgroup2 cgroup2 rw\n");
  CgroupResolverConfig cfg = config();
  cfg.cgroup_root.clear();
  CgroupResolver r(cfg);
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice/nginx.service")),
            std::optional<std::string>("/system.slice/nginx.service"));
  EXPECT_EQ(r.mount_point(), tree.path("cg"));
}

TEST_F(CgroupTreeTest, MountOfASubCgroupPrefixesItsRoot) {
  tree.write("proc/self/mountinfo",
             "99 41 0:40 /kubepods.slice " + tree.path("cg") + " ro - cgroup2 cgroup2 rw\n");
  CgroupResolverConfig cfg = config();
  cfg.cgroup_root.clear();
  CgroupResolver r(cfg);
  EXPECT_EQ(r.path_of(tree.inode("cg")), std::optional<std::string>("/kubepods.slice"));
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice")),
            std::optional<std::string>("/kubepods.slice/system.slice"));
}

TEST_F(CgroupTreeTest, NoCgroup2MountNamesNothing) {
  tree.write("proc/self/mountinfo", std::string(kV1Mountinfo));
  CgroupResolverConfig cfg = config();
  cfg.cgroup_root.clear();
  CgroupResolver r(cfg);
  EXPECT_EQ(r.path_of(tree.inode("cg")), std::nullopt);
  EXPECT_EQ(r.mount_point(), "");
  EXPECT_EQ(r.walks(), 0u);
}

TEST_F(CgroupTreeTest, MissRewalksAfterTheInterval) {
  CgroupResolver r(config(milliseconds(0)));
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice")), std::optional<std::string>("/system.slice"));
  EXPECT_EQ(r.walks(), 1u);
  tree.mkdir("cg/system.slice/docker-abc.scope");  // created after the first walk
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice/docker-abc.scope")),
            std::optional<std::string>("/system.slice/docker-abc.scope"));
  EXPECT_EQ(r.walks(), 2u);
  // Hits do not walk.
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice")), std::optional<std::string>("/system.slice"));
  EXPECT_EQ(r.walks(), 2u);
}

TEST_F(CgroupTreeTest, MissWithinTheIntervalDoesNotWalk) {
  CgroupResolver r(config(hours(1)));
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice")), std::optional<std::string>("/system.slice"));
  tree.mkdir("cg/system.slice/late.service");
  EXPECT_EQ(r.path_of(tree.inode("cg/system.slice/late.service")), std::nullopt);
  EXPECT_EQ(r.path_of(0xffffffffffffULL), std::nullopt);
  EXPECT_EQ(r.walks(), 1u);
}

TEST_F(CgroupTreeTest, RemovedCgroupKeepsItsNameAfterARewalk) {
  CgroupResolver r(config(milliseconds(0)));
  tree.mkdir("cg/system.slice/short.service");
  uint64_t gone = tree.inode("cg/system.slice/short.service");
  EXPECT_EQ(r.path_of(gone), std::optional<std::string>("/system.slice/short.service"));
  // Created before the removal so the filesystem cannot hand it the old
  // inode number (cgroupfs never reuses ids; ext4 and tmpfs do).
  tree.mkdir("cg/new.slice");
  uint64_t fresh = tree.inode("cg/new.slice");
  tree.remove("cg/system.slice/short.service");
  EXPECT_EQ(r.path_of(fresh), std::optional<std::string>("/new.slice"));
  EXPECT_EQ(r.walks(), 2u);
  EXPECT_EQ(r.path_of(gone), std::optional<std::string>("/system.slice/short.service"));
}

TEST_F(CgroupTreeTest, TableIsBounded) {
  CgroupResolverConfig cfg = config(milliseconds(0));
  cfg.max_entries = 3;
  CgroupResolver r(cfg);
  EXPECT_EQ(r.path_of(tree.inode("cg")), std::optional<std::string>("/"));
  EXPECT_EQ(r.size(), 3u);
  for (int i = 0; i < 5; ++i) r.path_of(0xfffffffffff0ULL + i);  // misses rewalk
  EXPECT_EQ(r.size(), 3u);
}

}  // namespace
}  // namespace qtap

namespace qtap {
namespace {

// On the machine running the tests: the id the kernel reports for our own
// cgroup (the cgroupfs file handle carries the same kernfs id that
// bpf_get_current_cgroup_id() returns) names the path /proc/self/cgroup shows.
TEST(CgroupResolverOnThisHost, OwnCgroupIdNamesOwnPath) {
  auto mountinfo = read_file("/proc/self/mountinfo", size_t{8} << 20);
  ASSERT_TRUE(mountinfo.has_value());
  auto mount = find_cgroup2_mount(*mountinfo);
  if (!mount) GTEST_SKIP() << "no cgroup2 mount on this host";
  if (mount->root != "/") GTEST_SKIP() << "cgroup2 mounted from " << mount->root;

  auto self = read_file("/proc/self/cgroup", 65536);
  ASSERT_TRUE(self.has_value());
  std::string v2_path;
  for (std::string_view rest = *self; !rest.empty();) {
    std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    if (line.starts_with("0::")) v2_path = std::string(line.substr(3));
  }
  ASSERT_FALSE(v2_path.empty());

  struct {
    file_handle fh;
    unsigned char bytes[64];
  } handle{};
  handle.fh.handle_bytes = sizeof(handle.bytes);
  int mount_id = 0;
  std::string dir = mount->mount_point + (v2_path == "/" ? "" : v2_path);
  ASSERT_EQ(::name_to_handle_at(AT_FDCWD, dir.c_str(), &handle.fh, &mount_id, 0), 0) << dir;
  ASSERT_EQ(handle.fh.handle_bytes, 8u);
  uint64_t id = 0;
  std::memcpy(&id, handle.fh.f_handle, sizeof(id));

  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(id, static_cast<uint64_t>(st.st_ino));  // the id is the inode number

  CgroupResolver r(CgroupResolverConfig{});
  EXPECT_EQ(r.path_of(id), std::optional<std::string>(v2_path));
  EXPECT_EQ(r.mount_point(), mount->mount_point);
}

}  // namespace
}  // namespace qtap
