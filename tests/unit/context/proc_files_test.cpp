#include "context/proc_files.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/context/temp_tree.h"

using namespace std::string_literals;
using namespace std::string_view_literals;

namespace qtap {
namespace {

TEST(JoinArgs, JoinsNulSeparatedArgvWithSpaces) {
  EXPECT_EQ(join_args("curl\0-s\0https://example.com/a b\0"sv, 4096),
            "curl -s https://example.com/a b");
}

TEST(JoinArgs, WithoutTerminatorAndWithPadding) {
  EXPECT_EQ(join_args("python3\0-m\0http.server"sv, 4096), "python3 -m http.server");
  EXPECT_EQ(join_args("sleep\0"
                      "10\0\0\0\0"sv,
                      4096),
            "sleep 10");
}

TEST(JoinArgs, EmptyArgumentInTheMiddleStaysVisible) {
  EXPECT_EQ(join_args("ssh\0\0host\0"sv, 4096), "ssh  host");
}

TEST(JoinArgs, RewrittenArgvWithoutNulsIsKept) {
  // nginx and postgres overwrite argv with one space-separated string.
  EXPECT_EQ(join_args("nginx: worker process\0\0\0"sv, 4096), "nginx: worker process");
}

TEST(JoinArgs, CutAtTheCap) {
  EXPECT_EQ(join_args("abcdef\0ghij\0"sv, 8), "abcdef g");
  EXPECT_EQ(join_args("abcdef\0ghij\0"sv, 7), "abcdef");
  EXPECT_EQ(join_args(""sv, 16), "");
  EXPECT_EQ(join_args("\0\0"sv, 16), "");
}

TEST(UntilNul, StopsAtTheFirstNul) {
  EXPECT_EQ(until_nul("curl\0\0\0\0\0\0\0\0\0\0\0\0"sv), "curl");
  EXPECT_EQ(until_nul("exactly-15-char"sv), "exactly-15-char");
  EXPECT_EQ(until_nul("\0x"sv), "");
}

TEST(StripDeleted, RemovesTheKernelSuffixOnly) {
  EXPECT_EQ(strip_deleted("/usr/sbin/nginx (deleted)"), "/usr/sbin/nginx");
  EXPECT_EQ(strip_deleted("/usr/sbin/nginx"), "/usr/sbin/nginx");
  EXPECT_EQ(strip_deleted(" (deleted)"), " (deleted)");
}

TEST(ParseStatusUid, RealUidIsTheFirstColumn) {
  const std::string status =
      "Name:\tsudo\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\n"
      "PPid:\t1\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t64\n";
  EXPECT_EQ(parse_status_uid(status), std::optional<uint32_t>(1000));
  EXPECT_EQ(parse_status_uid("Uid:    0       0       0       0\n"), std::optional<uint32_t>(0));
  EXPECT_EQ(parse_status_uid("Uid:\t4294967294\t4294967294\t4294967294\t4294967294"),
            std::optional<uint32_t>(4294967294u));
}

TEST(ParseStatusUid, MissingOrMalformed) {
  EXPECT_EQ(parse_status_uid("Name:\tx\nPid:\t1\n"), std::nullopt);
  EXPECT_EQ(parse_status_uid("Uid:\tabc\t0\t0\t0\n"), std::nullopt);
  EXPECT_EQ(parse_status_uid("Uid:\n"), std::nullopt);
  EXPECT_EQ(parse_status_uid(""), std::nullopt);
}

TEST(SelectCgroupPath, PureV2) {
  EXPECT_EQ(select_cgroup_path("0::/system.slice/nginx.service\n"), "/system.slice/nginx.service");
  EXPECT_EQ(select_cgroup_path("0::/\n"), "/");
}

TEST(SelectCgroupPath, HybridV2PathWinsWhenNotRoot) {
  // systemd's hybrid mode mirrors units into the unified hierarchy.
  const std::string text =
      "12:pids:/system.slice/sshd.service\n"
      "1:name=systemd:/system.slice/sshd.service\n"
      "0::/system.slice/sshd.service\n";
  EXPECT_EQ(select_cgroup_path(text), "/system.slice/sshd.service");
  EXPECT_EQ(select_cgroup_path("1:name=systemd:/user.slice\n0::/init.scope\n"), "/init.scope");
}

TEST(SelectCgroupPath, HybridV2AtRootUsesNameSystemd) {
  const std::string text =
      "11:memory:/docker/aaaa\n"
      "10:cpu,cpuacct:/docker/aaaa\n"
      "1:name=systemd:/docker/bbbb\n"
      "0::/\n";
  EXPECT_EQ(select_cgroup_path(text), "/docker/bbbb");
}

TEST(SelectCgroupPath, HybridAllRootButOneController) {
  // This development host: everything at the root except memory.
  const std::string text =
      "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
      "4:memory:/process_api/b1632ff3db7b3621e5c9a3743616c19a\n3:cpuset:/\n2:cpuacct:/\n"
      "1:cpu:/\n0::/\n";
  EXPECT_EQ(select_cgroup_path(text), "/process_api/b1632ff3db7b3621e5c9a3743616c19a");
}

TEST(SelectCgroupPath, V1OnlyFirstNonRoot) {
  const std::string text =
      "11:blkio:/\n"
      "10:devices:/system.slice/"
      "docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope\n"
      "9:memory:/other\n";
  EXPECT_EQ(select_cgroup_path(text),
            "/system.slice/"
            "docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope");
}

TEST(SelectCgroupPath, NameSystemdAmongOtherControllerNames) {
  EXPECT_EQ(select_cgroup_path("3:cpu:/a\n2:name=systemd,foo:/b\n0::/\n"), "/b");
  EXPECT_EQ(select_cgroup_path("3:cpu:/a\n2:name=systemdx:/b\n0::/\n"), "/a");
}

TEST(SelectCgroupPath, PathWithColonsAndDeletedSuffix) {
  const std::string id = "d4e8e05a546c86b6443f101966c618e47753ed01fa9929cae00d3b692f7a9f80";
  const std::string path =
      "/system.slice/containerd.service/"
      "kubepods-besteffort-pod214f3ba8_4b69_4bdb_a7d5_5ecc73f04ae9.slice:cri-containerd:" +
      id;
  EXPECT_EQ(select_cgroup_path("1:name=systemd:" + path + "\n0::/\n"), path);
  EXPECT_EQ(select_cgroup_path("0::/system.slice/gone.service (deleted)\n"),
            "/system.slice/gone.service");
}

TEST(SelectCgroupPath, NothingParsable) {
  EXPECT_EQ(select_cgroup_path(""), "");
  EXPECT_EQ(select_cgroup_path("garbage\nmore garbage\n"), "");
  EXPECT_EQ(select_cgroup_path("1:cpu:relative\n"), "");
}

TEST(ReadFile, ReadsBoundedAndReportsMissing) {
  testing::TempTree tree;
  tree.write("f", "0123456789");
  EXPECT_EQ(read_file(tree.path("f"), 100), std::optional<std::string>("0123456789"));
  EXPECT_EQ(read_file(tree.path("f"), 4), std::optional<std::string>("0123"));
  EXPECT_EQ(read_file(tree.path("missing"), 100), std::nullopt);
}

TEST(ProcReader, ReadsEachFile) {
  testing::TempTree tree;
  tree.symlink("/usr/lib/jvm/bin/java (deleted)", "proc/77/exe");
  tree.write("proc/77/cmdline", "java\0-jar\0app.jar\0"s);
  tree.write("proc/77/comm", "java\n");
  tree.write("proc/77/status", "Name:\tjava\nUid:\t33\t33\t33\t33\n");
  tree.write("proc/77/cgroup", "0::/system.slice/app.service\n");
  ProcReader proc(tree.path("proc"));
  EXPECT_EQ(proc.exe(77), std::optional<std::string>("/usr/lib/jvm/bin/java"));
  EXPECT_EQ(proc.cmdline(77, 4096), std::optional<std::string>("java -jar app.jar"));
  EXPECT_EQ(proc.cmdline(77, 8), std::optional<std::string>("java -ja"));
  EXPECT_EQ(proc.comm(77), std::optional<std::string>("java"));
  EXPECT_EQ(proc.uid(77), std::optional<uint32_t>(33));
  EXPECT_EQ(proc.cgroup(77), std::optional<std::string>("/system.slice/app.service"));

  EXPECT_EQ(proc.exe(78), std::nullopt);
  EXPECT_EQ(proc.cmdline(78, 4096), std::nullopt);
  EXPECT_EQ(proc.comm(78), std::nullopt);
  EXPECT_EQ(proc.uid(78), std::nullopt);
  EXPECT_EQ(proc.cgroup(78), std::nullopt);
}

}  // namespace
}  // namespace qtap
