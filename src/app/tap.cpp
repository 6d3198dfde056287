// Live capture: probes -> ring buffer -> pipeline -> sink, in one thread
// driven by epoll (ring buffer, signals, a 1 s timer for drop warnings).
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "app/commands.h"
#include "app/config_setup.h"
#include "app/output.h"
#include "app/recording_context.h"
#include "app/setup.h"
#include "common/log.h"
#include "context/process_cache.h"
#include "events/events.h"
#include "events/recording.h"
#include "probes/kernel_probes.h"
#include "probes/preflight.h"
#include "probes/tls_attacher.h"

namespace qtap::app {

namespace {

// An owned file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Hands the pipeline's exec and mapping events to the TLS attacher.
class TlsObserver final : public ProcessObserver {
 public:
  explicit TlsObserver(probes::TlsAttacher& a) : a_(a) {}
  void on_exec(uint32_t pid, std::string_view) override { a_.on_exec(pid); }
  void on_exec_mapping(uint32_t pid, uint32_t dev, uint64_t ino, std::string_view name) override {
    a_.on_exec_mapping(pid, dev, ino, name);
  }

 private:
  probes::TlsAttacher& a_;
};

probes::TlsAttacherConfig tls_config(const Options& o) {
  probes::TlsAttacherConfig c;
  auto has = [&](const char* lib) {
    return std::find(o.tls_libraries.begin(), o.tls_libraries.end(), lib) != o.tls_libraries.end();
  };
  c.openssl = has("openssl");
  c.go = has("go");
  c.gnutls = has("gnutls");
  c.nss = has("nss");
  return c;
}

int fail(const std::string& msg) {
  std::cerr << "qtap: " << msg << "\n";
  return 1;
}

// Warns once a second while the kernel keeps losing events.
class DropWatch {
 public:
  void check(const probes::Counters& c) {
    uint64_t lost = c[QTAP_CTR_RINGBUF_DROPS];
    if (lost > reported_) {
      spdlog::warn("kernel ring buffer full: {} events lost in the last second ({} in all); "
                   "consider --ringbuf-mb", lost - reported_, lost);
      reported_ = lost;
    }
  }

 private:
  uint64_t reported_ = 0;
};

// SIGHUP: a new config replaces the old one, or the old one stays (logged).
// Open connections carry on either way.
void reload(const Options& o, Pipeline& pipeline, probes::KernelProbes& probes) {
  auto cfg = reload_config(o);
  if (!cfg) {
    spdlog::error("config reload failed, keeping the previous config:\n{}", cfg.error().message);
    return;
  }
  auto policy = make_policy(*cfg, o);
  if (!policy) {
    spdlog::error("config reload failed, keeping the previous config: {}", policy.error().message);
    return;
  }
  probes::KernelFilter kf = kernel_filter_for(*cfg, o);
  if (auto r = probes.set_filter(kf); !r) {
    spdlog::error("config reload: {}; keeping the previous config", r.error().message);
    (void)probes.set_filter(kernel_filter_for(pipeline.policy()->config(), o));
    return;
  }
  if (resolve_settings(cfg->settings, o.cli) != resolve_settings(pipeline.policy()->config().settings, o.cli)) {
    spdlog::warn("config reload: output, format and the other settings take effect at the next start");
  }
  pipeline.set_policy(std::move(*policy));
  spdlog::info("config {} reloaded; kernel filter: {}", o.config_path, describe(kf));
}

}  // namespace

int run_tap(const Options& o, const config::Config& startup_cfg) {
  // Signals are read from a signalfd, so they must be blocked in every thread:
  // block them before any thread exists (threads inherit the mask). A shell
  // starts background jobs with SIGINT ignored, and an ignored signal never
  // reaches a signalfd: take the default disposition back first.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGPIPE);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, nullptr);

  auto caps = probes::check_capabilities();
  if (std::string blocker = probes::first_blocker(caps); !blocker.empty()) return fail(blocker);

  auto out = open_output(o);
  if (!out) return fail(out.error().message);

  std::optional<events::RecordingWriter> recorder;
  int64_t clock_offset = boottime_to_realtime_offset();
  if (!o.record_path.empty()) {
    auto w = events::RecordingWriter::create(o.record_path, clock_offset);
    if (!w) return fail(w.error().message);
    recorder.emplace(std::move(*w));
  }

  ProcessCache processes(ContextConfig{});
  std::optional<ContextRecorder> recorded_context;
  if (recorder) {
    recorded_context.emplace(*recorder, processes);
    if (auto r = recorded_context->start(); !r) return fail(r.error().message);
  }
  Pipeline pipeline(pipeline_config(o, clock_offset), processes, *out->sink);
  auto policy = make_policy(startup_cfg, o);
  if (!policy) return fail(policy.error().message);
  pipeline.set_policy(std::move(*policy));
  if (o.no_redact) {
    spdlog::warn("*** --no-redact: secrets (Authorization, cookies, tokens, passwords) will be written "
                 "to the output in clear ***");
  }

  probes::ProbeConfig pcfg;
  pcfg.self_pid = static_cast<uint32_t>(getpid());
  pcfg.filter = kernel_filter_for(startup_cfg, o);
  pcfg.max_call_bytes = kernel_copy_limit(o.max_body);
  pcfg.ringbuf_bytes = o.ringbuf_mb << 20;
  pcfg.noop = o.noop_probes;
  bool record_failed = false;
  uint64_t recorded = 0, recorded_bytes = 0;
  auto kp = probes::KernelProbes::start(pcfg, [&](std::span<const uint8_t> s) {
    if (recorder && !record_failed) {
      auto r = recorded_context->before(s);
      if (r) r = recorder->write(s);
      if (!r) {
        spdlog::error("{}; recording stopped", r.error().message);
        record_failed = true;
      } else {
        recorded++;
        recorded_bytes += s.size();
      }
    }
    if (o.discard_events) return;
    // Recording only: processes still go through, so programs started from
    // now on are found and probed; connections and bytes wait for replay.
    if (o.record_only && !events::is_process_event(s)) return;
    pipeline.on_sample(s);
  });
  if (!kp) return fail(kp.error().message);
  auto& probes = **kp;
  pipeline.set_forget([&probes](uint32_t pid, int32_t fd) { probes.forget(pid, fd); });

  // TLS libraries present now are probed before capture is declared live.
  probes::TlsAttacher tls(tls_config(o), &probes);
  tls.discover_all();
  tls.start();
  TlsObserver observer(tls);
  pipeline.set_observer(&observer);
  if (o.noop_probes) spdlog::warn("--noop-probes: probes attached but doing nothing (benchmark floor)");
  if (o.discard_events) spdlog::warn("--discard-events: kernel events read and dropped, nothing reported");
  if (!o.config_path.empty()) spdlog::info("config {}: kernel filter: {}", o.config_path, describe(pcfg.filter));

  Fd sigfd(signalfd(-1, &mask, SFD_CLOEXEC));
  // The kernel wakes us only when a lot is waiting (see bpf/maps.h); this
  // timer drains the rest, so an event waits at most kDrainMs.
  constexpr long kDrainMs = 10;
  Fd timer(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  itimerspec drain{{0, kDrainMs * 1000000}, {0, kDrainMs * 1000000}};
  timerfd_settime(timer.get(), 0, &drain, nullptr);
  unsigned ticks_since_check = 0;
  Fd ep(epoll_create1(EPOLL_CLOEXEC));
  for (int fd : {probes.ring_fd(), sigfd.get(), timer.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return fail(fmt::format("epoll setup failed: {}", strerror(errno)));
    }
  }

  if (!o.ready_file.empty()) {
    std::ofstream ready(o.ready_file);
    ready << getpid() << "\n";
    if (!ready) return fail(fmt::format("cannot create the ready file {}", o.ready_file));
  }
  const std::string what =
      o.pids.empty() ? std::string("every process") : fmt::format("{} process(es)", o.pids.size());
  if (o.record_only) {
    spdlog::info("recording {} to {}, decoding nothing live (`qtap replay {}` decodes it); {} TLS uprobes",
                 what, o.record_path, o.record_path, probes.uprobe_count());
  } else {
    spdlog::info("capturing {}; {} TLS uprobes; output: {} ({})", what, probes.uprobe_count(),
                 o.output == "-" ? std::string("stdout") : o.output,
                 o.format == Format::kJson ? "json" : "console");
  }

  DropWatch drops;
  bool running = true;
  while (running) {
    epoll_event evs[4];
    int n = epoll_wait(ep.get(), evs, 4, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("epoll_wait: {}", strerror(errno));
      break;
    }
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == probes.ring_fd()) {
        if (auto r = probes.consume(); !r) spdlog::error("{}", r.error().message);
      } else if (fd == sigfd.get()) {
        signalfd_siginfo si{};
        if (read(sigfd.get(), &si, sizeof(si)) != sizeof(si) || si.ssi_signo == SIGPIPE) continue;
        if (si.ssi_signo == SIGHUP) {
          reload(o, pipeline, probes);
          continue;
        }
        spdlog::info("signal {}: flushing and stopping", strsignal(si.ssi_signo));
        running = false;
      } else if (fd == timer.get()) {
        uint64_t ticks;
        (void)!read(timer.get(), &ticks, sizeof(ticks));
        if (auto r = probes.consume(); !r) spdlog::error("{}", r.error().message);
        if (++ticks_since_check * kDrainMs >= 1000) {
          ticks_since_check = 0;
          drops.check(probes.counters());
          // A recording on disk is at most a second behind.
          if (recorder && !record_failed) {
            if (auto r = recorder->flush(); !r) {
              spdlog::error("{}; recording stopped", r.error().message);
              record_failed = true;
            }
          }
        }
      }
    }
    out->sink->flush();
    if (o.record_only && record_failed) {
      spdlog::error("recording only, and the recording failed: stopping");
      running = false;
    }
  }

  (void)probes.consume();  // what the kernel submitted before we stopped
  pipeline.shutdown();
  if (recorder) {
    (void)recorder->flush();
    spdlog::info("recorded {} kernel events ({:.1f} MiB) to {}", recorded, recorded_bytes / 1048576.0,
                 o.record_path);
  }
  print_stats(pipeline, probes.counters());
  if (!o.ready_file.empty()) unlink(o.ready_file.c_str());
  return o.record_only && record_failed ? 1 : 0;  // recording was the whole job
}

}  // namespace qtap::app
