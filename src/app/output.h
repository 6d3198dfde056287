// Opening the output and building the sink the options ask for.
#pragma once

#include <memory>
#include <ostream>

#include "app/options.h"
#include "common/result.h"
#include "output/sink.h"

namespace qtap::app {

struct Output {
  std::unique_ptr<std::ostream> owned;  // a file, or null for stdout
  std::ostream* stream = nullptr;
  std::unique_ptr<Sink> sink;
};

// Fails with a clear sentence if the output path cannot be written. Files are
// created mode 0600: captured plaintext is sensitive.
Result<Output> open_output(const Options& o);

}  // namespace qtap::app
