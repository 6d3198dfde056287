#include <iostream>

#include <fmt/format.h>

#include "app/commands.h"
#include "probes/preflight.h"
#include "probes/tls_attacher.h"

namespace qtap::app {

int run_check(const Options&) {
  auto caps = probes::check_capabilities();
  bool ready = true;
  for (const auto& c : caps) {
    const char* state = c.ok ? "ok" : (c.required ? "MISSING" : "missing");
    std::cout << fmt::format("{:<8} {:<13} {}\n", state, c.name, c.detail);
    if (c.required && !c.ok) ready = false;
  }
  // TLS libraries qtap would probe, and where (no probe is attached here).
  probes::TlsAttacher tls(probes::TlsAttacherConfig{}, nullptr);
  tls.discover_all();
  auto libs = tls.libraries();
  std::cout << fmt::format("TLS libraries found: {}\n", libs.size());
  for (const auto& l : libs) {
    std::cout << fmt::format("  {} [{}]\n    {}\n", l.path, l.library,
                             l.error.empty() ? l.description : "cannot probe: " + l.error);
  }
  std::cout << (ready ? "qtap can capture on this machine.\n"
                      : "qtap cannot capture on this machine: see MISSING above.\n");
  return ready ? 0 : 1;
}

}  // namespace qtap::app
