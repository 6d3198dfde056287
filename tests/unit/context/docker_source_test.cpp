#include "context/docker_source.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "context/process_cache.h"
#include "unit/context/fake_metadata_source.h"
#include "unit/context/temp_tree.h"

using namespace std::chrono_literals;

namespace qtap {
namespace {

const std::string kId = "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376";

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(QTAP_FIXTURES) + "/docker/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string inspect_sample() {
  std::string s = fixture("container_inspect.json");
  EXPECT_FALSE(s.empty());
  return s;
}

// How a Go server (dockerd) sends a large JSON answer to an HTTP/1.1 request.
std::string chunked(std::string_view body, size_t chunk) {
  std::string out =
      "HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\nContent-Type: application/json\r\n"
      "Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/24.0.7 (linux)\r\n"
      "Date: Sun, 29 Nov 2026 05:55:03 GMT\r\nConnection: close\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t i = 0; i < body.size(); i += chunk) {
    std::string_view part = body.substr(i, chunk);
    out += fmt::format("{:x}\r\n", part.size());
    out.append(part);
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

std::string with_length(int status, std::string_view reason, std::string_view body) {
  return fmt::format(
             "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
             status, reason, body.size()) +
         std::string(body);
}

TEST(ParseDockerInspect, HandWrittenSample) {
  auto m = parse_docker_inspect(inspect_sample());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "k8s_web_checkout-7d9f_prod_74c13223-5a00-11e9-b385-42010a80018d_0");
  EXPECT_EQ(m->image, "docker.io/library/nginx:1.25");
  ASSERT_EQ(m->labels.size(), 7u);
  EXPECT_TRUE(std::is_sorted(m->labels.begin(), m->labels.end()));
  ContainerInfo c;
  apply_metadata(*m, c);
  EXPECT_EQ(c.pod_name, "checkout-7d9f");
  EXPECT_EQ(c.pod_namespace, "prod");
  ASSERT_NE(c.label("com.example.empty"), nullptr);
  EXPECT_EQ(*c.label("com.example.empty"), "");
  EXPECT_EQ(*c.label("maintainer"), "NGINX Docker Maintainers <docker-maint@nginx.com>");
}

TEST(ParseDockerInspect, MissingAndOddFieldsAreEmpty) {
  auto m = parse_docker_inspect(R"({"Name":"/db","Image":"sha256:abc","Config":{"Labels":null}})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "db");
  EXPECT_EQ(m->image, "sha256:abc");  // no Config.Image: the image id
  EXPECT_TRUE(m->labels.empty());

  // Wrong types are skipped, not thrown.
  m = parse_docker_inspect(
      R"({"Name":7,"Config":{"Image":["x"],"Labels":{"ok":"1","num":2,"obj":{}}}})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "");
  EXPECT_EQ(m->image, "");
  EXPECT_EQ(m->labels, (std::vector<std::pair<std::string, std::string>>{{"ok", "1"}}));

  EXPECT_FALSE(parse_docker_inspect(""));
  EXPECT_FALSE(parse_docker_inspect("[]"));
  EXPECT_FALSE(parse_docker_inspect(R"({"Name":"/cut)"));
  EXPECT_FALSE(parse_docker_inspect(R"({"message":"x"} trailing)"));
}

TEST(ParseHttpReply, ContentLengthChunkedAndClose) {
  const std::string body = inspect_sample();
  auto r = parse_http_reply(with_length(200, "OK", body));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body);

  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, body.size()}) {
    r = parse_http_reply(chunked(body, chunk));
    ASSERT_TRUE(r) << chunk;
    EXPECT_EQ(r->body, body) << chunk;
  }

  r = parse_http_reply("HTTP/1.0 200 OK\r\n\r\n{\"Name\":\"/x\"}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"Name\":\"/x\"}");

  r = parse_http_reply(with_length(404, "Not Found", R"({"message":"No such container: 34dc"})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  // Extensions and trailers, header names in any case.
  r = parse_http_reply(
      "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "abc");
}

TEST(ParseHttpReply, MalformedOrCutShort) {
  const std::string full = chunked(inspect_sample(), 100);
  for (const std::string& bad : {
           std::string(""),
           std::string("garbage\r\n\r\n"),
           std::string("HTTP/1.1 2x0 OK\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"),  // headers never end
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
           full.substr(0, full.size() - 5),  // no last chunk
           full.substr(0, full.size() / 2),
       }) {
    EXPECT_FALSE(parse_http_reply(bad)) << bad.substr(0, 80);
  }
}

// A daemon on a unix socket in a temp dir: answers each connection with
// `reply` after `delay`, and keeps the request it got.
class FakeDockerd {
 public:
  FakeDockerd(std::string path, std::string reply, std::chrono::milliseconds delay = 0ms)
      : path_(std::move(path)), reply_(std::move(reply)), delay_(delay) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 8) != 0) {
      throw std::runtime_error("fake dockerd: bind/listen failed");
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDockerd() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }

  int accepted() const { return accepted_; }
  std::string request() {
    std::lock_guard lock(mu_);
    return request_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      ++accepted_;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard lock(mu_);
        request_ = req;
      }
      std::this_thread::sleep_for(delay_);
      // The client may have given up (timeout): no SIGPIPE for that.
      ssize_t ignored = ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      (void)ignored;
      ::close(c);
    }
  }

  std::string path_;
  std::string reply_;
  std::chrono::milliseconds delay_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::string request_;
  std::thread thread_;
};

TEST(DockerSource, AsksTheEngineApi) {
  testing::TempTree tree;
  FakeDockerd dockerd(tree.path("docker.sock"), chunked(inspect_sample(), 512));
  DockerSource source(tree.path("docker.sock"), 2000ms);
  EXPECT_TRUE(source.serves("docker"));
  EXPECT_TRUE(source.serves(""));  // kubepods cgroupfs: may be dockershim's
  EXPECT_FALSE(source.serves("containerd"));

  auto m = source.fetch("docker", kId);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->image, "docker.io/library/nginx:1.25");
  const std::string req = dockerd.request();
  EXPECT_TRUE(req.starts_with("GET /containers/" + kId + "/json HTTP/1.1\r\n")) << req;
  EXPECT_NE(req.find("\r\nHost: docker\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nConnection: close\r\n"), std::string::npos) << req;
}

TEST(DockerSource, NotFoundAndGarbageAreNoAnswer) {
  testing::TempTree tree;
  {
    FakeDockerd dockerd(tree.path("a.sock"),
                        with_length(404, "Not Found", R"({"message":"No such container"})"));
    EXPECT_FALSE(DockerSource(tree.path("a.sock"), 2000ms).fetch("docker", kId));
  }
  {
    FakeDockerd dockerd(tree.path("b.sock"), "SSH-2.0-OpenSSH_9.2\r\n");
    EXPECT_FALSE(DockerSource(tree.path("b.sock"), 2000ms).fetch("docker", kId));
  }
}

TEST(DockerSource, NoSocketFailsAtOnce) {
  testing::TempTree tree;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(DockerSource(tree.path("absent.sock"), 2000ms).fetch("docker", kId));
  EXPECT_FALSE(DockerSource(tree.path(std::string(200, 'x')), 2000ms).fetch("docker", kId));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

TEST(DockerSource, ASlowDaemonTimesOut) {
  testing::TempTree tree;
  FakeDockerd dockerd(tree.path("docker.sock"), with_length(200, "OK", inspect_sample()), 1500ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(DockerSource(tree.path("docker.sock"), 200ms).fetch("docker", kId));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1000ms);
}

TEST(DockerSource, NeverPutsAPathInTheUrl) {
  testing::TempTree tree;
  FakeDockerd dockerd(tree.path("docker.sock"), with_length(200, "OK", "{}"));
  DockerSource source(tree.path("docker.sock"), 2000ms);
  EXPECT_FALSE(source.fetch("", "../../info"));
  EXPECT_FALSE(source.fetch("", "x\r\nHost: evil"));
  EXPECT_EQ(dockerd.accepted(), 0);
}

// Through ProcessCache, as qtap runs it: the socket named in the config.
TEST(DockerSource, ProcessCacheAsksTheConfiguredSocket) {
  testing::TempTree tree;
  FakeDockerd dockerd(tree.path("docker.sock"), chunked(inspect_sample(), 300));
  tree.write("passwd", "root:x:0:0:root:/root:/bin/bash\n");
  tree.write("proc/self/mountinfo", "");
  const std::string cg = "0::/system.slice/docker-" + kId + ".scope\n";
  tree.write("proc/900/cgroup", cg);

  ContextConfig replay;  // no /proc: no runtime either
  replay.proc_root.clear();
  replay.docker_socket = tree.path("docker.sock");
  replay.passwd_path = tree.path("passwd");
  ProcessCache(replay).on_exec(900, ProcessHint{"nginx", 0, 0}, "/usr/sbin/nginx", "nginx\0");

  ContextConfig cfg;
  cfg.proc_root = tree.path("proc");
  cfg.passwd_path = tree.path("passwd");
  cfg.docker_socket = tree.path("docker.sock");
  ProcessCache cache(cfg);
  cache.on_exec(900, ProcessHint{"nginx", 0, 0}, "/usr/sbin/nginx", "nginx\0");
  ASSERT_TRUE(testing::eventually([&] { return !cache.get(900, {}).container->name.empty(); }));
  const ContainerInfo& c = *cache.get(900, {}).container;
  EXPECT_EQ(c.runtime, "docker");
  EXPECT_EQ(c.id, kId);
  EXPECT_EQ(c.image, "docker.io/library/nginx:1.25");
  EXPECT_EQ(c.pod_name, "checkout-7d9f");
  EXPECT_EQ(dockerd.accepted(), 1);  // the replay cache asked nothing
}

}  // namespace
}  // namespace qtap
