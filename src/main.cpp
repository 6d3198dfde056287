// qtap's entry point: parse the command line, set up logging, run a command.
#include <iostream>

#include "app/commands.h"
#include "app/config_setup.h"
#include "app/options.h"
#include "common/log.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  auto parsed = qtap::app::parse_command_line(argc, argv);
  if (parsed.exit_code >= 0) return parsed.exit_code;
  auto& o = parsed.options;
  if (o.command == qtap::app::Command::kCheck) {
    qtap::log::init(o.log_level);
    return qtap::app::run_check(o);
  }
  // The config file may set the log level, the output, ...: read it first.
  auto cfg = qtap::app::load_startup_config(o);
  if (!cfg) {
    std::cerr << "qtap: invalid config:\n" << cfg.error().message << "\n";
    return 2;
  }
  qtap::log::init(o.log_level);
  if (o.command == qtap::app::Command::kReplay) return qtap::app::run_replay(o, *cfg);
  return qtap::app::run_tap(o, *cfg);
}
