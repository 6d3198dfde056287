// Tier 2: a real capture (tests/fixtures/recordings/make_http1_recording.sh:
// curl against tests/e2e/peers/http_server.py on loopback) replayed through
// the userspace pipeline, without root.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include <filesystem>

#include "app/recording_context.h"
#include "context/process_cache.h"
#include "events/recording.h"
#include "events/synth.h"
#include "output/jsonl_sink.h"
#include "pipeline/pipeline.h"

using namespace qtap;
using Json = nlohmann::json;
namespace synth = qtap::events::synth;

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
  auto replayed = app::replay_recording(*reader, pipeline, processes);  // what `qtap replay` runs
  EXPECT_TRUE(replayed) << replayed.error().message;
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

TEST(Recording, ReplayNamesTheRecordedHostAndProcessesAsProcShowedThem) {
  // Recorded like `qtap --record`: this very process, running before the
  // recording started, talks HTTP; its /proc answer goes into the file.
  const auto path = (std::filesystem::temp_directory_path() / "qtap_context_test.qrec").string();
  const auto pid = static_cast<uint32_t>(getpid());
  ProcessCache live(ContextConfig{});
  const ProcessInfo expected = live.get(pid, ProcessHint{});
  ASSERT_FALSE(expected.exe.empty());
  {
    auto w = events::RecordingWriter::create(path, 0);
    ASSERT_TRUE(w) << w.error().message;
    app::ContextRecorder rec(*w, live);
    ASSERT_TRUE(rec.start());
    // A later host entry wins: what a recording made on another machine says.
    ASSERT_TRUE(w->write_context(events::EntryKind::kHost, "recorded-elsewhere"));
    synth::Who me{pid, pid, 1'000'000'000};
    std::vector<synth::Sample> samples = {
        synth::conn_open(me, 9, 5, QTAP_SRC_CONNECT, synth::addr("10.0.0.1", 40000),
                         synth::addr("10.0.0.2", 80), "pipeline_tests"),
        synth::data(me, 9, 5, QTAP_DIR_SEND, 0, "GET /ctx HTTP/1.1\r\nHost: b\r\n\r\n"),
        synth::data(me, 9, 5, QTAP_DIR_RECV, 0, "HTTP/1.1 204 No Content\r\n\r\n"),
    };
    for (const auto& s : samples) {
      ASSERT_TRUE(rec.before(s));
      ASSERT_TRUE(w->write(s));
    }
    ASSERT_TRUE(w->flush());
  }
  auto recs = replay(path);
  ASSERT_EQ(recs.size(), 1u);
  const Json& p = recs[0]["process"];
  EXPECT_EQ(p["pid"], pid);
  EXPECT_EQ(p["exe"], expected.exe);          // from the snapshot: replay reads no /proc
  EXPECT_EQ(p["cmdline"], expected.cmdline);
  EXPECT_EQ(p["cgroup"], expected.cgroup);
  EXPECT_EQ(p["netns"], expected.netns);
  EXPECT_EQ(recs[0]["host"]["hostname"], "recorded-elsewhere");
  EXPECT_EQ(recs[0]["http"]["response"]["status"], 204);

  // Without the snapshots (an older qtap's reader skips them) the same
  // events know only what the kernel said.
  auto reader = events::RecordingReader::open(path);
  ASSERT_TRUE(reader);
  std::vector<uint8_t> sample;
  size_t samples = 0;
  while (*reader->next(sample)) samples++;
  EXPECT_EQ(samples, 3u);
  std::remove(path.c_str());
}

TEST(Recording, ProcessSnapshotRoundTrip) {
  ProcessInfo p;
  p.pid = 41;
  p.comm = "web";
  p.exe = "/srv/web";
  p.cmdline = "/srv/web --port 80 \xff";  // not UTF-8: replaced, never refused
  p.uid = 33;
  p.user = "www-data";
  p.cgroup = "/system.slice/docker-0123.scope";
  p.netns = 4026531999;
  ContainerInfo c;
  c.runtime = "docker";
  c.id = std::string(64, 'a');
  c.name = "web-1";
  c.image = "nginx:1.25";
  c.labels = {{"app", "web"}, {"tier", "front"}};
  p.container = c;
  auto back = app::process_from_json(app::process_to_json(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->cmdline, "/srv/web --port 80 \xef\xbf\xbd");
  back->cmdline = p.cmdline;
  EXPECT_EQ(*back, p);
  EXPECT_FALSE(app::process_from_json("{\"pid\": 1}"));
}
