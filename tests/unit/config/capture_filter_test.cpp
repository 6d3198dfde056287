#include "config/capture_filter.h"

#include <gtest/gtest.h>

namespace qtap::config {
namespace {

using L = CaptureLevel;

CapturePolicy policy(std::string_view yaml) {
  auto r = parse_config(yaml, "t.yaml");
  EXPECT_TRUE(r) << r.error().message;
  return r ? r->capture : CapturePolicy{};
}

// A process talking to a public HTTPS server from a container, egress.
struct World {
  ProcessInfo process{.pid = 100,
                      .comm = "curl",
                      .exe = "/usr/bin/curl",
                      .cmdline = "curl https://api.example.com",
                      .uid = 1000,
                      .user = "alice",
                      .cgroup = "/system.slice/docker-abc.scope",
                      .container = std::nullopt};
  ContainerInfo container{.id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                          .name = "web-1",
                          .image = "docker.io/library/nginx:1.25",
                          .labels = {{"app", "web"}, {"tier", "front"}, {"empty", ""}},
                          .pod_name = "checkout-7d9f",
                          .pod_namespace = "prod"};
  ConnectionFacts conn = ConnectionFacts::from(ConnectionContext{.local = {"10.0.0.5", 40000},
                                                                 .remote = {"93.184.216.34", 443},
                                                                 .direction = Direction::kEgress});
  bool has_process = true;
  bool in_container = true;
  std::string http_host;
  std::string sni;

  Subject subject() const {
    return Subject{has_process ? &process : nullptr, in_container ? &container : nullptr, &conn,
                   http_host, sni};
  }
  void connect(std::string_view local, uint16_t lport, std::string_view remote, uint16_t rport,
               Direction d = Direction::kEgress) {
    conn = ConnectionFacts::from(ConnectionContext{.local = {std::string(local), lport},
                                                   .remote = {std::string(remote), rport},
                                                   .direction = d});
  }
};

// True when a single `capture: none` rule with this match catches the world.
bool matches(std::string_view match, const World& w) {
  CapturePolicy p = policy("filters:\n  - capture: none\n    match: " + std::string(match) + "\n");
  EXPECT_EQ(p.rules.size(), 1u) << match;
  return decide(p, w.subject()).level == L::kNone;
}

TEST(ConnectionFacts, FromContext) {
  World w;
  EXPECT_EQ(w.conn.local_ip->to_string(), "10.0.0.5");
  EXPECT_EQ(w.conn.remote_ip->to_string(), "93.184.216.34");
  EXPECT_EQ(w.conn.local_port, 40000);
  EXPECT_EQ(w.conn.remote_port, 443);
  EXPECT_EQ(w.conn.direction, Direction::kEgress);
  EXPECT_EQ(w.conn.remote_scope, AddressScope::kPublic);
  w.connect("", 0, "", 0);
  EXPECT_FALSE(w.conn.remote_ip);
  EXPECT_EQ(w.conn.remote_scope, AddressScope::kUnknown);
}

TEST(Match, ExeEveryPatternKind) {
  World w;
  EXPECT_TRUE(matches("{exe: /usr/bin/curl}", w));
  EXPECT_FALSE(matches("{exe: /usr/bin/cur}", w));
  EXPECT_TRUE(matches("{exe: \"/usr/bin/*\"}", w));
  EXPECT_FALSE(matches("{exe: \"/usr/local/*\"}", w));
  EXPECT_TRUE(matches("{exe: \"*/cu?l\"}", w));
  EXPECT_TRUE(matches("{exe: \"re:/usr/(s?bin)/c.*\"}", w));
  EXPECT_FALSE(matches("{exe: \"re:curl\"}", w));  // regexes match the whole value
  EXPECT_TRUE(matches("{exe: [/bin/sh, /usr/bin/curl]}", w));
}

TEST(Match, CommAndUser) {
  World w;
  EXPECT_TRUE(matches("{comm: curl}", w));
  EXPECT_FALSE(matches("{comm: Curl}", w));  // case matters outside hosts and headers
  EXPECT_TRUE(matches("{comm: \"cu*\"}", w));
  EXPECT_TRUE(matches("{comm: \"re:c[a-z]+\"}", w));
  EXPECT_FALSE(matches("{comm: [wget, python3]}", w));
  EXPECT_TRUE(matches("{user: alice}", w));
  EXPECT_TRUE(matches("{user: \"al*\"}", w));
  EXPECT_TRUE(matches("{user: \"*ce\"}", w));
  EXPECT_TRUE(matches("{user: \"re:(alice|bob)\"}", w));
  EXPECT_FALSE(matches("{user: root}", w));
}

TEST(Match, PidUidCgroup) {
  World w;
  EXPECT_TRUE(matches("{pid: 100}", w));
  EXPECT_TRUE(matches("{pid: [1, 100]}", w));
  EXPECT_FALSE(matches("{pid: 101}", w));
  EXPECT_TRUE(matches("{uid: 1000}", w));
  EXPECT_FALSE(matches("{uid: 0}", w));
  EXPECT_TRUE(matches("{cgroup: /system.slice/docker-abc.scope}", w));
  EXPECT_TRUE(matches("{cgroup: \"/system.slice/docker-*\"}", w));
  EXPECT_FALSE(matches("{cgroup: /system.slice}", w));  // exact: not a subtree
}

TEST(Match, UnknownProcessMatchesNoProcessField) {
  World w;
  w.has_process = false;
  EXPECT_FALSE(matches("{pid: 100}", w));
  EXPECT_FALSE(matches("{comm: \"*\"}", w));
  EXPECT_TRUE(matches("{remote_port: 443}", w));
}

TEST(Match, EmptyValueNeverMatches) {
  World w;
  w.process.exe = "";  // unreadable
  EXPECT_FALSE(matches("{exe: \"*\"}", w));
  EXPECT_FALSE(matches("{exe: \"re:.*\"}", w));
  w.container.name = "";
  EXPECT_FALSE(matches("{container_name: \"*\"}", w));
}

TEST(Match, Container) {
  World w;
  EXPECT_TRUE(matches("{container_id: \"0123456789ab*\"}", w));
  EXPECT_FALSE(matches("{container_id: 0123456789ab}", w));  // exact needs the full id
  EXPECT_TRUE(matches("{container_name: web-1}", w));
  EXPECT_TRUE(matches("{container_name: \"web-?\"}", w));
  EXPECT_TRUE(matches("{container_image: \"docker.io/library/nginx:*\"}", w));
  EXPECT_TRUE(matches("{container_image: \"re:.*/nginx:1\\\\.2[0-9]\"}", w));
  EXPECT_FALSE(matches("{container_image: \"*/redis:*\"}", w));
  EXPECT_TRUE(matches("{pod_name: \"checkout-*\"}", w));
  EXPECT_TRUE(matches("{pod_namespace: prod}", w));
  EXPECT_FALSE(matches("{pod_namespace: [dev, staging]}", w));

  w.in_container = false;
  EXPECT_FALSE(matches("{container_name: web-1}", w));
  EXPECT_FALSE(matches("{container_image: \"*\"}", w));
  EXPECT_FALSE(matches("{pod_namespace: prod}", w));
  EXPECT_FALSE(matches("{container_labels: {app: \"*\"}}", w));
}

TEST(Match, ContainerLabels) {
  World w;
  EXPECT_TRUE(matches("{container_labels: {app: web}}", w));
  EXPECT_TRUE(matches("{container_labels: {app: web, tier: front}}", w));  // every label
  EXPECT_FALSE(matches("{container_labels: {app: web, tier: back}}", w));
  EXPECT_TRUE(matches("{container_labels: {tier: [back, front]}}", w));  // any value
  EXPECT_TRUE(matches("{container_labels: {app: \"*\"}}", w));           // present
  EXPECT_TRUE(matches("{container_labels: {empty: \"*\"}}", w));         // present, empty
  EXPECT_FALSE(matches("{container_labels: {missing: \"*\"}}", w));
  EXPECT_FALSE(matches("{container_labels: {App: web}}", w));  // keys are exact
}

TEST(Match, Ports) {
  World w;  // 10.0.0.5:40000 -> 93.184.216.34:443
  EXPECT_TRUE(matches("{remote_port: 443}", w));
  EXPECT_FALSE(matches("{remote_port: 80}", w));
  EXPECT_TRUE(matches("{remote_port: [80, \"400-500\"]}", w));
  EXPECT_FALSE(matches("{remote_port: \"444-500\"}", w));
  EXPECT_TRUE(matches("{local_port: \"32768-60999\"}", w));
  EXPECT_FALSE(matches("{local_port: 443}", w));
  EXPECT_TRUE(matches("{port: 443}", w));    // remote
  EXPECT_TRUE(matches("{port: 40000}", w));  // local
  EXPECT_FALSE(matches("{port: 80}", w));

  w.connect("10.0.0.5", 8080, "10.0.0.9", 51000, Direction::kIngress);
  EXPECT_TRUE(matches("{local_port: \"8000-8100\"}", w));
  EXPECT_TRUE(matches("{port: 8080}", w));
  EXPECT_FALSE(matches("{remote_port: 8080}", w));

  w.connect("", 0, "", 0);  // unknown endpoints
  EXPECT_FALSE(matches("{port: \"1-65535\"}", w));
  EXPECT_FALSE(matches("{remote_port: \"1-65535\"}", w));
}

TEST(Match, RemoteAddress) {
  World w;
  EXPECT_TRUE(matches("{remote_address: 93.184.216.0/24}", w));
  EXPECT_TRUE(matches("{remote_address: 93.184.216.34}", w));
  EXPECT_FALSE(matches("{remote_address: 10.0.0.0/8}", w));  // the local address is not used
  EXPECT_TRUE(matches("{remote_address: [10.0.0.0/8, 0.0.0.0/0]}", w));

  w.connect("::ffff:10.0.0.5", 40000, "::ffff:192.168.1.20", 443);
  EXPECT_TRUE(matches("{remote_address: 192.168.0.0/16}", w));  // mapped IPv4

  w.connect("2001:db8::5", 40000, "2001:db8:1::20", 443);
  EXPECT_TRUE(matches("{remote_address: \"2001:db8::/32\"}", w));
  EXPECT_FALSE(matches("{remote_address: \"2001:db8::/48\"}", w));
  EXPECT_FALSE(matches("{remote_address: 0.0.0.0/0}", w));
  EXPECT_TRUE(matches("{remote_address: \"::/0\"}", w));
}

TEST(Match, HostFromHttpOrSni) {
  World w;
  EXPECT_FALSE(matches("{host: \"*.example.com\"}", w));  // no host known: does not match
  w.http_host = "API.Example.com:8443";
  EXPECT_TRUE(matches("{host: \"*.example.com\"}", w));
  EXPECT_TRUE(matches("{host: api.example.com}", w));
  EXPECT_TRUE(matches("{host: \"re:api\\\\.example\\\\.com\"}", w));  // regexes ignore case too
  EXPECT_FALSE(matches("{host: example.com}", w));
  EXPECT_FALSE(matches("{host: \"*.example.org\"}", w));

  w.http_host = "example.com.";
  EXPECT_TRUE(matches("{host: example.com}", w));
  EXPECT_FALSE(matches("{host: \"*.example.com\"}", w));  // the apex is not a subdomain

  w.http_host = "";
  w.sni = "db.internal";
  EXPECT_TRUE(matches("{host: \"*.internal\"}", w));
  w.http_host = "other.test";
  EXPECT_TRUE(matches("{host: \"*.internal\"}", w));  // either one matching is enough
  EXPECT_TRUE(matches("{host: other.test}", w));
}

TEST(Match, AllFieldsMustMatch) {
  World w;
  w.http_host = "api.example.com";
  EXPECT_TRUE(matches("{comm: curl, remote_port: 443, host: \"*.example.com\", uid: 1000}", w));
  EXPECT_FALSE(matches("{comm: curl, remote_port: 80}", w));
  EXPECT_FALSE(matches("{comm: wget, remote_port: 443}", w));
  EXPECT_FALSE(matches("{comm: curl, host: \"*.example.org\"}", w));
}

TEST(Decide, FirstMatchWinsThenDefault) {
  CapturePolicy p = policy(R"(
default_capture: summary
filters:
  - match: {comm: python3}
    capture: full
    max_body: 1024
  - match: {comm: [curl, python3]}
    capture: none
  - match: {remote_port: 443}
    capture: headers
)");
  World w;
  EXPECT_EQ(decide(p, w.subject()), (Decision{L::kNone, std::nullopt, 1}));
  w.process.comm = "python3";
  EXPECT_EQ(decide(p, w.subject()), (Decision{L::kFull, 1024, 0}));
  w.process.comm = "wget";
  EXPECT_EQ(decide(p, w.subject()), (Decision{L::kHeaders, std::nullopt, 2}));
  w.connect("10.0.0.5", 40000, "93.184.216.34", 80);
  EXPECT_EQ(decide(p, w.subject()), (Decision{L::kSummary, std::nullopt, Decision::kDefault}));
}

TEST(Decide, NoRulesIsFull) {
  World w;
  EXPECT_EQ(decide(CapturePolicy{}, w.subject()),
            (Decision{L::kFull, std::nullopt, Decision::kDefault}));
}

TEST(Decide, HostRuleIsSkippedUntilTheHostIsKnown) {
  CapturePolicy p = policy(R"(
filters:
  - match: {host: "*.internal"}
    capture: none
  - match: {comm: curl}
    capture: headers
)");
  World w;
  EXPECT_EQ(decide(p, w.subject()).rule, 1);
  w.http_host = "db.internal";
  EXPECT_EQ(decide(p, w.subject()).rule, 0);
}

TEST(Decide, Direction) {
  World w;
  auto level = [&](std::string_view dir) {
    return decide(policy("direction: " + std::string(dir) + "\n"), w.subject());
  };
  Decision dropped{L::kNone, std::nullopt, Decision::kGlobal};
  Decision kept{L::kFull, std::nullopt, Decision::kDefault};

  // Egress to a public address.
  EXPECT_EQ(level("all"), kept);
  EXPECT_EQ(level("egress"), kept);
  EXPECT_EQ(level("ingress"), dropped);
  EXPECT_EQ(level("egress-external"), kept);

  w.connect("10.0.0.5", 40000, "10.0.0.9", 443);  // egress, private
  EXPECT_EQ(level("egress"), kept);
  EXPECT_EQ(level("egress-external"), dropped);

  w.connect("10.0.0.5", 8080, "93.184.216.34", 50000, Direction::kIngress);
  EXPECT_EQ(level("ingress"), kept);
  EXPECT_EQ(level("egress"), dropped);
  EXPECT_EQ(level("egress-external"), dropped);

  w.connect("10.0.0.5", 8080, "93.184.216.34", 50000, Direction::kUnknown);
  EXPECT_EQ(level("all"), kept);
  EXPECT_EQ(level("egress"), dropped);
  EXPECT_EQ(level("ingress"), dropped);
}

TEST(Decide, IgnoreLoopbackBeforeRules) {
  CapturePolicy p = policy(R"(
ignore_loopback: true
filters:
  - match: {comm: curl}
    capture: full
)");
  World w;
  EXPECT_EQ(decide(p, w.subject()).level, L::kFull);
  w.connect("127.0.0.1", 40000, "127.0.0.1", 8080);
  EXPECT_EQ(decide(p, w.subject()), (Decision{L::kNone, std::nullopt, Decision::kGlobal}));
  w.connect("::1", 40000, "::1", 8080);
  EXPECT_EQ(decide(p, w.subject()).level, L::kNone);
  w.connect("10.0.0.5", 40000, "10.0.0.6", 8080);
  EXPECT_EQ(decide(p, w.subject()).level, L::kFull);
}

// The examples of docs/config.md.
TEST(Decide, ExampleExcludeCurlKeepPython) {
  CapturePolicy p = policy(R"(
filters:
  - match: {comm: "python*"}
    capture: full
  - match: {comm: curl}
    capture: none
)");
  World w;
  EXPECT_EQ(decide(p, w.subject()).level, L::kNone);
  w.process.comm = "python3.11";
  EXPECT_EQ(decide(p, w.subject()).level, L::kFull);
  w.process.comm = "wget";
  EXPECT_EQ(decide(p, w.subject()).level, L::kFull);  // the default
}

TEST(Decide, ExampleOnlyPort443) {
  CapturePolicy p = policy(R"(
default_capture: none
filters:
  - match: {remote_port: 443}
    capture: full
)");
  World w;
  EXPECT_EQ(decide(p, w.subject()).level, L::kFull);
  w.connect("10.0.0.5", 40000, "93.184.216.34", 80);
  EXPECT_EQ(decide(p, w.subject()).level, L::kNone);
}

TEST(Decide, ExampleExternalEgressHeadersOnly) {
  CapturePolicy p = policy(R"(
direction: egress-external
default_capture: headers
)");
  World w;
  EXPECT_EQ(decide(p, w.subject()).level, L::kHeaders);
  w.connect("10.0.0.5", 40000, "100.64.1.1", 443);  // CGNAT: not external
  EXPECT_EQ(decide(p, w.subject()).level, L::kNone);
}

TEST(DecideConnection, FinalWithoutHostRules) {
  CapturePolicy p = policy(R"(
filters:
  - match: {comm: curl}
    capture: none
  - match: {remote_port: 443}
    capture: headers
)");
  World w;
  ConnectionVerdict v = decide_connection(p, w.subject());
  EXPECT_TRUE(v.final);
  EXPECT_EQ(v.decision, (Decision{L::kNone, std::nullopt, 0}));
  EXPECT_EQ(v.max_level, L::kNone);  // the connection can be dropped

  w.process.comm = "wget";
  v = decide_connection(p, w.subject());
  EXPECT_TRUE(v.final);
  EXPECT_EQ(v.decision.rule, 1);
  EXPECT_EQ(v.max_level, L::kHeaders);
}

TEST(DecideConnection, PendingHostRule) {
  CapturePolicy p = policy(R"(
default_capture: none
filters:
  - match: {comm: curl, host: "*.example.com"}
    capture: full
  - match: {comm: curl}
    capture: summary
)");
  World w;
  w.http_host = "api.example.com";  // ignored at connection time
  ConnectionVerdict v = decide_connection(p, w.subject());
  EXPECT_FALSE(v.final);
  EXPECT_EQ(v.decision, (Decision{L::kSummary, std::nullopt, 1}));
  EXPECT_EQ(v.max_level, L::kFull);

  w.sni = "api.example.com";  // the SNI settles it
  v = decide_connection(p, w.subject());
  EXPECT_TRUE(v.final);
  EXPECT_EQ(v.decision, (Decision{L::kFull, std::nullopt, 0}));

  w.sni = "other.test";  // a later Host header could still match
  v = decide_connection(p, w.subject());
  EXPECT_FALSE(v.final);
  EXPECT_EQ(v.decision.rule, 1);

  w.process.comm = "wget";  // nothing can match: the default, final
  v = decide_connection(p, w.subject());
  EXPECT_TRUE(v.final);
  EXPECT_EQ(v.decision, (Decision{L::kNone, std::nullopt, Decision::kDefault}));
  EXPECT_EQ(v.max_level, L::kNone);
}

TEST(DecideConnection, PendingNoneRuleKeepsTheConnection) {
  CapturePolicy p = policy(R"(
filters:
  - match: {host: "*.internal"}
    capture: none
)");
  World w;
  ConnectionVerdict v = decide_connection(p, w.subject());
  EXPECT_FALSE(v.final);
  EXPECT_EQ(v.decision.level, L::kFull);
  EXPECT_EQ(v.max_level, L::kFull);
}

TEST(DecideConnection, GlobalDrop) {
  World w;
  ConnectionVerdict v = decide_connection(policy("direction: ingress\n"), w.subject());
  EXPECT_TRUE(v.final);
  EXPECT_EQ(v.decision, (Decision{L::kNone, std::nullopt, Decision::kGlobal}));
  EXPECT_EQ(v.max_level, L::kNone);
}

}  // namespace
}  // namespace qtap::config
