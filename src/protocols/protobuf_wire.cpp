#include "protocols/protobuf_wire.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <vector>

namespace qtap {
namespace {

constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;
constexpr uint64_t kMaxSafeJsonInteger = uint64_t{1} << 53;
constexpr std::string_view kTruncatedMarker = "\"_truncated\":true";

enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  uint32_t ordinal = 0;  // position in the message, to keep repeated values in wire order
  uint8_t type = 0;
  uint64_t value = 0;     // varint, fixed64, fixed32
  std::string_view data;  // length-delimited
};

bool read_varint(std::string_view s, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= s.size()) return false;
    const auto b = static_cast<uint8_t>(s[pos++]);
    if (shift == 63 && b > 1) return false;  // past 64 bits
    v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;  // an 11th byte
}

uint64_t read_le(std::string_view s, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[pos + i]);
  return v;
}

// The next field of `s` at `pos`; false if the bytes there are not one.
bool read_field(std::string_view s, size_t& pos, Field& f) {
  uint64_t key = 0;
  if (!read_varint(s, pos, key)) return false;
  const uint64_t number = key >> 3;
  if (number == 0 || number > kMaxFieldNumber) return false;
  f.number = static_cast<uint32_t>(number);
  f.type = static_cast<uint8_t>(key & 7);
  switch (f.type) {
    case kVarint:
      return read_varint(s, pos, f.value);
    case kFixed64:
      if (s.size() - pos < 8) return false;
      f.value = read_le(s, pos, 8);
      pos += 8;
      return true;
    case kFixed32:
      if (s.size() - pos < 4) return false;
      f.value = read_le(s, pos, 4);
      pos += 4;
      return true;
    case kLengthDelimited: {
      uint64_t len = 0;
      if (!read_varint(s, pos, len) || len > s.size() - pos) return false;
      f.data = s.substr(pos, static_cast<size_t>(len));
      pos += static_cast<size_t>(len);
      return true;
    }
    default:
      return false;  // groups (3, 4) and the undefined 6, 7
  }
}

bool parses_as_message(std::string_view s) {
  size_t pos = 0;
  Field f;
  while (pos < s.size()) {
    if (!read_field(s, pos, f)) return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
size_t utf8_length(std::string_view s, size_t i) {
  const auto c = static_cast<uint8_t>(s[i]);
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<uint8_t>(s[i + k]) & 0xc0) == 0x80;
  };
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const auto c1 = static_cast<uint8_t>(s[i + 1]);
    if (c == 0xe0 && c1 < 0xa0) return 0;   // overlong
    if (c == 0xed && c1 >= 0xa0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto c1 = static_cast<uint8_t>(s[i + 1]);
    if (c == 0xf0 && c1 < 0x90) return 0;   // overlong
    if (c == 0xf4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Printable text: well-formed UTF-8 without control characters other than tab, CR and LF
// (no DEL, no C1 controls). Sets `escaped` to its length once written as a JSON string body.
bool printable_text(std::string_view s, size_t& escaped) {
  escaped = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
        escaped += 2;
      } else if (c < 0x20 || c == 0x7f) {
        return false;
      } else {
        escaped += 1;
      }
      ++i;
      continue;
    }
    const size_t n = utf8_length(s, i);
    if (n == 0) return false;
    if (n == 2 && c == 0xc2 && static_cast<uint8_t>(s[i + 1]) < 0xa0) return false;  // C1
    escaped += n;
    i += n;
  }
  return true;
}

void append_escaped(std::string& out, std::string_view s) {
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    std::string_view esc;
    switch (s[i]) {
      case '"':
        esc = "\\\"";
        break;
      case '\\':
        esc = "\\\\";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      case '\t':
        esc = "\\t";
        break;
      default:
        continue;
    }
    out.append(s.substr(run, i - run));
    out.append(esc);
    run = i + 1;
  }
  out.append(s.substr(run));
}

void append_base64(std::string& out, std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(s[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(s[i + 1])} << 8) |
                       static_cast<uint8_t>(s[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (const size_t rest = s.size() - i; rest != 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(s[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<uint8_t>(s[i + 1])} << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

enum class Kind : uint8_t { kNumber, kEmpty, kMessage, kText, kBytes };

// Writes a message as JSON into `out`. Recursion is bounded by max_depth (at most 64), and
// every value is written only if it fits in what is left of max_output.
class Renderer {
 public:
  Renderer(std::string& out, int max_depth, size_t max_output)
      : out_(out), max_depth_(max_depth), max_output_(max_output) {}

  bool cut() const { return cut_; }

  // `s` is known to parse (parses_as_message).
  void message(std::string_view s, int depth) {
    const size_t base = fields_.size();
    size_t pos = 0;
    Field f;
    for (uint32_t ordinal = 0; pos < s.size(); ++ordinal) {
      if (!read_field(s, pos, f)) break;  // cannot happen for a validated message
      f.ordinal = ordinal;
      fields_.push_back(f);
    }
    std::sort(fields_.begin() + static_cast<ptrdiff_t>(base), fields_.end(),
              [](const Field& a, const Field& b) {
                return a.number != b.number ? a.number < b.number : a.ordinal < b.ordinal;
              });
    out_.push_back('{');
    const size_t end = fields_.size();
    bool first = true;
    for (size_t i = base; i < end && !cut_;) {
      size_t run = i + 1;
      while (run < end && fields_[run].number == fields_[i].number) ++run;
      // Fields are copied out: recursion appends to fields_, which may reallocate.
      const Field head = fields_[i];
      size_t text_len = 0;
      const Kind kind = classify(head, depth, text_len);
      // Key, an opening bracket if repeated, and the first value must fit.
      if (!fits(16 + estimate(head, kind, text_len), depth)) break;
      if (!first) out_.push_back(',');
      first = false;
      out_.push_back('"');
      append_uint(out_, head.number);
      out_ += "\":";
      if (run - i > 1) out_.push_back('[');
      value(head, kind, text_len, depth);
      for (size_t k = i + 1; k < run && !cut_; ++k) {
        const Field next = fields_[k];
        const Kind next_kind = classify(next, depth, text_len);
        if (!fits(1 + estimate(next, next_kind, text_len), depth)) break;
        out_.push_back(',');
        value(next, next_kind, text_len, depth);
      }
      if (run - i > 1) out_.push_back(']');
      i = run;
    }
    out_.push_back('}');
    fields_.resize(base);
  }

 private:
  Kind classify(const Field& f, int depth, size_t& text_len) const {
    if (f.type != kLengthDelimited) return Kind::kNumber;
    if (f.data.empty()) return Kind::kEmpty;
    const bool text = printable_text(f.data, text_len);
    // Short text often happens to parse as a message ("hi" is field 13 = 105): text wins
    // unless it starts with a control character, which is what a message whose first field
    // is 1 to 3 looks like ("\n\x05hello" is {"1": "hello"}).
    const bool prefer_message = !text || static_cast<uint8_t>(f.data[0]) < 0x20;
    if (prefer_message && depth < max_depth_ && parses_as_message(f.data)) return Kind::kMessage;
    return text ? Kind::kText : Kind::kBytes;
  }

  static size_t estimate(const Field& f, Kind kind, size_t text_len) {
    switch (kind) {
      case Kind::kNumber:
        return 22;          // 20 digits, or a quoted one
      case Kind::kEmpty:    // ""
      case Kind::kMessage:  // {}: its own values are checked one by one
        return 2;
      case Kind::kText:
        return text_len + 2;
      case Kind::kBytes:
        return (f.data.size() + 2) / 3 * 4 + 13;
    }
    return 0;
  }

  // Room for `n` more bytes, leaving enough to close every open object and array and to add
  // the truncation marker. Once something does not fit, nothing more is written.
  bool fits(size_t n, int depth) {
    if (cut_) return false;
    const size_t closing = 2 * static_cast<size_t>(depth) + kTruncatedMarker.size() + 2;
    if (out_.size() + n + closing > max_output_) cut_ = true;
    return !cut_;
  }

  void value(const Field& f, Kind kind, size_t text_len, int depth) {
    switch (kind) {
      case Kind::kNumber:
        if (f.value > kMaxSafeJsonInteger) {
          out_.push_back('"');
          append_uint(out_, f.value);
          out_.push_back('"');
        } else {
          append_uint(out_, f.value);
        }
        return;
      case Kind::kEmpty:
        out_ += "\"\"";
        return;
      case Kind::kMessage:
        message(f.data, depth + 1);
        return;
      case Kind::kText:
        out_.reserve(out_.size() + text_len + 2);
        out_.push_back('"');
        append_escaped(out_, f.data);
        out_.push_back('"');
        return;
      case Kind::kBytes:
        out_ += "{\"bytes\":\"";
        append_base64(out_, f.data);
        out_ += "\"}";
        return;
    }
  }

  std::string& out_;
  const int max_depth_;
  const size_t max_output_;
  bool cut_ = false;
  // Fields of every message being written, outermost first: one allocation for the whole
  // decoding instead of one per nested message.
  std::vector<Field> fields_;
};

}  // namespace

std::optional<std::string> protobuf_to_json(std::string_view bytes, int max_depth,
                                            size_t max_output) {
  if (!parses_as_message(bytes)) return std::nullopt;
  max_depth = std::clamp(max_depth, 1, 64);
  // The smallest output that can still say it was cut: {"_truncated":true}
  max_output = std::max(max_output, kTruncatedMarker.size() + 2);
  std::string out;
  out.reserve(std::min(max_output, bytes.size() * 2 + 16));
  Renderer r(out, max_depth, max_output);
  r.message(bytes, 1);
  if (r.cut()) {
    out.pop_back();  // the top-level '}'
    if (out.back() != '{') out.push_back(',');
    out += kTruncatedMarker;
    out.push_back('}');
  }
  return out;
}

}  // namespace qtap
