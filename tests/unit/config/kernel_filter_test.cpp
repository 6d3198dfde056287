#include "config/kernel_filter.h"

#include <gtest/gtest.h>

namespace qtap::config {
namespace {

using Pids = std::vector<uint32_t>;
using Ports = std::vector<PortRange>;
using Paths = std::vector<std::string>;
using Rules = std::vector<int>;

KernelFilter kf(std::string_view yaml) {
  auto r = parse_config(yaml, "t.yaml");
  EXPECT_TRUE(r) << r.error().message;
  return r ? kernel_filter(*r) : KernelFilter{};
}

TEST(KernelFilter, NoConfigPushesNothing) {
  KernelFilter k = kf("");
  EXPECT_TRUE(k.empty());
  EXPECT_FALSE(k.drop_all);
}

TEST(KernelFilter, ExcludeBySingleKernelField) {
  KernelFilter k = kf(R"(
filters:
  - match: {pid: [30, 10]}
    capture: none
  - match: {cgroup: [/system.slice/sshd.service, /system.slice/cron.service]}
    capture: none
  - match: {port: 22}
    capture: none
  - match: {local_port: "9100-9102"}
    capture: none
  - match: {remote_port: [53, 5353]}
    capture: none
  - match: {pid: 20}
    capture: none
)");
  EXPECT_EQ(k.exclude_pids, (Pids{10, 20, 30}));
  EXPECT_EQ(k.exclude_cgroups, (Paths{"/system.slice/cron.service", "/system.slice/sshd.service"}));
  EXPECT_EQ(k.exclude_local_ports, (Ports{{22, 22}, {9100, 9102}}));
  EXPECT_EQ(k.exclude_remote_ports, (Ports{{22, 22}, {53, 53}, {5353, 5353}}));
  EXPECT_EQ(k.pushed_rules, (Rules{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(k.only_pids.empty());
  EXPECT_FALSE(k.drop_all);
  EXPECT_FALSE(k.empty());
}

TEST(KernelFilter, NotPushed) {
  KernelFilter k = kf(R"(
filters:
  - match: {comm: curl}
    capture: none
  - match: {pid: 5, remote_port: 443}
    capture: none
  - match: {cgroup: "/system.slice/docker-*"}
    capture: none
  - match: {remote_address: 10.0.0.0/8}
    capture: none
  - match: {pid: 6}
    capture: summary
  - match: {uid: 0}
    capture: none
  - match: {host: "*.internal"}
    capture: none
)");
  EXPECT_TRUE(k.empty());
  EXPECT_TRUE(k.pushed_rules.empty());
}

TEST(KernelFilter, EarlierRuleThatMayOverlapBlocksTheExclusion) {
  KernelFilter k = kf(R"(
filters:
  - match: {host: "*.example.com"}
    capture: full
  - match: {pid: 7}
    capture: none
)");
  // pid 7's requests to *.example.com are captured in full: not droppable.
  EXPECT_TRUE(k.exclude_pids.empty());
  EXPECT_TRUE(k.pushed_rules.empty());
}

TEST(KernelFilter, DisjointEarlierRulesDoNotBlock) {
  KernelFilter pid = kf(R"(
filters:
  - match: {pid: 8, host: "*.example.com"}
    capture: full
  - match: {comm: curl}
    capture: none
  - match: {pid: 7}
    capture: none
)");
  EXPECT_EQ(pid.exclude_pids, (Pids{7}));  // rule 0 is pid 8 only; rule 1 is none anyway
  EXPECT_EQ(pid.pushed_rules, (Rules{2}));

  KernelFilter port = kf(R"(
filters:
  - match: {remote_port: 443, comm: python3}
    capture: headers
  - match: {remote_port: 80}
    capture: none
  - match: {port: 2000}
    capture: none
)");
  EXPECT_EQ(port.exclude_remote_ports, (Ports{{80, 80}}));  // rule 0 is port 443 only
  EXPECT_TRUE(port.exclude_local_ports.empty());            // python3 may use local port 2000
  EXPECT_EQ(port.pushed_rules, (Rules{1}));

  KernelFilter either = kf(R"(
filters:
  - match: {local_port: 1000, remote_port: 1000}
    capture: full
  - match: {port: 2000}
    capture: none
)");
  EXPECT_EQ(either.exclude_local_ports, (Ports{{2000, 2000}}));
  EXPECT_EQ(either.exclude_remote_ports, (Ports{{2000, 2000}}));
  EXPECT_EQ(either.pushed_rules, (Rules{1}));

  KernelFilter cgroup = kf(R"(
filters:
  - match: {cgroup: "/system.slice/a*"}
    capture: full
  - match: {cgroup: /system.slice/b.service}
    capture: none
)");
  EXPECT_EQ(cgroup.exclude_cgroups, (Paths{"/system.slice/b.service"}));  // "a*" misses it
  EXPECT_EQ(cgroup.pushed_rules, (Rules{1}));
}

TEST(KernelFilter, AnEarlierRuleOnAnotherFieldBlocks) {
  KernelFilter k = kf(R"(
filters:
  - match: {pid: 8}
    capture: full
  - match: {remote_port: 80}
    capture: none
  - match: {cgroup: /system.slice/b.service}
    capture: none
)");
  // pid 8 may talk to port 80 and live in b.service.
  EXPECT_TRUE(k.empty());
}

TEST(KernelFilter, OverlappingPortsAndCgroupsBlock) {
  KernelFilter k = kf(R"(
filters:
  - match: {remote_port: "400-500", comm: python3}
    capture: headers
  - match: {remote_port: 443}
    capture: none
  - match: {cgroup: "/system.slice/*"}
    capture: full
  - match: {cgroup: /system.slice/b.service}
    capture: none
  - match: {local_port: 3000}
    capture: full
  - match: {port: 3000}
    capture: none
)");
  EXPECT_TRUE(k.exclude_remote_ports.empty());
  EXPECT_TRUE(k.exclude_local_ports.empty());
  EXPECT_TRUE(k.exclude_cgroups.empty());
  EXPECT_TRUE(k.pushed_rules.empty());
}

TEST(KernelFilter, OnlyIncludePids) {
  KernelFilter k = kf(R"(
default_capture: none
filters:
  - match: {pid: [5, 6]}
    capture: full
  - match: {pid: 9, host: "*.example.com"}
    capture: headers
  - match: {comm: curl}
    capture: none
)");
  EXPECT_EQ(k.only_pids, (Pids{5, 6, 9}));
  EXPECT_TRUE(k.only_cgroups.empty());
  EXPECT_TRUE(k.only_remote_ports.empty());
  EXPECT_FALSE(k.drop_all);
}

TEST(KernelFilter, OnlyIncludeWithACatchAllNoneRule) {
  KernelFilter k = kf(R"(
filters:
  - match: {remote_port: 443}
    capture: full
  - match: {remote_port: ["8443", "9000-9100"], comm: java}
    capture: summary
  - capture: none
)");
  EXPECT_EQ(k.only_remote_ports, (Ports{{443, 443}, {8443, 8443}, {9000, 9100}}));
  EXPECT_TRUE(k.only_pids.empty());
  EXPECT_TRUE(k.only_local_ports.empty());
}

TEST(KernelFilter, OnlyIncludeEveryCommonField) {
  KernelFilter k = kf(R"(
default_capture: none
filters:
  - match: {cgroup: /a.slice/x.service, local_port: 8080}
    capture: full
  - match: {cgroup: /a.slice/y.service, local_port: 8081}
    capture: full
)");
  EXPECT_EQ(k.only_cgroups, (Paths{"/a.slice/x.service", "/a.slice/y.service"}));
  EXPECT_EQ(k.only_local_ports, (Ports{{8080, 8080}, {8081, 8081}}));
}

TEST(KernelFilter, OnlyIncludeNotPushed) {
  // Different fields per rule: the kernel cannot express "pid 5 OR port 443" here.
  KernelFilter mixed = kf(R"(
default_capture: none
filters:
  - match: {pid: 5}
    capture: full
  - match: {remote_port: 443}
    capture: full
)");
  EXPECT_TRUE(mixed.only_pids.empty());
  EXPECT_TRUE(mixed.only_remote_ports.empty());

  // The default captures: everything may reach userspace.
  KernelFilter full_default = kf(R"(
filters:
  - match: {pid: 5}
    capture: full
)");
  EXPECT_TRUE(full_default.empty());

  // A glob cgroup cannot be resolved to ids once and for all.
  KernelFilter glob = kf(R"(
default_capture: none
filters:
  - match: {cgroup: "/kubepods/*"}
    capture: full
)");
  EXPECT_TRUE(glob.only_cgroups.empty());

  // `port` is local OR remote: no single only-list says that.
  KernelFilter either = kf(R"(
default_capture: none
filters:
  - match: {port: 443}
    capture: full
)");
  EXPECT_TRUE(either.only_local_ports.empty());
  EXPECT_TRUE(either.only_remote_ports.empty());
  EXPECT_FALSE(either.drop_all);
}

TEST(KernelFilter, NothingCanBeCaptured) {
  EXPECT_TRUE(kf("default_capture: none\n").drop_all);
  EXPECT_TRUE(kf("filters:\n  - match: {pid: 1}\n    capture: none\n  - capture: none\n").drop_all);
  EXPECT_FALSE(
      kf("filters:\n  - match: {pid: 1}\n    capture: summary\n  - capture: none\n").drop_all);
}

TEST(KernelFilter, DirectionAndLoopback) {
  KernelFilter e = kf("direction: egress\nignore_loopback: true\n");
  EXPECT_EQ(e.only_direction, Direction::kEgress);
  EXPECT_TRUE(e.drop_loopback);
  EXPECT_EQ(kf("direction: egress-external\n").only_direction, Direction::kEgress);
  EXPECT_EQ(kf("direction: ingress\n").only_direction, Direction::kIngress);
  EXPECT_EQ(kf("direction: all\n").only_direction, std::nullopt);
  EXPECT_FALSE(kf("direction: all\n").drop_loopback);
}

TEST(KernelFilter, RestrictToPids) {
  KernelFilter none = kf("");
  none.restrict_to_pids({9, 3, 3});
  EXPECT_EQ(none.only_pids, (Pids{3, 9}));
  EXPECT_FALSE(none.drop_all);

  KernelFilter both =
      kf("default_capture: none\nfilters:\n  - match: {pid: [1, 2, 3]}\n"
         "    capture: full\n");
  both.restrict_to_pids({2, 3, 4});
  EXPECT_EQ(both.only_pids, (Pids{2, 3}));
  EXPECT_FALSE(both.drop_all);

  KernelFilter disjoint =
      kf("default_capture: none\nfilters:\n  - match: {pid: 1}\n"
         "    capture: full\n");
  disjoint.restrict_to_pids({2});
  EXPECT_TRUE(disjoint.only_pids.empty());
  EXPECT_TRUE(disjoint.drop_all);

  KernelFilter untouched = kf("");
  untouched.restrict_to_pids({});
  EXPECT_TRUE(untouched.empty());
}

}  // namespace
}  // namespace qtap::config
