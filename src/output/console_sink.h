// Human-readable output: one line per transaction; with verbose, headers and
// bodies below it. An audit finding is a line of its own, after its
// transaction's.
#pragma once

#include <ostream>
#include <string>

#include "output/sink.h"

namespace qtap {

struct ConsoleOptions {
  bool verbose = false;      // -v: headers and bodies
  bool color = false;        // ANSI colours (only when writing to a terminal)
  size_t max_body_print = 4096;  // bytes of each body shown with -v
};

class ConsoleSink final : public Sink {
 public:
  ConsoleSink(std::ostream& out, ConsoleOptions opts);
  void write(const HttpRecord& rec) override;
  void write(const ConnectionRecord& rec) override;
  void write(const FindingRecord& rec) override;
  void flush() override;

 private:
  std::ostream& out_;
  ConsoleOptions opts_;
  std::string buf_;  // the record's text, written with one call
};

}  // namespace qtap
