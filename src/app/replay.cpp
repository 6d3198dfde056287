#include <iostream>

#include "app/commands.h"
#include "app/config_setup.h"
#include "app/output.h"
#include "app/recording_context.h"
#include "app/setup.h"
#include "common/log.h"
#include "context/process_cache.h"
#include "events/event_text.h"
#include "events/recording.h"

namespace qtap::app {
namespace {

int print_events(events::RecordingReader& reader) {
  std::vector<uint8_t> sample;
  events::EntryKind kind;
  while (true) {
    auto more = reader.next(sample, &kind);
    if (!more) {
      std::cerr << "qtap: " << more.error().message << "\n";
      return 1;
    }
    if (!*more) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(sample.data()), sample.size());
    if (kind == events::EntryKind::kHost) {
      std::cout << "recorded on host " << bytes << "\n";
      continue;
    }
    if (kind == events::EntryKind::kProcess) {
      std::cout << "process as /proc showed it: " << bytes << "\n";
      continue;
    }
    if (kind != events::EntryKind::kSample) continue;
    auto ev = events::decode(sample);
    if (!ev) {
      std::cerr << "qtap: " << ev.error().message << "\n";
      continue;
    }
    std::cout << events::to_text(*ev) << "\n";
  }
}

}  // namespace

int run_replay(const Options& o, const config::Config& cfg) {
  auto reader = events::RecordingReader::open(o.replay_path);
  if (!reader) {
    std::cerr << "qtap: " << reader.error().message << "\n";
    return 1;
  }
  if (o.replay_events) return print_events(*reader);
  auto out = open_output(o);
  if (!out) {
    std::cerr << "qtap: " << out.error().message << "\n";
    return 1;
  }
  ContextConfig cc;
  cc.proc_root.clear();  // the recording (its events and snapshots) is the only context
  ProcessCache processes(cc);
  Pipeline pipeline(pipeline_config(o, reader->clock_offset_ns()), processes, *out->sink);
  auto policy = make_policy(cfg, o);
  if (!policy) {
    std::cerr << "qtap: " << policy.error().message << "\n";
    return 1;
  }
  pipeline.set_policy(std::move(*policy));
  if (auto r = replay_recording(*reader, pipeline, processes); !r) {
    std::cerr << "qtap: " << r.error().message << "\n";
    return 1;
  }
  pipeline.shutdown();
  print_stats(pipeline, std::nullopt);
  return 0;
}

}  // namespace qtap::app
