// Candidate finders for the detectors that have no literal to anchor on.
// Hyperscan runs at 10+ GB/s on patterns with a literal (`@`, `eyJ`, `AKIA`)
// but well under 1 GB/s on digit-run patterns such as `\d(?:[ -]?\d){12,18}`
// over text full of numbers (measured, see docs/audit.md), so card numbers
// and IBANs are found with 64-byte character-class masks (AVX-512BW or AVX2
// where the CPU has them, else SSE2, with a portable fallback) and only the
// rare candidates are looked at byte by byte.
#pragma once

#include <cstddef>
#include <string_view>

namespace qtap::audit {

using SpanFn = void (*)(void* ctx, size_t start, size_t end);

// Every maximal run of digits in which a space or dash may follow a digit
// (that is how card numbers are written) with at least 13 characters:
// fn(ctx, start, end). Runs start with a digit.
void find_digit_runs(std::string_view s, SpanFn fn, void* ctx);

// Every position where two uppercase letters are followed by two digits, the
// start of an IBAN: fn(ctx, pos, pos + 4).
void find_iban_starts(std::string_view s, SpanFn fn, void* ctx);

// Both of the above in one pass, each 64-byte block classified once:
// on_run(ctx, ...) for the digit runs, on_iban(ctx, ...) for the IBAN starts,
// each kind in increasing order; either function may be null. What the
// auditor calls; the two above are this with one of them null.
void find_digit_candidates(std::string_view s, SpanFn on_run, SpanFn on_iban, void* ctx);

// The classifier find_digit_candidates uses on this CPU, chosen once:
// "avx512" (AVX-512BW), "avx2", "sse2" (any x86-64) or "portable" (byte by
// byte); the environment variable QTAP_AUDIT_ISA names another one the CPU
// has (for benchmarks).
std::string_view digit_scan_isa();
// find_digit_candidates with the named classifier, for the tests to compare
// them; false (nothing called) when this CPU or build lacks it.
bool find_digit_candidates_with(std::string_view isa, std::string_view s, SpanFn on_run,
                                SpanFn on_iban, void* ctx);

}  // namespace qtap::audit
