// One compiled Hyperscan database with its scratch space, owned together.
// Both the Auditor and the Redactor scan with one database of all their
// patterns instead of looping over regexes. Not thread-safe: the scratch is
// per database, allocated once, so each object is used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct hs_database;
struct hs_scratch;

namespace qtap::audit {

struct HsPattern {
  std::string expression;  // Hyperscan (PCRE subset) syntax
  unsigned flags = 0;      // HS_FLAG_*
  unsigned id = 0;         // reported to the callback
};

class HyperscanDb {
 public:
  enum class Mode { kBlock, kVectored };

  // on_match(id, from, to): `from` is exact only for HS_FLAG_SOM_LEFTMOST
  // patterns. Offsets are into the buffer (block mode) or into the buffers
  // seen as one stream (vectored mode).
  using MatchFn = void (*)(unsigned id, uint64_t from, uint64_t to, void* ctx);

  // The error names the failing expression.
  static Result<HyperscanDb> compile(std::span<const HsPattern> patterns, Mode mode);
  // Whether one pattern compiles; the error is Hyperscan's message alone.
  static Result<void> check(const HsPattern& pattern, Mode mode);

  HyperscanDb(HyperscanDb&&) noexcept = default;
  HyperscanDb& operator=(HyperscanDb&&) noexcept = default;
  ~HyperscanDb();

  // Block mode only.
  void scan(std::string_view data, MatchFn fn, void* ctx) const;
  // Vectored mode only. `data` and `lengths` have the same size.
  void scan(std::span<const char* const> data, std::span<const unsigned> lengths, MatchFn fn,
            void* ctx) const;

 private:
  struct Free {
    void operator()(hs_database* db) const;
    void operator()(hs_scratch* s) const;
  };
  HyperscanDb() = default;
  struct CompileError {
    int expression;  // index of the failing pattern, -1 if none in particular
    std::string message;
  };
  static Result<HyperscanDb> compile_or(std::span<const HsPattern> patterns, Mode mode,
                                        CompileError& err);

  std::unique_ptr<hs_database, Free> db_;
  std::unique_ptr<hs_scratch, Free> scratch_;
};

}  // namespace qtap::audit
