// qtap's entry point: parse the command line, set up logging, run a command.
#include <iostream>

#include "app/commands.h"
#include "app/options.h"
#include "common/log.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  auto parsed = qtap::app::parse_command_line(argc, argv);
  if (parsed.exit_code >= 0) return parsed.exit_code;
  const auto& o = parsed.options;
  qtap::log::init(o.log_level);
  switch (o.command) {
    case qtap::app::Command::kCheck: return qtap::app::run_check(o);
    case qtap::app::Command::kReplay: return qtap::app::run_replay(o);
    case qtap::app::Command::kTap: break;
  }
  return qtap::app::run_tap(o);
}
