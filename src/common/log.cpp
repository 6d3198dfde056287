#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace qtap::log {

namespace {
spdlog::level::level_enum to_level(std::string_view level) {
  if (level == "debug") return spdlog::level::debug;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  return spdlog::level::info;
}
}  // namespace

bool valid_level(std::string_view level) {
  return level == "debug" || level == "info" || level == "warn" || level == "error";
}

void init(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("qtap");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(to_level(level));
  spdlog::set_default_logger(logger);
}

}  // namespace qtap::log
