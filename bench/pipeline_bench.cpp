// Pipeline benchmark: synthetic kernel events for keep-alive HTTP/1 traffic
// through the whole userspace (decode, track, parse, stitch, context, JSON to
// /dev/null), on one thread = one core. Reports events/s, transactions/s and
// resident memory along the run (to show it stays flat).
//
//   build/bench/pipeline_bench [--transactions N] [--body BYTES] [--conns C] [--per-conn K]
//                              [--binary]   (random body bytes: reported base64)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "context/process_cache.h"
#include "events/synth.h"
#include "output/jsonl_sink.h"
#include "pipeline/pipeline.h"

using namespace qtap;
namespace synth = qtap::events::synth;

namespace {

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// A data sample whose header fields are patched per use, so millions of
// events cost no allocation in the generator.
struct Template {
  synth::Sample bytes;
  void set(uint64_t conn_id, uint64_t offset, uint64_t ts) {
    auto* e = reinterpret_cast<qtap_data_event*>(bytes.data());
    e->conn_id = conn_id;
    e->offset = offset;
    e->hdr.ts_ns = ts;
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t transactions = 2'000'000;
  size_t body = 1024;
  uint32_t conns = 64;
  uint32_t per_conn = 100;
  bool binary = false;  // random bytes (reported base64) instead of text
  for (int i = 1; i < argc; i++) {
    if (std::string(argv[i]) == "--binary") binary = true;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    uint64_t v = std::stoull(argv[i + 1]);
    if (k == "--transactions") transactions = v;
    else if (k == "--body") body = v;
    else if (k == "--conns") conns = static_cast<uint32_t>(v);
    else if (k == "--per-conn") per_conn = static_cast<uint32_t>(v);
  }

  std::string req =
      "GET /api/v1/items/12345?include=details HTTP/1.1\r\nHost: api.internal:8080\r\n"
      "User-Agent: bench/1.0\r\nAccept: application/json\r\nX-Request-Id: 0123456789abcdef\r\n\r\n";
  std::string resp_body(body, 'a');
  uint32_t seed = 12345;
  for (size_t i = 0; i < body; i++) {
    seed = seed * 1103515245 + 12345;
    resp_body[i] = binary ? char(seed >> 16) : char('a' + i % 26);
  }
  std::string resp = fmt::format(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Date: Sun, 29 Nov 2026 05:55:03 GMT\r\nServer: bench\r\n\r\n{}",
      body, resp_body);

  const uint32_t pid = 4000;
  synth::Who who{pid, pid, 1'000'000};
  Template treq{synth::data(who, 0, 5, QTAP_DIR_SEND, 0, req)};
  Template tresp{synth::data(who, 0, 5, QTAP_DIR_RECV, 0, resp)};
  if (resp.size() > QTAP_CHUNK_SIZE) {
    fprintf(stderr, "body too large for one chunk in this benchmark\n");
    return 2;
  }

  ContextConfig cc;
  cc.proc_root.clear();  // context from the kernel's events only
  ProcessCache processes(cc);
  std::ofstream devnull("/dev/null", std::ios::binary);
  JsonlSink sink(devnull);
  PipelineConfig pc;
  Pipeline pipeline(pc, processes, sink);

  struct Conn {
    uint64_t id = 0;
    uint64_t sent = 0, recv = 0;
    uint32_t done = 0;
  };
  std::vector<Conn> open(conns);
  uint64_t next_id = 1;
  uint64_t ts = 1'000'000;
  auto open_conn = [&](Conn& c) {
    c = Conn{next_id++, 0, 0, 0};
    pipeline.on_sample(synth::conn_open(synth::Who{pid, pid, ts}, c.id, 5, QTAP_SRC_CONNECT,
                                        synth::addr("10.0.0.1", 40000), synth::addr("10.0.0.2", 8080),
                                        "bench"));
  };
  for (auto& c : open) open_conn(c);

  fprintf(stderr, "pipeline_bench: %lu transactions, %zu-byte %s response bodies, %u connections x %u requests\n",
          (unsigned long)transactions, body, binary ? "binary" : "text", conns, per_conn);
  long rss_start = rss_kib();
  std::vector<std::pair<uint64_t, long>> rss_marks;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t events = 0, bytes = 0;
  for (uint64_t i = 0; i < transactions; i++) {
    Conn& c = open[i % conns];
    ts += 1000;
    treq.set(c.id, c.sent, ts);
    pipeline.on_sample(treq.bytes);
    c.sent += req.size();
    ts += 1000;
    tresp.set(c.id, c.recv, ts);
    pipeline.on_sample(tresp.bytes);
    c.recv += resp.size();
    events += 2;
    bytes += req.size() + resp.size();
    if (++c.done == per_conn) {
      pipeline.on_sample(synth::conn_close(synth::Who{pid, pid, ts}, c.id, 5, c.sent, c.recv));
      open_conn(c);
      events += 2;
    }
    if ((i + 1) % (transactions / 10 ? transactions / 10 : 1) == 0) rss_marks.emplace_back(i + 1, rss_kib());
  }
  pipeline.shutdown();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const auto& st = pipeline.stats();
  if (st.http_records != transactions) {
    fprintf(stderr, "pipeline_bench: expected %lu http records, got %lu\n", (unsigned long)transactions,
            (unsigned long)st.http_records);
    return 1;
  }
  printf("transactions      %lu\n", (unsigned long)transactions);
  printf("seconds           %.3f\n", secs);
  printf("transactions/s    %.0f\n", transactions / secs);
  printf("events/s          %.0f\n", events / secs);
  printf("MB/s (payload)    %.1f\n", bytes / secs / 1e6);
  printf("rss_kib start     %ld\n", rss_start);
  for (auto& [n, kib] : rss_marks) printf("rss_kib @%-9lu %ld\n", (unsigned long)n, kib);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  printf("max_rss_kib       %ld\n", ru.ru_maxrss);
  return 0;
}
