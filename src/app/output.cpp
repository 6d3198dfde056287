#include "app/output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "output/console_sink.h"
#include "output/jsonl_sink.h"

namespace qtap::app {

Result<Output> open_output(const Options& o) {
  Output out;
  bool to_stdout = o.output.empty() || o.output == "-";
  if (to_stdout) {
    out.stream = &std::cout;
  } else {
    int fd = ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      return make_error(fmt::format("cannot write the output file {}: {}", o.output, strerror(errno)));
    }
    ::close(fd);
    auto f = std::make_unique<std::ofstream>(o.output, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!*f) return make_error(fmt::format("cannot write the output file {}", o.output));
    out.stream = f.get();
    out.owned = std::move(f);
  }
  if (o.format == Format::kJson) {
    out.sink = std::make_unique<JsonlSink>(*out.stream);
  } else {
    ConsoleOptions co;
    co.verbose = o.verbose;
    co.color = o.color && to_stdout && isatty(STDOUT_FILENO);
    out.sink = std::make_unique<ConsoleSink>(*out.stream, co);
  }
  return out;
}

}  // namespace qtap::app
