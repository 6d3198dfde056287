#include <CLI/CLI.hpp>

#include <iostream>

#include "app/options.h"
#include "common/log.h"

namespace qtap::app {

namespace {

void add_capture_options(CLI::App& app, Options& o, std::string& format) {
  app.add_option("--log-level", o.log_level, "debug|info|warn|error (logs go to stderr)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--format", format, "console (default) or json (JSON Lines)")
      ->check(CLI::IsMember({"console", "json"}));
  app.add_option("-o,--output", o.output, "write events to PATH instead of stdout");
  app.add_flag("-v,--verbose", o.verbose, "console: also print headers and bodies");
  app.add_option("--pid", o.pids, "capture only this process (repeatable)")->check(CLI::PositiveNumber);
  app.add_option("--ready-file", o.ready_file, "create PATH once every probe is attached and capture is live");
  app.add_option("--max-body", o.max_body, "bytes of each HTTP body to keep (default 1 MiB)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30));
  app.add_option("--ringbuf-mb", o.ringbuf_mb, "kernel ring buffer size in MiB, a power of two (default 32)")
      ->check([](const std::string& s) -> std::string {
        try {
          unsigned long v = std::stoul(s);
          if (v >= 1 && v <= 1024 && (v & (v - 1)) == 0) return {};
        } catch (...) {
        }
        return "must be a power of two between 1 and 1024";
      });
  app.add_option("--record", o.record_path, "also record raw kernel events to PATH (for `qtap replay`)");
  app.add_option("--record-only", o.record_path,
                 "record raw kernel events to PATH and decode nothing live: the lowest overhead; "
                 "`qtap replay PATH` decodes it later (the file holds unredacted plaintext, mode 0600)")
      ->excludes("--record");
  app.add_flag("!--no-color", o.color, "no ANSI colours on the console");
  app.add_option("--tls-libraries", o.tls_libraries,
                 "TLS libraries to probe, comma-separated (default: openssl,go,gnutls,nss)")
      ->delimiter(',')
      ->check(CLI::IsMember({"openssl", "go", "gnutls", "nss"}));
  app.add_option("--config", o.config_flag, "YAML config file (also $QTAP_CONFIG); docs/config.md");
  app.add_flag("--no-redact", o.no_redact,
               "do not redact secrets (Authorization, cookies, tokens) from the output");
  app.add_flag("--noop-probes", o.noop_probes,
               "benchmarking: attach every probe but make the BPF programs return at once");
  app.add_flag("--discard-events", o.discard_events,
               "benchmarking: capture in the kernel, read the events and drop them (the kernel side's cost)");
}

}  // namespace

ParseOutcome parse_command_line(int argc, char** argv) {
  ParseOutcome out;
  Options& o = out.options;
  std::string format = "console";

  CLI::App app{
      "qtap: see in plaintext what programs send and receive over the network, with the process,\n"
      "user, container and host behind every byte. Run as root; with no command it captures\n"
      "everything it can see (same as `qtap tap`)."};
  app.name("qtap");
  app.set_version_flag("--version", std::string("qtap ") + QTAP_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough();
  add_capture_options(app, o, format);

  auto* tap = app.add_subcommand("tap", "capture traffic (the default)");
  tap->fallthrough();
  auto* check = app.add_subcommand("check", "preflight: list the kernel features qtap uses, ok or missing");
  check->fallthrough();
  auto* replay = app.add_subcommand("replay", "run a recording made with --record through the pipeline (no root)");
  replay->add_option("file", o.replay_path, "recording")->required();
  replay->add_flag("--events", o.replay_events,
                   "print the kernel events one per line instead of running the pipeline");
  replay->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out.exit_code = app.exit(e);
    return out;
  } catch (const CLI::CallForVersion& e) {
    out.exit_code = app.exit(e);
    return out;
  } catch (const CLI::ParseError& e) {
    std::cerr << "qtap: " << e.what() << "\n" << "Run `qtap --help` for usage.\n";
    out.exit_code = 2;
    return out;
  }
  if (*check) o.command = Command::kCheck;
  if (*replay) o.command = Command::kReplay;
  (void)tap;
  o.format = format == "json" ? Format::kJson : Format::kConsole;
  // What the command line sets explicitly wins over the config file.
  auto given = [&](const char* flag) { return app.count(flag) > 0; };
  config::SettingOverrides& c = o.cli;
  if (given("--log-level")) c.log_level = o.log_level;
  if (given("--format")) c.format = o.format == Format::kJson ? config::OutputFormat::kJson : config::OutputFormat::kConsole;
  if (given("--output")) c.output = o.output;
  if (given("--verbose")) c.verbose = o.verbose;
  if (given("--pid")) c.pids = o.pids;
  if (given("--ready-file")) c.ready_file = o.ready_file;
  if (given("--max-body")) c.max_body = o.max_body;
  if (given("--ringbuf-mb")) c.ringbuf_mb = o.ringbuf_mb;
  if (given("--record")) c.record = o.record_path;
  if (given("--record-only")) {
    c.record = o.record_path;
    o.record_only = true;
  }
  if (given("--no-color")) c.color = o.color;
  if (given("--tls-libraries")) c.tls_libraries = o.tls_libraries;
  return out;
}

void apply_settings(Options& o, const config::Settings& s) {
  o.log_level = s.log_level;
  o.format = s.format == config::OutputFormat::kJson ? Format::kJson : Format::kConsole;
  o.output = s.output;
  o.verbose = s.verbose;
  o.pids = s.pids;
  o.ready_file = s.ready_file;
  o.max_body = s.max_body;
  o.ringbuf_mb = s.ringbuf_mb;
  o.record_path = s.record;
  o.color = s.color;
  o.tls_libraries = s.tls_libraries;
}

}  // namespace qtap::app
