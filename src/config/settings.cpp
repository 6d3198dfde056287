#include "config/settings.h"

namespace qtap::config {

Settings resolve_settings(const SettingOverrides& file, const SettingOverrides& cli) {
  Settings s;
#define QTAP_X(type, name, def) \
  if (cli.name) {               \
    s.name = *cli.name;         \
  } else if (file.name) {       \
    s.name = *file.name;        \
  }
  QTAP_CONFIG_SETTINGS(QTAP_X)
#undef QTAP_X
  return s;
}

const char* format_name(OutputFormat f) { return f == OutputFormat::kJson ? "json" : "console"; }

}  // namespace qtap::config
