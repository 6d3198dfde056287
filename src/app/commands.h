// The commands qtap runs; each returns the process exit code.
#pragma once

#include "app/options.h"
#include "config/config.h"

namespace qtap::app {

int run_tap(const Options& o, const config::Config& cfg);     // live capture (the default)
int run_check(const Options& o);                              // preflight report
int run_replay(const Options& o, const config::Config& cfg);  // a recording through the pipeline

}  // namespace qtap::app
