// The settings that have both a command-line flag and a config-file key, and
// the precedence between them: a flag given on the command line wins over the
// file, the file wins over the built-in default (docs/config.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qtap::config {

enum class OutputFormat : uint8_t { kConsole, kJson };

// One list: X(type, name, default); the config key is `name`, the flag is in
// the comment (docs/config.md has the table). It generates Settings (the
// values in effect), SettingOverrides (what one source sets) and
// resolve_settings(), so the three cannot drift apart. The parser's checks of
// each key are in config_parser.cpp.
#define QTAP_CONFIG_SETTINGS(X)                                                \
  X(std::string, log_level, "info")               /* --log-level */            \
  X(OutputFormat, format, OutputFormat::kConsole) /* --format */               \
  X(std::string, output, "-")                     /* -o, --output; - stdout */ \
  X(bool, verbose, false)                         /* -v, --verbose */          \
  X(std::vector<uint32_t>, pids, {})              /* --pid (repeatable) */     \
  X(std::string, ready_file, "")                  /* --ready-file */           \
  X(uint64_t, max_body, uint64_t{1} << 20)        /* --max-body */             \
  X(uint32_t, ringbuf_mb, 32)                     /* --ringbuf-mb */           \
  X(std::string, record, "")                      /* --record */               \
  X(bool, color, true)                            /* --no-color */             \
  X(std::vector<std::string>, tls_libraries,                                   \
    (std::vector<std::string>{"openssl", "go", "gnutls", "nss"})) /* --tls-libraries */

// The values in effect. Defaults are the product defaults.
struct Settings {
#define QTAP_X(type, name, def) type name = def;
  QTAP_CONFIG_SETTINGS(QTAP_X)
#undef QTAP_X
  bool operator==(const Settings&) const = default;
};

// What one source (the file, the command line) sets; unset fields leave the
// decision to the next source.
struct SettingOverrides {
#define QTAP_X(type, name, def) std::optional<type> name;
  QTAP_CONFIG_SETTINGS(QTAP_X)
#undef QTAP_X
  bool operator==(const SettingOverrides&) const = default;
};

// Per field: the command line if it sets it, else the file, else the default.
// Lists are replaced, not merged: `--pid 7` with `pids: [1, 2]` in the file
// is pid 7 only.
Settings resolve_settings(const SettingOverrides& file, const SettingOverrides& cli);

const char* format_name(OutputFormat f);  // "console", "json"

}  // namespace qtap::config
