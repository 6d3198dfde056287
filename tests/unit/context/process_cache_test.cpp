#include "context/process_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "context/proc_files.h"
#include "unit/context/fake_metadata_source.h"
#include "unit/context/temp_tree.h"

using namespace std::string_literals;
using namespace std::string_view_literals;

namespace qtap {
namespace {

const std::string kDockerId = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d";
const std::string kPodId = "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376";

// A fake host: /proc, a cgroup2 tree (found through proc/self/mountinfo as on
// a hybrid host) and a passwd file.
class ProcessCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.write("passwd",
               "root:x:0:0:root:/root:/bin/bash\n"
               "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
               "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n");
    tree.mkdir("cg/system.slice/nginx.service");
    tree.mkdir("cg/system.slice/docker-" + kDockerId + ".scope");
    tree.mkdir("cg/user.slice/user-1000.slice/session-3.scope");
    tree.write("proc/self/mountinfo",
               "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
               "41 31 0:38 / " +
                   tree.path("cg") + " rw,relatime - cgroup2 cgroup2 rw\n");
  }

  ContextConfig config(size_t max_processes = 65536) const {
    ContextConfig cfg;
    cfg.proc_root = tree.path("proc");
    cfg.passwd_path = tree.path("passwd");
    cfg.max_processes = max_processes;
    cfg.docker_socket = "";  // no runtime to ask; the metadata tests bring a fake one
    return cfg;
  }

  // A live process in the fake /proc.
  void add_proc(uint32_t pid, std::string_view exe, std::string_view cmdline, std::string_view comm,
                uint32_t uid, std::string_view cgroup) const {
    std::string dir = "proc/" + std::to_string(pid);
    tree.symlink(exe, dir + "/exe");
    tree.write(dir + "/cmdline", cmdline);
    tree.write(dir + "/comm", std::string(comm) + "\n");
    tree.write(dir + "/status", "Name:\t" + std::string(comm) + "\nUid:\t" + std::to_string(uid) +
                                    "\t" + std::to_string(uid) + "\t" + std::to_string(uid) + "\t" +
                                    std::to_string(uid) + "\n");
    tree.write(dir + "/cgroup", cgroup);
  }

  uint64_t cgroup_id(std::string_view rel) const { return tree.inode("cg/" + std::string(rel)); }

  testing::TempTree tree;
};

TEST_F(ProcessCacheTest, ExecThenGet) {
  ProcessCache cache(config());
  tree.write("proc/100/cgroup", "0::/system.slice/docker-" + kDockerId + ".scope\n");
  ProcessHint hint{"curl\0\0\0\0\0\0\0\0\0\0\0\0"sv, 1000,
                   cgroup_id("system.slice/docker-" + kDockerId + ".scope")};
  cache.on_exec(100, hint, "/usr/bin/curl", "curl\0-s\0https://example.com/\0"sv);

  const ProcessInfo& p = cache.get(100, ProcessHint{"other", 0, 0});
  EXPECT_EQ(p.pid, 100u);
  EXPECT_EQ(p.comm, "curl");
  EXPECT_EQ(p.exe, "/usr/bin/curl");
  EXPECT_EQ(p.cmdline, "curl -s https://example.com/");
  EXPECT_EQ(p.uid, 1000u);
  EXPECT_EQ(p.user, "alice");
  EXPECT_EQ(p.cgroup, "/system.slice/docker-" + kDockerId + ".scope");
  ASSERT_TRUE(p.container);
  EXPECT_EQ(p.container->id, kDockerId);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ProcessCacheTest, ExecOfAGoneProcessUsesTheCgroupId) {
  ProcessCache cache(config());
  ProcessHint hint{"nginx", 33, cgroup_id("system.slice/nginx.service")};
  cache.on_exec(101, hint, "/usr/sbin/nginx", "nginx\0-g\0daemon off;\0"sv);
  const ProcessInfo& p = cache.get(101, hint);
  EXPECT_EQ(p.exe, "/usr/sbin/nginx");
  EXPECT_EQ(p.cmdline, "nginx -g daemon off;");
  EXPECT_EQ(p.user, "www-data");
  EXPECT_EQ(p.cgroup, "/system.slice/nginx.service");
  EXPECT_FALSE(p.container);
}

TEST_F(ProcessCacheTest, ExecOnAHybridHostPrefersProcCgroupOverTheV2Id) {
  ProcessCache cache(config());
  tree.write("proc/102/cgroup", "4:memory:/docker/" + kDockerId + "\n1:name=systemd:/docker/" +
                                    kDockerId + "\n0::/\n");
  cache.on_exec(102, ProcessHint{"sh", 0, tree.inode("cg")}, "/bin/sh", "sh\0"sv);
  const ProcessInfo& p = cache.get(102, ProcessHint{});
  EXPECT_EQ(p.cgroup, "/docker/" + kDockerId);
  ASSERT_TRUE(p.container);
  EXPECT_EQ(p.container->id, kDockerId);
  EXPECT_EQ(p.user, "root");
}

TEST_F(ProcessCacheTest, ExecResolvesARelativeFilenameThroughProcExe) {
  ProcessCache cache(config());
  tree.symlink("/opt/app/bin/server", "proc/103/exe");
  cache.on_exec(103, ProcessHint{"server", 0, 0}, "./bin/server", "./bin/server\0"sv);
  EXPECT_EQ(cache.get(103, {}).exe, "/opt/app/bin/server");

  // runc re-executes /proc/self/exe; fexecve() shows up as /dev/fd/N.
  tree.symlink("/usr/bin/runc", "proc/104/exe");
  cache.on_exec(104, ProcessHint{"runc:[2:INIT]", 0, 0}, "/proc/self/exe", "runc\0init\0"sv);
  EXPECT_EQ(cache.get(104, {}).exe, "/usr/bin/runc");
  tree.symlink("/usr/lib/systemd/systemd-executor (deleted)", "proc/105/exe");
  cache.on_exec(105, ProcessHint{"systemd-executo", 0, 0}, "/dev/fd/3", "sd\0"sv);
  EXPECT_EQ(cache.get(105, {}).exe, "/usr/lib/systemd/systemd-executor");
}

TEST_F(ProcessCacheTest, ExecKeepsARelativeFilenameWhenProcIsGone) {
  ProcessCache cache(config());
  cache.on_exec(106, ProcessHint{"", 0, 0}, "./a.out\0\0\0"sv, ""sv);
  const ProcessInfo& p = cache.get(106, {});
  EXPECT_EQ(p.exe, "./a.out");
  EXPECT_EQ(p.comm, "a.out");  // the kernel names the task after the file
  EXPECT_EQ(p.cmdline, "");
  EXPECT_EQ(p.cgroup, "");
  EXPECT_FALSE(p.container);
}

TEST_F(ProcessCacheTest, ExecResolvesTheExeLink) {
  ProcessCache cache(config());
  tree.symlink("/usr/bin/python3.11", "proc/107/exe");  // what the symlink resolves to
  cache.on_exec(107, ProcessHint{"python3", 0, 0}, "/usr/bin/python3", "python3\0"sv);
  EXPECT_EQ(cache.get(107, {}).exe, "/usr/bin/python3.11");
}

TEST_F(ProcessCacheTest, ExecOfAProcessAlreadyGoneKeepsTheGivenName) {
  ProcessCache cache(config());
  cache.on_exec(108, ProcessHint{"python3", 0, 0}, "/usr/bin/python3", "python3\0"sv);
  EXPECT_EQ(cache.get(108, {}).exe, "/usr/bin/python3");
}

TEST_F(ProcessCacheTest, GetReadsProcOnce) {
  ProcessCache cache(config());
  add_proc(200, "/usr/sbin/nginx", "nginx: worker process\0\0\0\0"s, "nginx", 33,
           "12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n"
           "0::/\n");
  const ProcessInfo& p = cache.get(200, ProcessHint{"ignored", 1000, 0});
  EXPECT_EQ(p.pid, 200u);
  EXPECT_EQ(p.exe, "/usr/sbin/nginx");
  EXPECT_EQ(p.cmdline, "nginx: worker process");
  EXPECT_EQ(p.comm, "nginx");
  EXPECT_EQ(p.uid, 33u);
  EXPECT_EQ(p.user, "www-data");
  EXPECT_EQ(p.cgroup, "/system.slice/nginx.service");
  EXPECT_FALSE(p.container);
  EXPECT_EQ(cache.size(), 1u);

  // Cached: later changes in /proc (or its disappearance) are not seen.
  tree.write("proc/200/comm", "changed\n");
  tree.remove("proc/200/exe");
  const ProcessInfo& again = cache.get(200, {});
  EXPECT_EQ(&again, &p);
  EXPECT_EQ(again.comm, "nginx");
  EXPECT_EQ(again.exe, "/usr/sbin/nginx");
}

TEST_F(ProcessCacheTest, GetFromProcInAKubernetesPod) {
  ProcessCache cache(config());
  const std::string cg =
      "/kubepods.slice/kubepods-besteffort.slice/"
      "kubepods-besteffort-pod74c13223_5a00_11e9_b385_42010a80018d.slice/cri-containerd-" +
      kPodId + ".scope";
  add_proc(201, "/app/server", "/app/server\0--port=8080\0"s, "server", 65534, "0::" + cg + "\n");
  const ProcessInfo& p = cache.get(201, {});
  EXPECT_EQ(p.cgroup, cg);
  ASSERT_TRUE(p.container);
  EXPECT_EQ(p.container->id, kPodId);
  EXPECT_EQ(p.user, "65534");  // not in this host's passwd
  EXPECT_EQ(p.container->runtime, "containerd");
  EXPECT_EQ(p.container->pod_uid, "74c13223-5a00-11e9-b385-42010a80018d");
}

TEST_F(ProcessCacheTest, GetWithUnreadableExeStillUsesProc) {
  ProcessCache cache(config());
  // Another user's process without CAP_SYS_PTRACE: exe cannot be read, the
  // rest can.
  tree.write("proc/202/comm", "postgres\n");
  tree.write("proc/202/status", "Uid:\t0\t0\t0\t0\n");
  tree.write("proc/202/cmdline", "postgres\0-D\0/var/lib/pg\0"s);
  const ProcessInfo& p =
      cache.get(202, ProcessHint{"x", 1000, cgroup_id("system.slice/nginx.service")});
  EXPECT_EQ(p.exe, "");
  EXPECT_EQ(p.comm, "postgres");
  EXPECT_EQ(p.uid, 0u);
  EXPECT_EQ(p.cmdline, "postgres -D /var/lib/pg");
  // No /proc/PID/cgroup: the id names it.
  EXPECT_EQ(p.cgroup, "/system.slice/nginx.service");
}

TEST_F(ProcessCacheTest, GetAfterTheProcessIsGoneUsesTheHint) {
  ProcessCache cache(config());
  ProcessHint hint{"curl\0\0\0\0"sv, 1000, cgroup_id("user.slice/user-1000.slice/session-3.scope")};
  const ProcessInfo& p = cache.get(300, hint);
  EXPECT_EQ(p.pid, 300u);
  EXPECT_EQ(p.comm, "curl");
  EXPECT_EQ(p.exe, "");
  EXPECT_EQ(p.cmdline, "");
  EXPECT_EQ(p.uid, 1000u);
  EXPECT_EQ(p.user, "alice");
  EXPECT_EQ(p.cgroup, "/user.slice/user-1000.slice/session-3.scope");
  EXPECT_FALSE(p.container);
  EXPECT_EQ(cache.size(), 0u);  // not cached: the pid may come back as another process

  const ProcessInfo& c = cache.get(
      301, ProcessHint{"wget", 0, cgroup_id("system.slice/docker-" + kDockerId + ".scope")});
  EXPECT_EQ(c.comm, "wget");
  EXPECT_EQ(c.user, "root");
  EXPECT_EQ(c.cgroup, "/system.slice/docker-" + kDockerId + ".scope");
  ASSERT_TRUE(c.container);
  EXPECT_EQ(c.container->id, kDockerId);

  // An unknown id names nothing.
  EXPECT_EQ(cache.get(302, ProcessHint{"x", 0, 0xfffffffffff0ULL}).cgroup, "");
  EXPECT_EQ(cache.get(302, ProcessHint{"x", 0, 0}).cgroup, "");

  // The pid shows up in /proc later: read it then.
  add_proc(300, "/usr/bin/ssh", "ssh\0host\0"s, "ssh", 0, "0::/init.scope\n");
  const ProcessInfo& later = cache.get(300, hint);
  EXPECT_EQ(later.exe, "/usr/bin/ssh");
  EXPECT_EQ(later.cgroup, "/init.scope");
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ProcessCacheTest, NetnsIsTheInodeOfTheNamespaceLink) {
  ProcessCache cache(config());
  // The real ns/net is a magic link to an nsfs inode; a file stands in for it.
  tree.write("proc/110/ns/net", "");
  tree.write("proc/110/cgroup", "0::/system.slice/nginx.service\n");
  cache.on_exec(110, ProcessHint{"nginx", 0, 0}, "/usr/sbin/nginx", "nginx\0"sv);
  EXPECT_EQ(cache.get(110, {}).netns, tree.inode("proc/110/ns/net"));

  add_proc(111, "/usr/sbin/sshd", "sshd\0"s, "sshd", 0, "0::/\n");
  tree.write("proc/111/ns/net", "");
  EXPECT_EQ(cache.get(111, {}).netns, tree.inode("proc/111/ns/net"));

  EXPECT_EQ(cache.get(112, ProcessHint{"gone", 0, 0}).netns, 0u);  // nothing in /proc
}

TEST_F(ProcessCacheTest, ContainerMetadataArrivesWithoutBlocking) {
  auto rt = std::make_shared<testing::FakeRuntime>();
  rt->add(kDockerId, ContainerMetadata{"web-1", "nginx:1.25", {{"app", "web"}}});
  rt->hold();  // the runtime is slow to answer
  ProcessCache cache(config(), std::make_unique<testing::FakeSource>(rt));
  const std::string cg = "0::/system.slice/docker-" + kDockerId + ".scope\n";
  tree.write("proc/700/cgroup", cg);
  cache.on_exec(700, ProcessHint{"nginx", 0, 0}, "/usr/sbin/nginx", "nginx\0"sv);

  // The first events carry what the cgroup path says, not what the runtime knows.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    const ProcessInfo& p = cache.get(700, {});
    ASSERT_TRUE(p.container);
    EXPECT_EQ(p.container->runtime, "docker");
    EXPECT_EQ(p.container->id, kDockerId);
    EXPECT_EQ(p.container->name, "");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));

  rt->release();
  ASSERT_TRUE(testing::eventually([&] { return !cache.get(700, {}).container->name.empty(); }));
  const ProcessInfo& p = cache.get(700, {});
  EXPECT_EQ(p.container->name, "web-1");
  EXPECT_EQ(p.container->image, "nginx:1.25");
  ASSERT_NE(p.container->label("app"), nullptr);

  // Another process of the container has it at once, with no new fetch.
  add_proc(701, "/usr/sbin/nginx", "nginx\0"s, "nginx", 33, cg);
  EXPECT_EQ(cache.get(701, {}).container->name, "web-1");
  EXPECT_EQ(rt->fetch_count(), 1u);
}

TEST_F(ProcessCacheTest, OnlyServedContainersAreAskedAbout) {
  auto rt = std::make_shared<testing::FakeRuntime>();
  ProcessCache cache(config(), std::make_unique<testing::FakeSource>(rt));
  add_proc(710, "/bin/sh", "sh\0"s, "sh", 0, "0::/user.slice/user-1000.slice/session-3.scope\n");
  add_proc(711, "/app", "app\0"s, "app", 0,
           "0::/kubepods.slice/kubepods-pod74c13223_5a00_11e9_b385_42010a80018d.slice/"
           "cri-containerd-" +
               kPodId + ".scope\n");
  EXPECT_FALSE(cache.get(710, {}).container);
  EXPECT_EQ(cache.get(711, {}).container->runtime, "containerd");
  EXPECT_EQ(rt->fetch_count(), 0u);
}

TEST_F(ProcessCacheTest, ExecReplacesACachedEntry) {
  ProcessCache cache(config());
  add_proc(400, "/bin/bash", "bash\0"s, "bash", 1000,
           "0::/user.slice/user-1000.slice/session-3.scope\n");
  EXPECT_EQ(cache.get(400, {}).exe, "/bin/bash");

  // bash exec'd a program: same pid, new image.
  tree.remove("proc/400/exe");
  tree.symlink("/usr/bin/python3.11", "proc/400/exe");
  cache.on_exec(400, ProcessHint{"python3", 1000, 0}, "/usr/bin/python3", "python3\0app.py\0"sv);
  const ProcessInfo& p = cache.get(400, {});
  EXPECT_EQ(p.exe, "/usr/bin/python3.11");
  EXPECT_EQ(p.cmdline, "python3 app.py");
  EXPECT_EQ(p.comm, "python3");
  EXPECT_EQ(p.cgroup, "/user.slice/user-1000.slice/session-3.scope");  // still in /proc
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ProcessCacheTest, PidReuseAfterExit) {
  ProcessCache cache(config());
  cache.on_exec(500, ProcessHint{"old", 0, 0}, "/usr/bin/old", "old\0"sv);
  EXPECT_EQ(cache.get(500, {}).exe, "/usr/bin/old");
  cache.on_exit(500);
  EXPECT_EQ(cache.size(), 0u);
  // Gone and forgotten: only the hint.
  const ProcessInfo& gone = cache.get(500, ProcessHint{"old", 0, 0});
  EXPECT_EQ(gone.exe, "");
  EXPECT_EQ(gone.comm, "old");

  // The pid is reused by a new program.
  cache.on_exec(500, ProcessHint{"new", 33, 0}, "/usr/bin/new", "new\0--flag\0"sv);
  const ProcessInfo& p = cache.get(500, {});
  EXPECT_EQ(p.exe, "/usr/bin/new");
  EXPECT_EQ(p.cmdline, "new --flag");
  EXPECT_EQ(p.user, "www-data");
  EXPECT_EQ(cache.size(), 1u);

  cache.on_exit(12345);  // unknown pid: nothing happens
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ProcessCacheTest, EvictsTheOldestInsertedAtTheCap) {
  ProcessCache cache(config(3));
  for (uint32_t pid = 1; pid <= 3; ++pid) {
    cache.on_exec(pid, ProcessHint{"p", 0, 0}, "/bin/p" + std::to_string(pid), ""sv);
  }
  EXPECT_EQ(cache.size(), 3u);
  cache.on_exec(4, ProcessHint{"p", 0, 0}, "/bin/p4", ""sv);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.get(1, {}).exe, "");  // evicted, and gone from /proc
  EXPECT_EQ(cache.get(2, {}).exe, "/bin/p2");
  EXPECT_EQ(cache.get(4, {}).exe, "/bin/p4");

  // An exec re-inserts: 2 becomes the newest, so 3 is the next to go.
  cache.on_exec(2, ProcessHint{"p", 0, 0}, "/bin/p2b", ""sv);
  cache.on_exec(5, ProcessHint{"p", 0, 0}, "/bin/p5", ""sv);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.get(3, {}).exe, "");
  EXPECT_EQ(cache.get(2, {}).exe, "/bin/p2b");
  EXPECT_EQ(cache.get(4, {}).exe, "/bin/p4");
  EXPECT_EQ(cache.get(5, {}).exe, "/bin/p5");

  // get() from /proc inserts too, under the same cap.
  add_proc(6, "/bin/p6", "p6\0"s, "p6", 0, "0::/\n");
  EXPECT_EQ(cache.get(6, {}).exe, "/bin/p6");
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.get(4, {}).exe, "");
}

TEST_F(ProcessCacheTest, CmdlineIsCapped) {
  ContextConfig cfg = config();
  cfg.max_cmdline_bytes = 10;
  ProcessCache cache(cfg);
  cache.on_exec(600, ProcessHint{"java", 0, 0}, "/usr/bin/java", "java\0-Xmx4g\0-jar\0app.jar\0"sv);
  EXPECT_EQ(cache.get(600, {}).cmdline, "java -Xmx4");
  add_proc(601, "/usr/bin/java", "java\0-Xmx4g\0-jar\0app.jar\0"s, "java", 0, "0::/\n");
  EXPECT_EQ(cache.get(601, {}).cmdline, "java -Xmx4");
}

TEST(HostName, IsTheUtsNodename) {
  utsname u{};
  ASSERT_EQ(::uname(&u), 0);
  EXPECT_EQ(host_name(), std::string(u.nodename));
  EXPECT_EQ(&host_name(), &host_name());
}

}  // namespace
}  // namespace qtap

namespace qtap {
namespace {

// The real /proc, for this test process.
TEST(ProcessCacheOnThisHost, ReadsItsOwnProcess) {
  ProcessCache cache(ContextConfig{});
  const auto pid = static_cast<uint32_t>(::getpid());
  const ProcessInfo& p = cache.get(pid, ProcessHint{"hint", 4242, 0});
  EXPECT_EQ(p.pid, pid);
  EXPECT_EQ(p.exe, std::filesystem::read_symlink("/proc/self/exe").string());
  std::string comm = read_file("/proc/self/comm", 64).value_or("?");
  EXPECT_EQ(p.comm + "\n", comm);
  EXPECT_EQ(p.comm, "unit_context");
  EXPECT_EQ(p.uid, static_cast<uint32_t>(::getuid()));
  EXPECT_EQ(p.cgroup, select_cgroup_path(read_file("/proc/self/cgroup", 65536).value_or("")));
  EXPECT_EQ(p.cmdline, join_args(read_file("/proc/self/cmdline", 4097).value_or(""), 4096));
  struct stat ns {};
  ASSERT_EQ(::stat("/proc/self/ns/net", &ns), 0);
  EXPECT_EQ(p.netns, static_cast<uint64_t>(ns.st_ino));
}

}  // namespace
}  // namespace qtap
