// Tier 2: a real capture (tests/fixtures/recordings/make_http1_recording.sh:
// curl against tests/e2e/peers/http_server.py on loopback) replayed through
// the userspace pipeline, without root.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>

#include "context/process_cache.h"
#include "events/recording.h"
#include "output/jsonl_sink.h"
#include "pipeline/pipeline.h"

using namespace qtap;
using Json = nlohmann::json;

namespace {

std::vector<Json> replay(const std::string& path) {
  auto reader = events::RecordingReader::open(path);
  EXPECT_TRUE(reader) << reader.error().message;
  if (!reader) return {};
  ContextConfig cc;
  cc.proc_root.clear();
  ProcessCache processes(cc);
  std::ostringstream out;
  JsonlSink sink(out);
  PipelineConfig pc;
  pc.clock_offset_ns = reader->clock_offset_ns();
  Pipeline pipeline(pc, processes, sink);
  std::vector<uint8_t> sample;
  while (true) {
    auto more = reader->next(sample);
    EXPECT_TRUE(more);
    if (!more || !*more) break;
    pipeline.on_sample(sample);
  }
  pipeline.shutdown();
  EXPECT_EQ(pipeline.stats().decode_errors, 0u);
  EXPECT_EQ(pipeline.tracker_stats().gap_bytes, 0u);
  std::vector<Json> recs;
  std::istringstream in(out.str());
  std::string line;
  while (std::getline(in, line)) recs.push_back(Json::parse(line));
  return recs;
}

std::string path_of(const Json& r) { return r["http"]["request"]["path"]; }

}  // namespace

TEST(Recording, CurlAgainstPythonServerReplaysToTheSameTransactions) {
  auto recs = replay(std::string(QTAP_FIXTURES) + "/recordings/http1_loopback.qrec");
  ASSERT_EQ(recs.size(), 8u);
  std::map<std::string, std::map<std::string, Json>> by_dir;  // direction -> path -> record
  for (auto& r : recs) {
    ASSERT_EQ(r["type"], "http");
    by_dir[r["connection"]["direction"]][path_of(r)] = r;
  }
  ASSERT_EQ(by_dir["egress"].size(), 4u);
  ASSERT_EQ(by_dir["ingress"].size(), 4u);

  for (auto& [path, r] : by_dir["egress"]) {
    EXPECT_EQ(r["process"]["comm"], "curl") << path;
    EXPECT_EQ(r["process"]["exe"], "/usr/bin/curl");
    EXPECT_EQ(r["http"]["response"]["status"], 200);
    const Json& mirror = by_dir["ingress"].at(path);
    EXPECT_EQ(mirror["process"]["comm"], "python3");
    EXPECT_NE(mirror["process"]["cmdline"].get<std::string>().find("http_server.py"), std::string::npos);
    // One TCP connection seen from both ends.
    for (const char* k : {"ip", "port"}) {
      EXPECT_EQ(r["connection"]["local"][k], mirror["connection"]["remote"][k]);
      EXPECT_EQ(r["connection"]["remote"][k], mirror["connection"]["local"][k]);
    }
    EXPECT_EQ(r["http"]["response"]["body"], mirror["http"]["response"]["body"]);
  }

  // The first curl fetched three URLs over one keep-alive connection.
  std::set<uint64_t> ids;
  for (auto p : {"/hello?n=1", "/chunked?n=2", "/gzip?n=3"}) {
    ids.insert(by_dir["egress"].at(p)["connection"]["id"].get<uint64_t>());
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(by_dir["egress"].at("/hello?n=1")["http"]["request"]["headers"][3]["value"], "one");

  auto& chunked = by_dir["egress"].at("/chunked?n=2")["http"]["response"]["body"];
  std::string third;
  for (int i = 0; i < 50; i++) third += "third";
  EXPECT_EQ(chunked["data"], "first chunk;second, a bit longer chunk;" + third);

  auto& gz = by_dir["egress"].at("/gzip?n=3")["http"]["response"]["body"];
  EXPECT_EQ(gz["content_encoding"], "gzip");
  EXPECT_EQ(gz["content_decoded"], true);
  std::string text = "qtap compressed body: ";
  for (int i = 0; i < 40; i++) text += "the quick brown fox jumps over the lazy dog. ";
  EXPECT_EQ(gz["data"], text);

  std::string posted;
  for (int i = 0; i < 200; i++) posted += "recorded request body ";
  auto& post = by_dir["egress"].at("/echo?n=4")["http"];
  EXPECT_EQ(post["request"]["method"], "POST");
  EXPECT_EQ(post["request"]["body"]["data"], posted);
  EXPECT_EQ(post["response"]["body"]["data"], posted);
}
