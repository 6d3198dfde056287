// The userspace pipeline after the ring buffer: decode -> track connections
// and processes -> parse -> attach context -> sink. Single-threaded and
// clock-free: every time comes from the events themselves. The same object
// serves live capture, replay of recordings, tests and benchmarks.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "context/process_cache.h"
#include "events/events.h"
#include "output/sink.h"
#include "policy/policy.h"
#include "tracker/conn_tracker.h"

namespace qtap {

struct PipelineConfig {
  TrackerConfig tracker;
  // Boot-time clock to wall clock: CLOCK_REALTIME - CLOCK_BOOTTIME at start.
  int64_t clock_offset_ns = 0;
  // Report connections that carried no recognised protocol when they close.
  bool report_unknown_connections = true;
};

struct PipelineStats {
  uint64_t samples = 0;
  uint64_t decode_errors = 0;
  uint64_t data_events = 0;
  uint64_t data_bytes = 0;
  uint64_t http_records = 0;
  uint64_t connection_records = 0;
  uint64_t processes_exited = 0;
};

// Told about processes and executable mappings as they come by, so TLS
// libraries can be found and probed (src/probes/tls_attacher.h).
class ProcessObserver {
 public:
  virtual ~ProcessObserver() = default;
  virtual void on_exec(uint32_t pid, std::string_view filename) = 0;
  virtual void on_exec_mapping(uint32_t pid, uint32_t dev, uint64_t ino, std::string_view name) = 0;
};

class Pipeline final : private ConnTracker::Listener {
 public:
  // Called with (pid, fd) of sockets whose process is gone, so the kernel can
  // drop its entries too.
  using ForgetFn = std::function<void(uint32_t pid, int32_t fd)>;

  Pipeline(PipelineConfig cfg, ProcessCache& processes, Sink& sink);

  void set_forget(ForgetFn fn) { forget_ = std::move(fn); }
  void set_observer(ProcessObserver* o) { observer_ = o; }
  // The host the records name (a replay: the recording's); default: this one.
  void set_hostname(std::string name) { hostname_ = std::move(name); }
  // The config's filters, audit and redaction (src/policy/); null: report
  // everything as captured. Replaced on reload; open connections carry on.
  void set_policy(std::unique_ptr<Policy> p) { policy_ = std::move(p); }
  const Policy* policy() const { return policy_.get(); }

  // One raw ring buffer sample.
  void on_sample(std::span<const uint8_t> sample);
  void on_event(const events::Event& ev);
  // Ends every connection (emitting what is pending) and flushes the sink.
  void shutdown();

  const PipelineStats& stats() const { return stats_; }
  const PolicyStats& policy_stats() const { return policy_stats_; }
  const TrackerStats& tracker_stats() const { return tracker_.stats(); }
  size_t open_connections() const { return tracker_.size(); }

 private:
  void on_exchange(const Connection& conn, HttpExchange&& ex) override;
  void on_closed(const Connection& conn) override;
  void end_process(uint32_t pid, uint64_t ts_ns);
  ProcessContext process_of(const Connection& conn, uint32_t tid);
  ConnectionContext connection_of(const Connection& conn) const;
  int64_t wall(uint64_t boot_ns) const { return static_cast<int64_t>(boot_ns) + cfg_.clock_offset_ns; }

  PipelineConfig cfg_;
  ProcessCache& processes_;
  Sink& sink_;
  ConnTracker tracker_;
  ForgetFn forget_;
  ProcessObserver* observer_ = nullptr;
  std::unique_ptr<Policy> policy_;
  PipelineStats stats_;
  PolicyStats policy_stats_;
  uint64_t last_ts_ = 0;
  std::string hostname_ = host_name();
};

// "openssl", ... for a qtap_tls_library value; nullptr for none.
const char* tls_library_name(uint8_t lib);


}  // namespace qtap
