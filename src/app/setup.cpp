#include "app/setup.h"

#include <time.h>

#include <algorithm>

#include <fmt/format.h>

#include "qtap_abi.h"

namespace qtap::app {

PipelineConfig pipeline_config(const Options& o, int64_t clock_offset_ns) {
  PipelineConfig pc;
  pc.tracker.http1.max_body = o.max_body;
  pc.tracker.http2.max_body = o.max_body;
  pc.clock_offset_ns = clock_offset_ns;
  return pc;
}

int64_t boottime_to_realtime_offset() {
  timespec rt{}, bt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  return (int64_t(rt.tv_sec) - bt.tv_sec) * 1000000000LL + (int64_t(rt.tv_nsec) - bt.tv_nsec);
}

uint32_t kernel_copy_limit(uint64_t max_body) {
  constexpr uint64_t kHeadroom = 64 * 1024;
  constexpr uint64_t kMax = 16ull << 20;  // what one call's chunk loop can send
  uint64_t want = max_body + kHeadroom;
  want = (want + QTAP_CHUNK_SIZE - 1) / QTAP_CHUNK_SIZE * QTAP_CHUNK_SIZE;
  return static_cast<uint32_t>(std::min(want, kMax));
}

namespace {
std::string bytes_text(uint64_t b) {
  if (b < 1024) return fmt::format("{} B", b);
  if (b < 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{:.1f} MiB", b / (1024.0 * 1024.0));
}
}  // namespace

void print_stats(const Pipeline& p, const std::optional<probes::Counters>& k) {
  const auto& s = p.stats();
  const auto& t = p.tracker_stats();
  std::string out = fmt::format(
      "qtap stats: {} events ({} data events, {} payload), {} http transactions, {} connection "
      "records, {} connections tracked\n",
      s.samples, s.data_events, bytes_text(s.data_bytes), s.http_records, s.connection_records,
      t.opened);
  if (k) {
    const auto& c = *k;
    out += fmt::format(
        "qtap drops: ring buffer full {} events ({}), over copy limit {}, iovec limit {}, "
        "unreadable buffers {}, not copied (sendfile/splice/mmsg) {} calls ({})\n"
        "qtap kernel filters: {} connections ({}) dropped before copying; TLS: {} calls, {} without "
        "a known socket, {} ciphertext not copied\n",
        c[QTAP_CTR_RINGBUF_DROPS], bytes_text(c[QTAP_CTR_RINGBUF_DROP_BYTES]),
        bytes_text(c[QTAP_CTR_TRUNCATED_BYTES]), bytes_text(c[QTAP_CTR_IOV_TRUNCATED_BYTES]),
        c[QTAP_CTR_COPY_FAILURES], c[QTAP_CTR_UNCOPIED_CALLS], bytes_text(c[QTAP_CTR_UNCOPIED_BYTES]),
        c[QTAP_CTR_FILTERED_CONNS], bytes_text(c[QTAP_CTR_FILTERED_BYTES]), c[QTAP_CTR_TLS_CALLS],
        c[QTAP_CTR_TLS_NO_SOCKET], bytes_text(c[QTAP_CTR_CIPHERTEXT_SKIPPED_BYTES]));
  }
  const auto& ps = p.policy_stats();
  out += fmt::format("qtap policy: {} records not reported (capture: none), {} findings, {} alerts\n",
                     ps.dropped_records, ps.findings, ps.alerts);
  out += fmt::format(
      "qtap streams: {} missing from streams, {} connections seen without their open event, {} "
      "evicted, {} undecodable events\n",
      bytes_text(t.gap_bytes), t.data_without_open, t.evicted, s.decode_errors);
  fputs(out.c_str(), stderr);
}

}  // namespace qtap::app
