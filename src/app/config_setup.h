// The config file in the app: which file, how its settings merge with the
// command line, the policy and kernel filter it yields, and reloads.
#pragma once

#include <memory>
#include <string>

#include "app/options.h"
#include "common/result.h"
#include "config/config.h"
#include "policy/policy.h"
#include "probes/kernel_probes.h"

namespace qtap::app {

// Loads the file named by --config or $QTAP_CONFIG (none: an empty config,
// every default) and applies its settings to `o` where the command line did
// not set them. Errors name the file, line and field.
Result<config::Config> load_startup_config(Options& o);

// Re-reads the file of `o.config_path` for SIGHUP: a new config, or why not.
Result<config::Config> reload_config(const Options& o);

// The policy for a config; --no-redact wins over the file (and is logged
// loudly by the caller at start).
Result<std::unique_ptr<Policy>> make_policy(const config::Config& cfg, const Options& o);

// What the kernel can drop before copying: the config's push-down plan plus
// --pid. Cgroup paths become cgroup v2 ids; a path that does not exist
// cannot match anything now and is left to userspace (logged).
probes::KernelFilter kernel_filter_for(const config::Config& cfg, const Options& o);

// One line for the log: what the kernel filter does.
std::string describe(const probes::KernelFilter& f);

}  // namespace qtap::app
