// Append-only JSON text for the JSONL sink. No DOM and no locale: values are
// written straight into a growable buffer that is reused from record to
// record. std::string is not used as that buffer because it cannot grow
// without zero-filling, and per-character push_back calls cost more than the
// whole rest of a record (measured: 3 us -> under 1 us per 1 KiB-body record).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace qtap::json {

// True if `s` is well-formed UTF-8 per RFC 3629: no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);

// Length of the well-formed UTF-8 sequence starting at s[0] (1..4), or 0 if
// the bytes there do not start one. `s` must not be empty.
size_t utf8_sequence_length(std::string_view s);

// Writes one JSON document at a time, tracking only where a comma is due.
// Keys are trusted ASCII literals and are not escaped; every string value is.
// Nesting is the caller's job: the sinks write a fixed shape, checked by the
// tests that parse it back.
//
// String escaping: `"`, `\` and every byte below 0x20 are escaped (\n, \t, ...
// or \u00XX); well-formed UTF-8 is copied as is. A byte that is not part of a
// well-formed sequence is written as \u00XX, i.e. read as Latin-1, so the
// output is valid JSON whatever the input (header values are arbitrary octets).
class Writer {
 public:
  Writer() = default;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Starts a new document, keeping the storage.
  void clear() {
    pos_ = data_.get();
    need_comma_ = false;
  }
  std::string_view view() const { return {data_.get(), static_cast<size_t>(pos_ - data_.get())}; }
  // Frees the storage if it grew beyond `max_keep` bytes (after a huge body),
  // so one large record does not pin memory for the process's life.
  void release_if_larger(size_t max_keep);

  // Ends a line of JSON Lines: what follows is a new document in the same
  // buffer (a sink batching records writes them one after the other).
  Writer& end_line() {
    reserve(1);
    put('\n');
    need_comma_ = false;
    return *this;
  }
  size_t size() const { return static_cast<size_t>(pos_ - data_.get()); }

  Writer& begin_object() { return open('{'); }
  Writer& end_object() { return close('}'); }
  Writer& begin_array() { return open('['); }
  Writer& end_array() { return close(']'); }

  // A literal key: its length is known at compile time, so the copy is a few
  // stores. There are some sixty keys per HTTP record.
  template <size_t N>
  Writer& key(const char (&k)[N]) {
    return key_of_length(k, N - 1);
  }
  Writer& key(std::string_view k) { return key_of_length(k.data(), k.size()); }
  // A key that comes from outside (a container label): escaped as a string is.
  Writer& escaped_key(std::string_view k) {
    string(k);
    reserve(1);
    put(':');
    need_comma_ = false;
    return *this;
  }

  Writer& string(std::string_view s) {
    begin_string();
    escape<false>(s);
    return end_string();
  }
  // One string value made of consecutive pieces (a URL from its parts).
  Writer& string_parts(std::span<const std::string_view> parts) {
    begin_string();
    for (std::string_view p : parts) escape<false>(p);
    return end_string();
  }
  Writer& optional_string(const std::optional<std::string>& s) { return s ? string(*s) : null(); }
  Writer& uint(uint64_t v);
  Writer& sint(int64_t v);
  Writer& optional_sint(const std::optional<int>& v) { return v ? sint(*v) : null(); }
  // Shortest text that reads back as `v`; null for NaN and infinities, which
  // JSON cannot represent.
  Writer& number(double v);
  // `v` rounded to three decimals, without trailing zeros: 3.4, 12.346, 1.
  // For millisecond durations: an integer path instead of the shortest
  // round-trip double formatting, which costs as much as the rest of a record.
  Writer& number_3dp(double v);
  Writer& boolean(bool v) { return literal(v ? std::string_view("true") : "false"); }
  Writer& null() { return literal("null"); }
  // RFC 3339 UTC with microseconds: "2026-11-29T05:55:03.123456Z". Digits
  // below the microsecond are cut (floor), also before 1970.
  Writer& rfc3339_micros(int64_t unix_ns);
  // A string holding `data` in base64 (RFC 4648 section 4, padded).
  Writer& base64(std::string_view data);
  // A value that is JSON text already (a decoded protobuf message), copied as is. The caller
  // guarantees it is exactly one well-formed JSON value in UTF-8; it must not be empty.
  Writer& raw_json(std::string_view json) { return literal(json); }

  // A point to come back to, for output that is only known to be right once
  // it has been written (a body that turns out not to be UTF-8).
  struct Mark {
    size_t offset;
    bool need_comma;
  };
  Mark mark() const { return {static_cast<size_t>(pos_ - data_.get()), need_comma_}; }
  void rewind(Mark m) {
    pos_ = data_.get() + m.offset;
    need_comma_ = m.need_comma;
  }
  // Writes `s` as a string if it is well-formed UTF-8 and returns true; else
  // returns false, having written something the caller must rewind. One pass
  // instead of validating first and escaping after.
  bool string_if_utf8(std::string_view s) {
    begin_string();
    if (!escape<true>(s)) return false;
    end_string();
    return true;
  }

 private:
  void reserve(size_t n) {
    if (static_cast<size_t>(end_ - pos_) < n) grow(n);
  }
  void grow(size_t n);
  void put(char c) { *pos_++ = c; }
  void put(std::string_view s) {
    if (s.empty()) return;  // an empty view's data() may be null, not a memcpy source
    std::memcpy(pos_, s.data(), s.size());
    pos_ += s.size();
  }
  void separate() {
    if (need_comma_) put(',');
  }
  // The cursor after the comma that is due, if one is: the comma is stored
  // anyway and kept only when due, which saves a branch per value. Needs one
  // byte of room. The small writers below work on a local cursor because a
  // store through char* may alias pos_ and would force a reload.
  char* after_comma() {
    const bool comma = need_comma_;
    char* d = pos_;
    *d = ',';
    return d + (comma ? 1 : 0);
  }
  Writer& key_of_length(const char* k, size_t n) {
    reserve(n + 4);
    char* d = after_comma();
    d[0] = '"';
    std::memcpy(d + 1, k, n);
    d[n + 1] = '"';
    d[n + 2] = ':';
    pos_ = d + n + 3;
    need_comma_ = false;
    return *this;
  }
  Writer& open(char c) {
    reserve(2);
    char* d = after_comma();
    *d = c;
    pos_ = d + 1;
    need_comma_ = false;
    return *this;
  }
  Writer& close(char c) {
    reserve(1);
    char* d = pos_;
    *d = c;
    pos_ = d + 1;
    need_comma_ = true;
    return *this;
  }
  Writer& literal(std::string_view s) {
    reserve(s.size() + 1);
    char* d = after_comma();
    std::memcpy(d, s.data(), s.size());
    pos_ = d + s.size();
    need_comma_ = true;
    return *this;
  }
  void begin_string() {
    reserve(2);
    char* d = after_comma();
    *d = '"';
    pos_ = d + 1;
  }
  Writer& end_string() {
    reserve(1);
    char* d = pos_;
    *d = '"';
    pos_ = d + 1;
    need_comma_ = true;
    return *this;
  }
  // Appends the inside of a string. Reserves room for `s` copied as is; each
  // escape met grows the reservation. kStrict: stop at the first byte outside
  // well-formed UTF-8 and return false.
  template <bool kStrict>
  bool escape(std::string_view s);

  std::unique_ptr<char[]> data_;
  char* pos_ = nullptr;
  char* end_ = nullptr;
  bool need_comma_ = false;
  // Records arrive in bursts within one second: the date and time of day are
  // computed once per second, only the microseconds per record.
  int64_t time_sec_ = INT64_MIN;
  char time_text_[20] = {};  // "2026-11-29T05:55:03" of time_sec_
};

}  // namespace qtap::json
