// Tier 2: kernel events (synthetic, byte-identical to the BPF ABI) through the
// whole userspace pipeline, asserting on the JSON a user would read.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "context/process_cache.h"
#include "events/synth.h"
#include "output/jsonl_sink.h"
#include "pipeline/pipeline.h"

using namespace qtap;
namespace synth = qtap::events::synth;
using Json = nlohmann::json;

namespace {

struct Harness {
  std::ostringstream out;
  ProcessCache processes{[] {
    ContextConfig c;
    c.proc_root.clear();  // context only from kernel events
    return c;
  }()};
  JsonlSink sink{out};
  Pipeline pipeline{[] {
    PipelineConfig c;
    c.clock_offset_ns = 1'700'000'000'000'000'000LL;
    return c;
  }(), processes, sink};

  void feed(const synth::Sample& s) { pipeline.on_sample(s); }
  void feed(const std::vector<synth::Sample>& v) {
    for (auto& s : v) feed(s);
  }
  std::vector<Json> records() {
    sink.flush();
    std::vector<Json> r;
    std::istringstream in(out.str());
    std::string line;
    while (std::getline(in, line)) r.push_back(Json::parse(line));
    return r;
  }
};

const synth::Who kCurl{777, 778, 5'000'000'000};

}  // namespace

TEST(Pipeline, ExecThenHttpExchangeCarriesFullContext) {
  Harness h;
  std::string args("curl\0-s\0http://10.0.0.2:8080/x", 30);
  h.feed(synth::proc_exec(kCurl, "/usr/bin/curl", args, "curl", 0, 1));
  h.feed(synth::conn_open(kCurl, 42, 5, QTAP_SRC_CONNECT, synth::addr("10.0.0.1", 40000),
                          synth::addr("10.0.0.2", 8080), "curl"));
  std::string req = "GET /x?y=1 HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nX-Id: abc\r\n\r\n";
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  h.feed(synth::data(kCurl, 42, 5, QTAP_DIR_SEND, 0, req));
  synth::Who later = kCurl;
  later.ts_ns += 2'500'000;  // 2.5 ms later
  h.feed(synth::data(later, 42, 5, QTAP_DIR_RECV, 0, resp));

  auto recs = h.records();
  ASSERT_EQ(recs.size(), 1u);
  auto& r = recs[0];
  EXPECT_EQ(r["type"], "http");
  EXPECT_EQ(r["process"]["pid"], 777);
  EXPECT_EQ(r["process"]["tid"], 778);
  EXPECT_EQ(r["process"]["exe"], "/usr/bin/curl");
  EXPECT_EQ(r["process"]["cmdline"], "curl -s http://10.0.0.2:8080/x");
  EXPECT_EQ(r["process"]["comm"], "curl");
  EXPECT_EQ(r["process"]["uid"], 0);
  EXPECT_TRUE(r["process"]["container"].is_null());
  EXPECT_EQ(r["process"]["netns"], 0);  // replayed: no /proc to read it from
  EXPECT_EQ(r["connection"]["id"], 42);
  EXPECT_EQ(r["connection"]["direction"], "egress");
  EXPECT_EQ(r["connection"]["local"]["ip"], "10.0.0.1");
  EXPECT_EQ(r["connection"]["local"]["port"], 40000);
  EXPECT_EQ(r["connection"]["remote"]["ip"], "10.0.0.2");
  EXPECT_EQ(r["connection"]["remote"]["port"], 8080);
  EXPECT_EQ(r["connection"]["tls"], false);
  EXPECT_TRUE(r["connection"]["tls_library"].is_null());
  EXPECT_EQ(r["http"]["request"]["method"], "GET");
  EXPECT_EQ(r["http"]["request"]["path"], "/x?y=1");
  EXPECT_EQ(r["http"]["request"]["url"], "http://10.0.0.2:8080/x?y=1");
  EXPECT_EQ(r["http"]["response"]["status"], 200);
  EXPECT_EQ(r["http"]["response"]["body"]["data"], "hello");
  EXPECT_DOUBLE_EQ(r["duration_ms"].get<double>(), 2.5);
  // boot-time 5 s + offset, as RFC 3339 UTC.
  EXPECT_EQ(r["time"].get<std::string>().substr(0, 19), "2023-11-14T22:13:25");
}

TEST(Pipeline, LargeBodyOverSeveralChunksIsByteExact) {
  Harness h;
  h.feed(synth::conn_open(kCurl, 1, 5, QTAP_SRC_ACCEPT, synth::addr("127.0.0.1", 8080),
                          synth::addr("127.0.0.1", 50000), "server"));
  std::string body(200 * 1024, 'x');
  for (size_t i = 0; i < body.size(); i++) body[i] = char('A' + (i * 7) % 26);
  std::string req = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  h.feed(synth::call(kCurl, 1, 5, QTAP_DIR_RECV, 0, req));
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_SEND, 0, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["connection"]["direction"], "ingress");
  EXPECT_EQ(recs[0]["http"]["request"]["body"]["size"], body.size());
  EXPECT_EQ(recs[0]["http"]["request"]["body"]["data"], body);
  EXPECT_EQ(recs[0]["http"]["response"]["status"], 201);
}

TEST(Pipeline, LostChunkInBodyIsReportedTruncatedWithFullSize) {
  Harness h;
  h.feed(synth::conn_open(kCurl, 1, 5, QTAP_SRC_CONNECT, synth::addr("127.0.0.1", 1),
                          synth::addr("127.0.0.1", 2), "c"));
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_SEND, 0, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_RECV, 0, head));
  // 100000 body bytes: the kernel copied the first 1000 and the last 1000 only.
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_RECV, head.size(), std::string(1000, 'a')));
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_RECV, head.size() + 99000, std::string(1000, 'b')));
  h.feed(synth::conn_close(kCurl, 1, 5, 27, head.size() + 100000));
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 1u);
  auto& b = recs[0]["http"]["response"]["body"];
  EXPECT_EQ(b["size"], 100000);
  EXPECT_EQ(b["truncated"], true);
}

TEST(Pipeline, SendfileHoleCountsIntoTheBody) {
  Harness h;
  h.feed(synth::conn_open(kCurl, 1, 5, QTAP_SRC_ACCEPT, synth::addr("127.0.0.1", 80),
                          synth::addr("127.0.0.1", 3333), "nginx"));
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_RECV, 0, "GET /f HTTP/1.1\r\nHost: a\r\n\r\n"));
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n";
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_SEND, 0, head));
  h.feed(synth::data_gap(kCurl, 1, 5, QTAP_DIR_SEND, head.size(), 5000));
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_RECV, 28, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n"));
  h.feed(synth::data(kCurl, 1, 5, QTAP_DIR_SEND, head.size() + 5000,
                     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["http"]["response"]["body"]["size"], 5000);
  EXPECT_EQ(recs[0]["http"]["response"]["body"]["truncated"], true);
  EXPECT_EQ(recs[1]["http"]["request"]["path"], "/g");
  EXPECT_EQ(recs[1]["http"]["response"]["status"], 404);
}

TEST(Pipeline, ProcessExitFlushesPendingRequestAndForgetsKernelEntries) {
  Harness h;
  std::vector<std::pair<uint32_t, int32_t>> forgotten;
  h.pipeline.set_forget([&](uint32_t pid, int32_t fd) { forgotten.emplace_back(pid, fd); });
  h.feed(synth::conn_open(kCurl, 9, 7, QTAP_SRC_CONNECT, synth::addr("127.0.0.1", 1),
                          synth::addr("127.0.0.1", 2), "c"));
  h.feed(synth::data(kCurl, 9, 7, QTAP_DIR_SEND, 0, "GET /never HTTP/1.1\r\nHost: a\r\n\r\n"));
  h.feed(synth::proc_exit(kCurl));
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["http"]["request"]["path"], "/never");
  EXPECT_TRUE(recs[0]["http"]["response"].is_null());
  EXPECT_EQ(forgotten, (std::vector<std::pair<uint32_t, int32_t>>{{777, 7}}));
  EXPECT_EQ(h.pipeline.open_connections(), 0u);
}

TEST(Pipeline, UnknownProtocolConnectionRecord) {
  Harness h;
  h.feed(synth::conn_open(kCurl, 3, 5, QTAP_SRC_CONNECT, synth::addr("::1", 4000),
                          synth::addr("::1", 6379), "redis-cli"));
  h.feed(synth::data(kCurl, 3, 5, QTAP_DIR_SEND, 0, "*1\r\n$4\r\nPING\r\n"));
  h.feed(synth::data(kCurl, 3, 5, QTAP_DIR_RECV, 0, "+PONG\r\n"));
  h.feed(synth::conn_close(kCurl, 3, 5, 14, 7));
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["type"], "connection");
  EXPECT_EQ(recs[0]["connection"]["protocol"], "unknown");
  EXPECT_EQ(recs[0]["connection"]["remote"]["ip"], "::1");
  EXPECT_EQ(recs[0]["connection"]["bytes_sent"], 14);
  EXPECT_EQ(recs[0]["connection"]["bytes_received"], 7);
  EXPECT_EQ(recs[0]["process"]["comm"], "redis-cli");
}

TEST(Pipeline, GarbageSamplesAreCountedNotFatal) {
  Harness h;
  std::vector<uint8_t> junk(100, 0xAB);
  h.pipeline.on_sample(junk);
  h.pipeline.on_sample({});
  EXPECT_EQ(h.pipeline.stats().decode_errors, 2u);
  EXPECT_TRUE(h.records().empty());
}
