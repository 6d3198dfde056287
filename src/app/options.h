// Everything the command line can set, as one struct passed to constructors.
// docs/cli.md documents each flag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/settings.h"

namespace qtap::app {

enum class Command { kTap, kCheck, kReplay };
enum class Format { kConsole, kJson };

struct Options {
  Command command = Command::kTap;
  std::string log_level = "info";
  Format format = Format::kConsole;
  std::string output = "-";  // "-" is stdout
  bool verbose = false;
  std::vector<uint32_t> pids;
  std::string ready_file;
  uint64_t max_body = 1 << 20;
  uint32_t ringbuf_mb = 32;
  std::string record_path;  // also write raw kernel events here
  bool record_only = false; // --record-only: record, decode nothing live (`qtap replay` later)
  std::string replay_path;  // `qtap replay FILE`
  bool replay_events = false;  // `qtap replay --events`: print kernel events, no pipeline
  bool color = true;        // console colours when writing to a terminal
  bool noop_probes = false; // benchmark floor: probes attached, programs empty
  bool discard_events = false;  // benchmark: the kernel side captures, the agent drops each event
  std::vector<std::string> tls_libraries{"openssl", "go", "gnutls", "nss"};  // what is probed
  std::string config_flag;  // --config PATH (else $QTAP_CONFIG)
  std::string config_path;  // the file in use, once chosen; empty: none
  bool no_redact = false;   // --no-redact
  // The settings given on the command line, which win over the config file.
  config::SettingOverrides cli;
};

// Options with `s` (the merged settings) applied.
void apply_settings(Options& o, const config::Settings& s);

// Parsing result: options, or an exit code with the message already printed
// (0 for --help/--version, 2 for usage errors).
struct ParseOutcome {
  Options options;
  int exit_code = -1;  // -1: go on and run
};

ParseOutcome parse_command_line(int argc, char** argv);

}  // namespace qtap::app
