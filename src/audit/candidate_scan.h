// Candidate finders for the detectors that have no literal to anchor on.
// Hyperscan runs at 10+ GB/s on patterns with a literal (`@`, `eyJ`, `AKIA`)
// but at 0.1-0.4 GB/s on digit-run patterns such as `\d(?:[ -]?\d){12,18}`
// over text full of numbers (measured, see docs/audit.md), so card numbers
// and IBANs are found with 64-byte character-class masks (SSE2, with a
// portable fallback) and only the rare candidates are looked at byte by byte.
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

}  // namespace qtap::audit
