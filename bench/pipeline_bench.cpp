// Pipeline benchmark: synthetic kernel events through the whole userspace
// (decode, track, parse, stitch, context, JSON Lines to /dev/null), on one
// thread = one core. Reports transactions (HTTP/1 exchanges, HTTP/2 streams,
// gRPC calls) per second, events per second, and resident memory along the
// run (to show it stays flat).
//
//   build/bench/pipeline_bench [--protocol http1|http2|grpc] [--transactions N]
//       [--body BYTES] [--binary] [--conns C] [--per-conn K] [--concurrent S] [--out PATH]
//       [--policy off|audit|redact]   (the policy stage: none, default audit+redaction, redaction only)
//
// Each connection plays a script made once: HTTP/1 keep-alive requests; HTTP/2
// rounds of S concurrent streams (HEADERS of all S, then their responses
// interleaved frame by frame, HPACK with a real dynamic table); unary gRPC
// calls (S concurrent). The same script is replayed for every connection
// with its own id, offsets and timestamps, so generating traffic costs
// nothing while measuring.
#include <nghttp2/nghttp2.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <unistd.h>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "context/process_cache.h"
#include "events/synth.h"
#include "output/jsonl_sink.h"
#include "pipeline/pipeline.h"
#include "policy/policy.h"

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

struct Options {
  std::string protocol = "http1";
  uint64_t transactions = 2'000'000;
  size_t body = 1024;
  bool binary = false;
  uint32_t conns = 64;
  uint32_t per_conn = 100;  // transactions per connection before it closes
  uint32_t concurrent = 8;  // HTTP/2 streams in flight per connection
  std::string out = "/dev/null";  // where the JSON goes (to look at it)
  // off: no policy stage; audit: the default policy (audit + redaction);
  // redact: redaction only (audit disabled).
  std::string policy = "off";
};

// What one connection says in its life: chunks in order, each one call.
struct Script {
  struct Chunk {
    uint8_t dir;
    std::string bytes;
  };
  std::vector<Chunk> chunks;
  uint64_t transactions = 0;
};

// Text bodies look like an API's JSON (words, numbers, ids, timestamps), so
// the audit's detectors see realistic candidates; binary ones are random.
std::string body_bytes(const Options& o) {
  uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245 + 12345;
    return seed >> 8;
  };
  if (o.binary) {
    std::string b(o.body, '\0');
    for (auto& c : b) c = char(next());
    return b;
  }
  static const char* kWords[] = {"alpha", "order", "shipped", "customer", "region", "west", "item",
                                 "priority", "normal", "status", "active", "warehouse", "note"};
  std::string b = "{\"items\":[";
  while (b.size() < o.body) {
    b += fmt::format("{{\"id\":{},\"sku\":\"SKU-{:06d}\",\"name\":\"{} {}\",\"qty\":{},"
                     "\"price\":{}.{:02d},\"updated\":\"2026-11-{:02d}T10:{:02d}:00Z\"}},",
                     next() % 1000000, next() % 1000000, kWords[next() % 13], kWords[next() % 13],
                     next() % 50, next() % 500, next() % 100, 1 + next() % 28, next() % 60);
  }
  b.resize(o.body);
  return b;
}

Script http1_script(const Options& o) {
  std::string req =
      "GET /api/v1/items/12345?include=details HTTP/1.1\r\nHost: api.internal:8080\r\n"
      "User-Agent: bench/1.0\r\nAccept: application/json\r\nX-Request-Id: 0123456789abcdef\r\n"
      "Authorization: Bearer 3f9a1c0e7b5d42a8\r\n\r\n";
  std::string resp = fmt::format(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Date: Sun, 29 Nov 2026 05:55:03 GMT\r\nServer: bench\r\n\r\n{}",
      o.body, body_bytes(o));
  Script s;
  for (uint32_t i = 0; i < o.per_conn; i++) {
    s.chunks.push_back({QTAP_DIR_SEND, req});
    s.chunks.push_back({QTAP_DIR_RECV, resp});
  }
  s.transactions = o.per_conn;
  return s;
}

// HTTP/2 framing with a real HPACK encoder per direction.
class H2Writer {
 public:
  H2Writer() { nghttp2_hd_deflate_new(&deflater_, 4096); }
  ~H2Writer() { nghttp2_hd_deflate_del(deflater_); }
  void frame(std::string& out, uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
    uint32_t len = static_cast<uint32_t>(payload.size());
    char h[9] = {char(len >> 16), char(len >> 8), char(len), char(type), char(flags),
                 char((stream >> 24) & 0x7f), char(stream >> 16), char(stream >> 8), char(stream)};
    out.append(h, 9);
    out.append(payload);
  }
  void headers(std::string& out, uint32_t stream, const std::vector<std::pair<std::string, std::string>>& hs,
               bool end_stream) {
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : hs) {
      nva.push_back({(uint8_t*)n.data(), (uint8_t*)v.data(), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    std::string block(nghttp2_hd_deflate_bound(deflater_, nva.data(), nva.size()), '\0');
    auto n = nghttp2_hd_deflate_hd(deflater_, (uint8_t*)block.data(), block.size(), nva.data(), nva.size());
    block.resize(static_cast<size_t>(n));
    frame(out, 0x1, 0x4 | (end_stream ? 0x1 : 0), stream, block);
  }

 private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

std::string grpc_message(std::string_view name) {
  // HelloRequest{1: name, 2: 7}
  std::string pb;
  pb += char(0x0a);
  pb += char(name.size());
  pb += name;
  pb += "\x10\x07";
  std::string m(5, '\0');
  m[4] = char(pb.size());
  return m + pb;
}

Script http2_script(const Options& o, bool grpc) {
  H2Writer client, server;
  Script s;
  std::string body = grpc ? grpc_message("a reply message") : body_bytes(o);
  std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  client.frame(preface, 0x4, 0, 0, "");
  s.chunks.push_back({QTAP_DIR_SEND, preface});
  std::string settings;
  server.frame(settings, 0x4, 0, 0, "");
  server.frame(settings, 0x4, 0x1, 0, "");
  s.chunks.push_back({QTAP_DIR_RECV, settings});
  uint32_t stream = 1;
  for (uint32_t done = 0; done < o.per_conn; done += o.concurrent) {
    std::string req, resp;
    std::vector<uint32_t> ids;
    for (uint32_t k = 0; k < o.concurrent; k++, stream += 2) {
      ids.push_back(stream);
      if (grpc) {
        client.headers(req, stream,
                       {{":method", "POST"}, {":scheme", "http"}, {":path", "/demo.Greeter/SayHello"},
                        {":authority", "grpc.internal:50051"}, {"content-type", "application/grpc"},
                        {"te", "trailers"}, {"grpc-timeout", "20S"}},
                       false);
        client.frame(req, 0x0, 0x1, stream, grpc_message("bench-" + std::to_string(stream)));
      } else {
        client.headers(req, stream,
                       {{":method", "GET"}, {":scheme", "https"},
                        {":path", "/api/v1/items/" + std::to_string(stream)},
                        {":authority", "api.internal"}, {"user-agent", "bench/1.0"},
                        {"accept", "application/json"}},
                       true);
      }
    }
    for (uint32_t id : ids) {
      server.headers(resp, id,
                     {{":status", "200"},
                      {"content-type", grpc ? "application/grpc" : "application/json"},
                      {"content-length", std::to_string(body.size())}},
                     false);
    }
    // Interleave the DATA of all streams, 512 bytes at a time.
    for (size_t pos = 0; pos < body.size(); pos += 512) {
      for (uint32_t id : ids) {
        bool last = pos + 512 >= body.size();
        server.frame(resp, 0x0, last && !grpc ? 0x1 : 0, id, std::string_view(body).substr(pos, 512));
      }
    }
    if (grpc) {
      for (uint32_t id : ids) server.headers(resp, id, {{"grpc-status", "0"}, {"grpc-message", ""}}, true);
    }
    s.chunks.push_back({QTAP_DIR_SEND, req});
    s.chunks.push_back({QTAP_DIR_RECV, resp});
    s.transactions += o.concurrent;
  }
  return s;
}

// A script's chunks as kernel samples, patched per connection at replay.
struct Replay {
  struct Sample {
    uint8_t dir;
    synth::Sample bytes;
  };
  std::vector<Sample> samples;
  uint64_t bytes_per_conn = 0;

  explicit Replay(const Script& s) {
    uint64_t off[2] = {0, 0};
    for (const auto& c : s.chunks) {
      for (auto& smp : synth::call(synth::Who{}, 0, 5, c.dir, off[c.dir], c.bytes)) {
        samples.push_back({c.dir, std::move(smp)});
      }
      off[c.dir] += c.bytes.size();
      bytes_per_conn += c.bytes.size();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string k = argv[i];
    if (k == "--binary") {
      o.binary = true;
      continue;
    }
    if (i + 1 >= argc) break;
    std::string v = argv[++i];
    if (k == "--protocol") o.protocol = v;
    else if (k == "--transactions") o.transactions = std::stoull(v);
    else if (k == "--body") o.body = std::stoull(v);
    else if (k == "--conns") o.conns = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--per-conn") o.per_conn = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--concurrent") o.concurrent = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--out") o.out = v;
    else if (k == "--policy") o.policy = v;
  }
  if (o.policy != "off" && o.policy != "audit" && o.policy != "redact") {
    fprintf(stderr, "--policy off|audit|redact\n");
    return 2;
  }
  if (o.protocol != "http1" && o.protocol != "http2" && o.protocol != "grpc") {
    fprintf(stderr, "--protocol http1|http2|grpc\n");
    return 2;
  }
  Script script = o.protocol == "http1" ? http1_script(o) : http2_script(o, o.protocol == "grpc");
  Replay replay(script);

  // The traffic is attributed to this very process, so the process context
  // comes from /proc and the cache as for a live traced program.
  ContextConfig cc;
  ProcessCache processes(cc);
  std::ofstream out(o.out, std::ios::binary);
  JsonlSink sink(out);
  Pipeline pipeline(PipelineConfig{}, processes, sink);
  if (o.policy != "off") {
    config::Config cfg;
    cfg.audit.enabled = o.policy == "audit";
    auto p = Policy::make(cfg, false);
    if (!p) {
      fprintf(stderr, "%s\n", p.error().message.c_str());
      return 1;
    }
    pipeline.set_policy(std::move(*p));
  }

  const auto pid = static_cast<uint32_t>(getpid());
  struct Conn {
    uint64_t id = 0;
    size_t next = 0;  // next sample of the script
  };
  std::vector<Conn> conns(o.conns);
  uint64_t next_id = 1, ts = 1'000'000, events = 0, bytes = 0, conns_done = 0;
  auto open_conn = [&](Conn& c) {
    c = Conn{next_id++, 0};
    pipeline.on_sample(synth::conn_open(synth::Who{pid, pid, ts}, c.id, 5, QTAP_SRC_CONNECT,
                                        synth::addr("10.0.0.1", 40000), synth::addr("10.0.0.2", 8080),
                                        "bench"));
  };
  for (auto& c : conns) open_conn(c);

  fprintf(stderr, "pipeline_bench: %s, policy %s, %lu transactions, %zu-byte %s bodies, %u connections x %lu transactions%s\n",
          o.protocol.c_str(), o.policy.c_str(), (unsigned long)o.transactions, o.body, o.binary ? "binary" : "text", o.conns,
          (unsigned long)script.transactions,
          o.protocol == "http1" ? "" : fmt::format(", {} concurrent streams", o.concurrent).c_str());
  long rss_start = rss_kib();
  std::vector<std::pair<uint64_t, long>> rss_marks;
  uint64_t mark_every = std::max<uint64_t>(o.transactions / 10, 1), next_mark = mark_every;
  auto t0 = std::chrono::steady_clock::now();
  const auto& st = pipeline.stats();
  size_t turn = 0;
  while (st.http_records < o.transactions) {
    Conn& c = conns[turn++ % conns.size()];
    auto& smp = replay.samples[c.next++];
    auto* e = reinterpret_cast<qtap_data_event*>(smp.bytes.data());
    e->conn_id = c.id;
    e->hdr.ts_ns = ts += 1000;
    e->hdr.pid = e->hdr.tid = pid;
    pipeline.on_sample(smp.bytes);
    events++;
    if (c.next == replay.samples.size()) {
      bytes += replay.bytes_per_conn;
      conns_done++;
      pipeline.on_sample(synth::conn_close(synth::Who{pid, pid, ts}, c.id, 5, 0, 0));
      open_conn(c);
      events += 2;
    }
    if (st.http_records >= next_mark) {
      rss_marks.emplace_back(st.http_records, rss_kib());
      next_mark += mark_every;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  pipeline.shutdown();

  uint64_t tx = st.http_records;
  printf("protocol          %s\n", o.protocol.c_str());
  printf("transactions      %lu\n", (unsigned long)tx);
  printf("seconds           %.3f\n", secs);
  printf("transactions/s    %.0f\n", tx / secs);
  printf("us/transaction    %.3f\n", secs * 1e6 / tx);
  printf("findings          %lu\n", (unsigned long)pipeline.policy_stats().findings);
  printf("events/s          %.0f\n", events / secs);
  printf("MB/s (payload)    %.1f\n", bytes / secs / 1e6);
  printf("rss_kib start     %ld\n", rss_start);
  for (auto& [n, kib] : rss_marks) printf("rss_kib @%-9lu %ld\n", (unsigned long)n, kib);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  printf("max_rss_kib       %ld\n", ru.ru_maxrss);
  return 0;
}
