#include "protocols/http1/http1_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace qtap::http1 {

namespace {

// Longest method name accepted in a request line. Long enough for every
// registered method; short enough that a binary stream is rejected early.
constexpr size_t kMaxMethod = 20;
// Bytes after a chunk size (extensions, padding) before the line is refused.
constexpr uint64_t kMaxChunkExt = 4096;
// Head limit floor: a smaller cap could not hold a start line, and a zero cap
// would never let the parser make progress.
constexpr size_t kMinHeadBytes = 64;

// Methods recognised when looking for a message start (resync, detection).
// Any token is accepted as a method once a message is being parsed.
constexpr std::array<std::string_view, 18> kRequestStarts = {
    "GET ",      "HEAD ",      "POST ",   "PUT ",    "DELETE ",
    "CONNECT ",  "OPTIONS ",   "TRACE ",  "PATCH ",  // RFC 9110 + 5789
    "PROPFIND ", "PROPPATCH ", "MKCOL ",  "COPY ",   "MOVE ",
    "LOCK ",     "UNLOCK ",    "SEARCH ", "REPORT ",  // WebDAV (RFC 4918, 5323, 3253)
};
constexpr std::string_view kResponseStart = "HTTP/1.";
// Enough bytes to decide any StartMatch: the longest pattern.
constexpr size_t kProbe = [] {
  size_t n = kResponseStart.size();
  for (std::string_view m : kRequestStarts) n = std::max(n, m.size());
  return n;
}();

// RFC 9110 5.6.2 tchar.
constexpr std::array<bool, 256> kToken = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// Field names compared often (framing): the length check rejects most
// names without a call.
inline bool name_is(std::string_view name, std::string_view lower) {
  return name.size() == lower.size() && iequals_ascii(name, lower);
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kToken[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_http1_version(std::string_view v) {
  return v.size() == 8 && v.substr(0, 7) == kResponseStart && v[7] >= '0' && v[7] <= '9';
}

bool parse_request_line(std::string_view line, MessageHead& head) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 > kMaxMethod) return false;
  std::string_view method = line.substr(0, sp1);
  if (!is_token(method)) return false;
  size_t sp2 = line.rfind(' ');
  if (sp2 == sp1) return false;  // HTTP/0.9 "GET /" has no version: not supported
  std::string_view version = line.substr(sp2 + 1);
  if (!is_http1_version(version)) return false;
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  while (!target.empty() && target.front() == ' ') target.remove_prefix(1);
  while (!target.empty() && target.back() == ' ') target.remove_suffix(1);
  if (target.empty()) return false;
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  head.method = std::string(method);
  head.target = std::string(target);
  head.version = std::string(version);
  return true;
}

bool parse_status_line(std::string_view line, MessageHead& head) {
  // "HTTP/1.1 200 OK"; the reason phrase may be empty or missing.
  if (line.size() < 12 || !is_http1_version(line.substr(0, 8)) || line[8] != ' ') return false;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  head.version = std::string(line.substr(0, 8));
  head.status = status;
  if (line.size() > 13) head.reason = std::string(trim_ows(line.substr(13)));
  return true;
}

// A field line, or an obs-fold continuation of the previous one (RFC 9112 5.2:
// replaced by one space).
bool add_field_line(std::string_view line, std::vector<Header>& fields) {
  if (line.front() == ' ' || line.front() == '\t') {
    if (fields.empty()) return false;
    std::string_view more = trim_ows(line);
    if (!more.empty()) {
      std::string& value = fields.back().value;
      if (!value.empty()) value.push_back(' ');
      value.append(more);
    }
    return true;
  }
  // The name runs to the colon and must be a token, which also refuses
  // "Name :" (RFC 9112 5.1).
  const char* p = line.data();
  const char* end = p + line.size();
  const char* colon = p;
  while (colon < end && kToken[static_cast<unsigned char>(*colon)]) ++colon;
  if (colon == p || colon == end || *colon != ':') return false;
  const char* v = colon + 1;
  while (v < end && (*v == ' ' || *v == '\t')) ++v;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) --end;
  if (fields.capacity() == 0) fields.reserve(16);  // one allocation for a typical head
  // Constructing (rather than assigning) the strings is the cheap path in
  // libstdc++; this function is most of the parsing cost.
  fields.push_back(Header{std::string(p, static_cast<size_t>(colon - p)),
                          std::string(v, static_cast<size_t>(end - v))});
  return true;
}

bool parse_content_length(std::string_view value, uint64_t& out) {
  // "Content-Length: 12, 12" (a list of equal values) is accepted (RFC 9110 8.6).
  bool any = false;
  while (true) {
    size_t comma = value.find(',');
    std::string_view item = trim_ows(value.substr(0, comma));
    if (item.empty() || item.size() > 18) return false;
    uint64_t v = 0;
    for (char c : item) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (any && v != out) return false;
    out = v;
    any = true;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

StartMatch match_prefix(std::string_view bytes, std::string_view pattern) {
  if (bytes.size() >= pattern.size()) {
    return bytes.substr(0, pattern.size()) == pattern ? StartMatch::kYes : StartMatch::kNo;
  }
  return pattern.substr(0, bytes.size()) == bytes ? StartMatch::kPartial : StartMatch::kNo;
}

}  // namespace

StartMatch match_request_start(std::string_view bytes) {
  StartMatch best = StartMatch::kNo;
  for (std::string_view m : kRequestStarts) {
    StartMatch r = match_prefix(bytes, m);
    if (r == StartMatch::kYes) return r;
    if (r == StartMatch::kPartial) best = r;
  }
  return best;
}

StartMatch match_response_start(std::string_view bytes) {
  return match_prefix(bytes, kResponseStart);
}

bool looks_like_request(std::string_view prefix) {
  return match_request_start(prefix.substr(0, 8)) != StartMatch::kNo;
}

bool looks_like_response(std::string_view prefix) {
  return match_response_start(prefix) != StartMatch::kNo;
}

Framing body_framing(Side side, const MessageHead& head, std::string_view request_method) {
  if (side == Side::kResponses) {
    int s = head.status;
    if (s == 101) return {BodyKind::kUpgrade};
    if (s < 200) return {BodyKind::kNone};  // interim
    if (request_method == "CONNECT" && s < 300) return {BodyKind::kUpgrade};
    if (request_method == "HEAD" || s == 204 || s == 304) return {BodyKind::kNone};
  }
  bool has_te = false;
  bool chunked_last = false;
  bool has_cl = false;
  uint64_t length = 0;
  for (const Header& h : head.headers) {
    if (name_is(h.name, "transfer-encoding")) {
      // Only the last coding decides; "gzip, chunked" is still chunked.
      std::string_view v = h.value;
      size_t comma = v.rfind(',');
      std::string_view last = trim_ows(comma == std::string_view::npos ? v : v.substr(comma + 1));
      has_te = true;
      chunked_last = iequals_ascii(last, "chunked");
    } else if (name_is(h.name, "content-length")) {
      uint64_t v = 0;
      if (!parse_content_length(h.value, v))
        return {BodyKind::kInvalid, 0, "invalid Content-Length"};
      if (has_cl && v != length) return {BodyKind::kInvalid, 0, "conflicting Content-Length"};
      has_cl = true;
      length = v;
    }
  }
  // Transfer-Encoding overrides Content-Length (RFC 9112 6.3 items 3 and 4).
  if (has_te) {
    if (chunked_last) return {BodyKind::kChunked};
    if (side == Side::kRequests) {
      return {BodyKind::kInvalid, 0, "request Transfer-Encoding does not end in chunked"};
    }
    return {BodyKind::kUntilClose};
  }
  if (has_cl) return {BodyKind::kContentLength, length};
  return {side == Side::kRequests ? BodyKind::kNone : BodyKind::kUntilClose};
}

MessageParser::MessageParser(Side side, const Config& cfg, MessageListener& listener)
    : side_(side),
      cfg_(cfg),
      max_head_(std::max(cfg.max_head_bytes, kMinHeadBytes)),
      listener_(listener) {}

void MessageParser::feed(std::string_view in, uint64_t ts) {
  // Out of sync, the first byte of a chunk is a candidate message start as
  // much as a line start is: programs usually write a message from its start.
  if (state_ == State::kResync) at_line_start_ = true;
  // Every step consumes bytes or moves to a state that will.
  while (!in.empty()) {
    size_t used = 0;
    switch (state_) {
      case State::kStopped:
        return;
      case State::kStart: {
        while (used < in.size() && (in[used] == '\r' || in[used] == '\n')) ++used;
        if (used < in.size()) begin_message(ts);
        break;
      }
      case State::kHead:
      case State::kTrailers:
        used = consume_lines(in, ts);
        break;
      case State::kBodyLength: {
        used = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        add_body(in.substr(0, used), ts);
        remaining_ -= used;
        if (remaining_ == 0) {
          state_ = State::kStart;
          finish_message({});
        }
        break;
      }
      case State::kBodyClose:
        used = in.size();
        add_body(in, ts);
        break;
      case State::kResync:
        used = resync(in, ts);
        break;
      default:
        used = consume_chunked(in, ts);
        break;
    }
    in.remove_prefix(used);
  }
}

void MessageParser::begin_message(uint64_t ts) {
  // Field by field: the listener moved the previous head out already, and
  // finish_message() left body_ and trailers_ empty.
  state_ = State::kHead;
  head_.method.clear();
  head_.target.clear();
  head_.status = 0;
  head_.reason.clear();
  head_.version.clear();
  head_.headers.clear();
  head_.start_ns = ts;
  head_.end_ns = 0;
  have_start_line_ = false;
  line_.clear();
  section_bytes_ = 0;
  capture_stopped_ = false;
  last_ts_ = ts;
}

size_t MessageParser::consume_lines(std::string_view in, uint64_t ts) {
  size_t pos = 0;
  while (pos < in.size()) {
    const char* begin = in.data() + pos;
    size_t avail = in.size() - pos;
    const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', avail));
    size_t take = nl ? static_cast<size_t>(nl - begin) + 1 : avail;
    if (section_bytes_ + take > max_head_) {
      // Cut exactly at the limit so the outcome does not depend on how the
      // bytes were split.
      size_t allowed = max_head_ - section_bytes_;
      bool at_line_start = line_.empty() && allowed == 0;
      pos += allowed;
      last_ts_ = ts;
      if (state_ == State::kTrailers) {
        lose_body("trailers too large", /*truncated=*/false, at_line_start);
      } else {
        lose_message(
            side_ == Side::kRequests ? "request head too large" : "response head too large",
            LossCause::kInvalid, at_line_start);
      }
      return pos;
    }
    section_bytes_ += take;
    last_ts_ = ts;
    if (!nl) {
      line_.append(begin, avail);
      if (state_ == State::kHead && !have_start_line_ && !start_line_prefix_ok(line_)) {
        lose_message(side_ == Side::kRequests ? "invalid request line" : "invalid status line",
                     LossCause::kInvalid, false);
      }
      return in.size();
    }
    std::string_view line(begin, take - 1);
    if (!line_.empty()) {
      line_.append(line);
      line = line_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // bare LF is tolerated
    pos += take;
    LineResult r = state_ == State::kHead ? head_line(line) : trailer_line(line);
    line_.clear();
    if (r == LineResult::kDone) {
      if (state_ == State::kHead) {
        head_done(ts);
      } else {
        state_ = State::kStart;
        finish_message({});
      }
      return pos;
    }
    if (r == LineResult::kInvalid) {
      if (state_ == State::kHead) {
        lose_message(error_, LossCause::kInvalid, true);
      } else {
        lose_body("invalid trailer line", /*truncated=*/false, true);
      }
      return pos;
    }
  }
  return pos;
}

bool MessageParser::start_line_prefix_ok(std::string_view partial) const {
  // Must only refuse what the full-line parser refuses too, so that a split
  // inside the start line cannot change the outcome.
  if (side_ == Side::kResponses) return match_response_start(partial) != StartMatch::kNo;
  size_t sp = partial.find(' ');
  std::string_view method = partial.substr(0, sp);
  if (sp == 0 || method.size() > kMaxMethod) return false;
  for (char c : method) {
    if (!kToken[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

MessageParser::LineResult MessageParser::head_line(std::string_view line) {
  if (!have_start_line_) {
    bool ok =
        side_ == Side::kRequests ? parse_request_line(line, head_) : parse_status_line(line, head_);
    if (!ok) {
      error_ = side_ == Side::kRequests ? "invalid request line" : "invalid status line";
      return LineResult::kInvalid;
    }
    have_start_line_ = true;
    return LineResult::kMore;
  }
  if (line.empty()) return LineResult::kDone;
  if (!add_field_line(line, head_.headers)) {
    error_ = "invalid header line";
    return LineResult::kInvalid;
  }
  return LineResult::kMore;
}

MessageParser::LineResult MessageParser::trailer_line(std::string_view line) {
  if (line.empty()) return LineResult::kDone;
  return add_field_line(line, trailers_) ? LineResult::kMore : LineResult::kInvalid;
}

void MessageParser::head_done(uint64_t ts) {
  head_.end_ns = ts;
  Framing f = listener_.on_head(side_, head_);
  switch (f.kind) {
    case BodyKind::kInvalid:
      lose_message(f.error, LossCause::kInvalid, true);
      return;
    case BodyKind::kNone:
      state_ = State::kStart;
      finish_message({});
      return;
    case BodyKind::kUpgrade:
      state_ = State::kStopped;
      finish_message({});
      return;
    case BodyKind::kContentLength:
      if (f.length == 0) {
        state_ = State::kStart;
        finish_message({});
        return;
      }
      state_ = State::kBodyLength;
      remaining_ = f.length;
      body_.data.reserve(static_cast<size_t>(std::min<uint64_t>(f.length, cfg_.max_body)));
      return;
    case BodyKind::kChunked:
      state_ = State::kChunkSize;
      remaining_ = 0;
      chunk_digits_ = 0;
      return;
    case BodyKind::kUntilClose:
      state_ = State::kBodyClose;
      return;
  }
}

size_t MessageParser::consume_chunked(std::string_view in, uint64_t ts) {
  last_ts_ = ts;
  size_t i = 0;
  const size_t n = in.size();
  while (i < n) {
    switch (state_) {
      case State::kChunkSize: {
        char c = in[i];
        int d = hex_value(c);
        if (d >= 0) {
          if (remaining_ >> 56) {
            lose_body("chunk size too large", true, false);
            return i;
          }
          remaining_ = (remaining_ << 4) | static_cast<uint64_t>(d);
          ++chunk_digits_;
          ++i;
        } else if (chunk_digits_ == 0) {
          // Nothing of this line consumed yet: a message may start right here.
          lose_body("invalid chunk size", true, true);
          return i;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kChunkExt;
          chunk_ext_bytes_ = 0;
          ++i;
        } else if (c == '\r') {
          state_ = State::kChunkSizeLF;
          ++i;
        } else if (c == '\n') {
          ++i;
          chunk_size_done();
        } else {
          lose_body("invalid chunk size", true, false);
          return i;
        }
        break;
      }
      case State::kChunkExt: {
        // Extensions carry nothing we report; skip them, bounded.
        const auto* nl = static_cast<const char*>(std::memchr(in.data() + i, '\n', n - i));
        size_t end = nl ? static_cast<size_t>(nl - in.data()) : n;
        if (chunk_ext_bytes_ + (end - i) > kMaxChunkExt) {
          i += kMaxChunkExt - chunk_ext_bytes_;
          lose_body("chunk extension too long", true, false);
          return i;
        }
        chunk_ext_bytes_ += end - i;
        i = end;
        if (nl) {
          ++i;
          chunk_size_done();
        }
        break;
      }
      case State::kChunkSizeLF:
        if (in[i] != '\n') {
          lose_body("invalid chunk size line", true, false);
          return i;
        }
        ++i;
        chunk_size_done();
        break;
      case State::kChunkData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - i));
        add_body(in.substr(i, take), ts);
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) state_ = State::kChunkDataCR;
        break;
      }
      case State::kChunkDataCR:
      case State::kChunkDataLF:
        if (in[i] == '\r' && state_ == State::kChunkDataCR) {
          state_ = State::kChunkDataLF;
        } else if (in[i] == '\n') {
          state_ = State::kChunkSize;
          chunk_digits_ = 0;
        } else {
          lose_body("missing CRLF after chunk data", true, false);
          return i;
        }
        ++i;
        break;
      default:
        return i;  // the last chunk: trailers are read line by line by the caller
    }
  }
  return i;
}

void MessageParser::chunk_size_done() {
  if (remaining_ == 0) {
    state_ = State::kTrailers;
    section_bytes_ = 0;
    line_.clear();
  } else {
    state_ = State::kChunkData;
  }
}

size_t MessageParser::resync(std::string_view in, uint64_t ts) {
  auto match = [this](std::string_view b) {
    return side_ == Side::kRequests ? match_request_start(b) : match_response_start(b);
  };
  if (!carry_.empty()) {
    // A line start at the end of the previous chunk looked like a message
    // start; decide with the new bytes.
    size_t take = std::min(in.size(), kProbe - carry_.size());
    std::string probe = carry_;
    probe.append(in.substr(0, take));
    StartMatch m = match(probe);
    if (m == StartMatch::kPartial && take == in.size()) {
      carry_ = std::move(probe);
      return in.size();
    }
    if (m == StartMatch::kYes) {
      std::string start = std::move(carry_);
      carry_.clear();
      begin_message(carry_ts_);
      consume_lines(start, carry_ts_);  // no LF in it: stays in the line buffer
      return 0;
    }
    carry_.clear();  // `in` still starts a chunk: at_line_start_ stays true
  }
  size_t i = 0;
  for (;;) {
    if (at_line_start_) {
      std::string_view rest = in.substr(i);
      StartMatch m = match(rest.substr(0, kProbe));
      if (m == StartMatch::kYes) {
        begin_message(ts);
        return i;
      }
      if (m == StartMatch::kPartial) {
        carry_.assign(rest);
        carry_ts_ = ts;
        return in.size();
      }
      at_line_start_ = false;
    }
    const auto* nl = static_cast<const char*>(std::memchr(in.data() + i, '\n', in.size() - i));
    if (!nl) return in.size();
    i = static_cast<size_t>(nl - in.data()) + 1;
    at_line_start_ = true;
    if (i == in.size()) return i;
  }
}

void MessageParser::add_body(std::string_view bytes, uint64_t ts) {
  body_.wire_size += bytes.size();
  last_ts_ = ts;
  if (capture_stopped_) return;
  uint64_t room = cfg_.max_body - std::min<uint64_t>(cfg_.max_body, body_.data.size());
  if (room > 0)
    body_.data.append(bytes.substr(0, static_cast<size_t>(std::min<uint64_t>(room, bytes.size()))));
}

void MessageParser::add_body_gap(uint64_t len, uint64_t ts) {
  body_.wire_size += len;
  body_.truncated = true;
  // Bytes after the hole are not contiguous with `data`: stop capturing.
  capture_stopped_ = true;
  last_ts_ = ts;
}

void MessageParser::finish_message(std::string_view note) {
  // The caller has set the next state; the listener may stop() us.
  body_.captured = body_.data.size();
  body_.size = body_.wire_size;
  body_.truncated = body_.truncated || body_.captured < body_.wire_size;
  listener_.on_message(side_, body_, trailers_, last_ts_, note);
  body_ = Body{};
  trailers_.clear();
}

void MessageParser::enter_resync(bool at_line_start) {
  state_ = State::kResync;
  at_line_start_ = at_line_start;
  carry_.clear();
  line_.clear();
  section_bytes_ = 0;
}

void MessageParser::lose_message(std::string_view reason, LossCause cause, bool at_line_start) {
  enter_resync(at_line_start);
  head_ = MessageHead{};
  listener_.on_lost(side_, reason, cause);
}

void MessageParser::lose_body(std::string_view note, bool truncated, bool at_line_start) {
  enter_resync(at_line_start);
  body_.truncated = body_.truncated || truncated;
  finish_message(note);
}

void MessageParser::gap(uint64_t len, uint64_t ts) {
  while (len > 0) {
    switch (state_) {
      case State::kStopped:
        return;
      case State::kResync:
        // Whatever follows a hole may well be a message start.
        carry_.clear();
        at_line_start_ = true;
        return;
      case State::kStart:
        lose_message(side_ == Side::kRequests ? "request lost in a capture gap"
                                              : "response lost in a capture gap",
                     LossCause::kMissing, true);
        return;
      case State::kHead:
        lose_message(side_ == Side::kRequests ? "capture gap in request head"
                                              : "capture gap in response head",
                     LossCause::kMissing, true);
        return;
      case State::kBodyLength: {
        uint64_t n = std::min(len, remaining_);
        add_body_gap(n, ts);
        remaining_ -= n;
        len -= n;
        if (remaining_ == 0) {
          state_ = State::kStart;
          finish_message({});
        }
        break;  // what is left of the gap belongs to the next message
      }
      case State::kBodyClose:
        add_body_gap(len, ts);
        return;
      case State::kChunkData:
        if (len <= remaining_) {
          add_body_gap(len, ts);
          remaining_ -= len;
          if (remaining_ == 0) state_ = State::kChunkDataCR;
          return;
        }
        add_body_gap(remaining_, ts);
        lose_body("capture gap past the end of a chunk", true, true);
        return;
      case State::kTrailers:
        last_ts_ = ts;
        lose_body("capture gap in trailers", false, true);
        return;
      default:  // chunk framing
        last_ts_ = ts;
        lose_body("capture gap in chunk framing", true, true);
        return;
    }
  }
}

void MessageParser::close(uint64_t /*ts_ns*/) {
  // end_ns stays the time of the last byte seen, not of the close.
  State was = state_;
  state_ = State::kStopped;
  switch (was) {
    case State::kBodyClose:
      finish_message({});
      return;
    case State::kHead:
      listener_.on_lost(side_, "connection closed inside a head", LossCause::kMissing);
      return;
    case State::kTrailers:
      finish_message("connection closed inside trailers");
      return;
    case State::kStart:
    case State::kResync:
    case State::kStopped:
      return;
    default:  // Content-Length or chunked body
      body_.truncated = true;
      finish_message("connection closed before the end of the body");
      return;
  }
}

void MessageParser::stop() { state_ = State::kStopped; }

size_t MessageParser::buffered_bytes() const {
  size_t n = line_.capacity() + carry_.capacity() + body_.data.capacity();
  auto fields = [](const std::vector<Header>& hs) {
    size_t s = hs.capacity() * sizeof(Header);
    for (const Header& h : hs) s += h.name.capacity() + h.value.capacity();
    return s;
  };
  return n + fields(head_.headers) + fields(trailers_) + head_.method.capacity() +
         head_.target.capacity() + head_.reason.capacity();
}

}  // namespace qtap::http1
