// What a recording carries besides kernel events, so that a replay - later,
// elsewhere, after the processes are gone - names the same host and the same
// programs as live capture did: the host's name, and each process's context
// as /proc gave it when its first event was recorded. Programs exec'd while
// recording need no snapshot: their exec event says it all.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/result.h"
#include "context/process_cache.h"
#include "events/recording.h"
#include "pipeline/pipeline.h"

namespace qtap::app {

// ProcessInfo <-> the JSON of a kProcess entry.
std::string process_to_json(const ProcessInfo& p);
Result<ProcessInfo> process_from_json(std::string_view text);

class ContextRecorder {
 public:
  ContextRecorder(events::RecordingWriter& w, ProcessCache& processes) : w_(w), processes_(processes) {}
  // The host entry; once, before any sample.
  Result<void> start();
  // Call before writing `sample`: the snapshot of its process, the first
  // time the process shows up (a process's exit or exec ends its snapshot).
  Result<void> before(std::span<const uint8_t> sample);

 private:
  static constexpr size_t kMaxKnown = 65536;  // beyond: forgotten, snapshotted again
  events::RecordingWriter& w_;
  ProcessCache& processes_;
  std::unordered_set<uint32_t> known_;
};

// Feeds the rest of a recording to `pipeline` (which must use `processes`):
// samples as kernel events; the host entry names the records' host; process
// entries answer for their pids as /proc did when they were recorded. Entries
// of kinds this qtap does not know are skipped. Does not shut the pipeline down.
Result<void> replay_recording(events::RecordingReader& reader, Pipeline& pipeline,
                              ProcessCache& processes);

}  // namespace qtap::app
