// Logging goes to stderr through spdlog; levels are documented in docs/cli.md:
//   debug: per-connection and per-probe detail; info: lifecycle (attached,
//   ready, stats); warn: degraded capture (drops, unreadable /proc); error:
//   capture cannot continue.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace qtap::log {

// Routes spdlog's default logger to stderr with qtap's format.
void init(std::string_view level);
// Parses "debug|info|warn|error"; false if unknown.
bool valid_level(std::string_view level);

}  // namespace qtap::log
