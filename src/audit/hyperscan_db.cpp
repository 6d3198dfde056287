#include "audit/hyperscan_db.h"

#include <fmt/format.h>
#include <hs.h>

namespace qtap::audit {
namespace {

struct Callback {
  HyperscanDb::MatchFn fn;
  void* ctx;
};

int on_hs_match(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
                void* p) {
  const auto* cb = static_cast<const Callback*>(p);
  cb->fn(id, from, to, cb->ctx);
  return 0;  // keep scanning
}

}  // namespace

void HyperscanDb::Free::operator()(hs_database* db) const { hs_free_database(db); }
void HyperscanDb::Free::operator()(hs_scratch* s) const { hs_free_scratch(s); }

HyperscanDb::~HyperscanDb() = default;

Result<HyperscanDb> HyperscanDb::compile_or(std::span<const HsPattern> patterns, Mode mode,
                                            CompileError& error) {
  // Hyperscan needs SSSE3; say so instead of failing inside the compiler.
  if (hs_valid_platform() != HS_SUCCESS) {
    error = {-1, "this CPU lacks SSSE3, which Hyperscan needs"};
    return make_error(error.message);
  }
  if (patterns.empty()) {
    error = {-1, "no patterns to compile"};
    return make_error(error.message);
  }
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (const HsPattern& p : patterns) {
    expressions.push_back(p.expression.c_str());
    flags.push_back(p.flags);
    ids.push_back(p.id);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const unsigned hs_mode = mode == Mode::kBlock ? HS_MODE_BLOCK : HS_MODE_VECTORED;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(expressions.size()), hs_mode, nullptr, &db,
                       &err) != HS_SUCCESS) {
    error = {err->expression, err->message};
    hs_free_compile_error(err);
    return make_error(error.message);
  }
  HyperscanDb out;
  out.db_.reset(db);
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
    error = {-1, "cannot allocate Hyperscan scratch space"};
    return make_error(error.message);
  }
  out.scratch_.reset(scratch);
  return out;
}

Result<HyperscanDb> HyperscanDb::compile(std::span<const HsPattern> patterns, Mode mode) {
  CompileError error;
  Result<HyperscanDb> db = compile_or(patterns, mode, error);
  if (db || error.expression < 0 || static_cast<size_t>(error.expression) >= patterns.size()) {
    return db;
  }
  return make_error(fmt::format("pattern '{}': {}",
                                patterns[static_cast<size_t>(error.expression)].expression,
                                error.message));
}

Result<void> HyperscanDb::check(const HsPattern& pattern, Mode mode) {
  CompileError error;
  if (!compile_or(std::span(&pattern, 1), mode, error)) return make_error(error.message);
  return {};
}

void HyperscanDb::scan(std::string_view data, MatchFn fn, void* ctx) const {
  Callback cb{fn, ctx};
  // Only errors are a bad database or scratch, which compile() ruled out.
  hs_scan(db_.get(), data.data(), static_cast<unsigned>(data.size()), 0, scratch_.get(),
          on_hs_match, &cb);
}

void HyperscanDb::scan(std::span<const char* const> data, std::span<const unsigned> lengths,
                       MatchFn fn, void* ctx) const {
  Callback cb{fn, ctx};
  hs_scan_vector(db_.get(), data.data(), lengths.data(), static_cast<unsigned>(data.size()), 0,
                 scratch_.get(), on_hs_match, &cb);
}

}  // namespace qtap::audit
