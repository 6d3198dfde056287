// Pieces shared by the commands that run the pipeline (tap, replay).
#pragma once

#include <cstdint>
#include <optional>

#include "app/options.h"
#include "pipeline/pipeline.h"
#include "probes/kernel_probes.h"

namespace qtap::app {

PipelineConfig pipeline_config(const Options& o, int64_t clock_offset_ns);

// CLOCK_REALTIME - CLOCK_BOOTTIME now: turns kernel timestamps into wall time.
int64_t boottime_to_realtime_offset();

// Bytes the kernel copies per read/write call: enough for a whole body at the
// body limit plus headers, in whole chunks.
uint32_t kernel_copy_limit(uint64_t max_body);

// Final statistics, one block on stderr.
void print_stats(const Pipeline& p, const std::optional<probes::Counters>& kernel);

}  // namespace qtap::app
