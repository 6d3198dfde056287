// Feature probing: what qtap needs from the kernel, checked before anything
// is loaded, so a missing piece is reported as one clear sentence instead of
// a libbpf errno. `qtap check` prints the whole list.
#pragma once

#include <string>
#include <vector>

namespace qtap::probes {

struct Capability {
  std::string name;
  bool ok = false;
  bool required = true;  // false: informational (qtap works without it)
  std::string detail;    // one line: what was found, and why it matters
};

std::vector<Capability> check_capabilities();

// The first missing required capability as a sentence, or empty when qtap can
// run. Cheap: used at every start.
std::string first_blocker(const std::vector<Capability>& caps);

}  // namespace qtap::probes
