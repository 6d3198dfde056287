#include "protocols/http2/http2_frame.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "protocols/http2/http2_session.h"

namespace qtap::http2 {

namespace {

// Flags RFC 9113 defines per frame type (index = type).
constexpr std::array<uint8_t, 10> kDefinedFlags = {
    flag::kEndStream | flag::kPadded,                                        // DATA
    flag::kEndStream | flag::kEndHeaders | flag::kPadded | flag::kPriority,  // HEADERS
    0,                                                                       // PRIORITY
    0,                                                                       // RST_STREAM
    flag::kAck,                                                              // SETTINGS
    flag::kEndHeaders | flag::kPadded,                                       // PUSH_PROMISE
    flag::kAck,                                                              // PING
    0,                                                                       // GOAWAY
    0,                                                                       // WINDOW_UPDATE
    flag::kEndHeaders,                                                       // CONTINUATION
};

uint32_t be31(const char* p) {
  return ((static_cast<uint32_t>(static_cast<uint8_t>(p[0])) & 0x7f) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

struct Scan {
  bool found = false;
  size_t offset = 0;  // the frame start found, or the first byte worth keeping
};

// The first offset where plausible frame headers follow one another: up to the end of `b`,
// or at least two of them. A single frame whose successor is not in `b` yet is undecided:
// the bytes from there are kept for the next call.
Scan scan_for_frames(std::string_view b) {
  for (size_t i = 0; i < b.size(); ++i) {
    if (b.size() - i < kFrameHeaderSize) return {false, i};
    if (!frame_header_plausible(parse_frame_header(b.data() + i))) continue;
    size_t j = i;
    int count = 0;
    bool bad = false;
    while (b.size() - j >= kFrameHeaderSize) {
      const FrameHeader h = parse_frame_header(b.data() + j);
      if (!frame_header_plausible(h)) {
        bad = true;
        break;
      }
      ++count;
      j += kFrameHeaderSize + h.length;
      if (j >= b.size()) break;
    }
    if (bad) continue;
    if (j == b.size() || count >= 2) return {true, i};
    return {false, i};
  }
  return {false, b.size()};
}

}  // namespace

FrameHeader parse_frame_header(const char* p) {
  FrameHeader h;
  h.length = (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 16) |
             (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 8) |
             static_cast<uint32_t>(static_cast<uint8_t>(p[2]));
  h.type = static_cast<uint8_t>(p[3]);
  h.flags = static_cast<uint8_t>(p[4]);
  h.reserved = (static_cast<uint8_t>(p[5]) & 0x80) != 0;
  h.stream_id = be31(p + 5);
  return h;
}

bool frame_header_valid(const FrameHeader& h, uint32_t max_length) {
  if (h.length > max_length) return false;
  const uint32_t pad = h.has(flag::kPadded) ? 1 : 0;
  const bool on_stream = h.stream_id != 0;
  switch (h.frame_type()) {
    case FrameType::kData:
      return on_stream && h.length >= pad;
    case FrameType::kHeaders:
      return on_stream && h.length >= pad + (h.has(flag::kPriority) ? 5 : 0);
    case FrameType::kPriority:
      return on_stream && h.length == 5;
    case FrameType::kRstStream:
      return on_stream && h.length == 4;
    case FrameType::kSettings:
      return !on_stream && h.length % 6 == 0 && (!h.has(flag::kAck) || h.length == 0);
    case FrameType::kPushPromise:
      return on_stream && h.length >= pad + 4;
    case FrameType::kPing:
      return !on_stream && h.length == 8;
    case FrameType::kGoaway:
      return !on_stream && h.length >= 8;
    case FrameType::kWindowUpdate:
      return h.length == 4;
    case FrameType::kContinuation:
      return on_stream;
  }
  return true;  // extension frame types are ignored by receivers
}

bool frame_header_plausible(const FrameHeader& h) {
  if (h.reserved || h.type >= kDefinedFlags.size()) return false;
  if ((h.flags & ~kDefinedFlags[h.type]) != 0) return false;
  return frame_header_valid(h, kDefaultMaxFrameSize);
}

bool looks_like_preface(std::string_view prefix) {
  const size_t n = std::min(prefix.size(), kConnectionPreface.size());
  return prefix.substr(0, n) == kConnectionPreface.substr(0, n);
}

bool looks_like_frames(std::string_view bytes) {
  if (bytes.size() < kFrameHeaderSize) return false;
  size_t pos = 0;
  while (bytes.size() - pos >= kFrameHeaderSize) {
    const FrameHeader h = parse_frame_header(bytes.data() + pos);
    if (!frame_header_plausible(h)) return false;
    pos += kFrameHeaderSize + h.length;
    if (pos >= bytes.size()) break;
  }
  return true;
}

bool starts_with_settings(std::string_view bytes) {
  if (bytes.size() < kFrameHeaderSize) return false;
  const FrameHeader h = parse_frame_header(bytes.data());
  return h.frame_type() == FrameType::kSettings && !h.has(flag::kAck) && h.stream_id == 0 &&
         h.length % 6 == 0 && frame_header_plausible(h);
}

std::string error_code_name(uint32_t code) {
  static constexpr std::array<std::string_view, 14> kNames = {
      "NO_ERROR",
      "PROTOCOL_ERROR",
      "INTERNAL_ERROR",
      "FLOW_CONTROL_ERROR",
      "SETTINGS_TIMEOUT",
      "STREAM_CLOSED",
      "FRAME_SIZE_ERROR",
      "REFUSED_STREAM",
      "CANCEL",
      "COMPRESSION_ERROR",
      "CONNECT_ERROR",
      "ENHANCE_YOUR_CALM",
      "INADEQUATE_SECURITY",
      "HTTP_1_1_REQUIRED",
  };
  if (code < kNames.size()) return std::string(kNames[code]);
  return fmt::format("0x{:x}", code);
}

FrameParser::FrameParser(Side side, Start start, FrameListener& listener)
    : side_(side),
      listener_(listener),
      state_(start == Start::kPreface ? State::kPreface
             : start == Start::kFrame ? State::kHeader
                                      : State::kResync) {}

void FrameParser::feed(std::string_view in, uint64_t ts_ns) {
  while (!in.empty()) {
    switch (state_) {
      case State::kPreface: {
        const size_t n = std::min(in.size(), kConnectionPreface.size() - preface_have_);
        if (in.substr(0, n) != kConnectionPreface.substr(preface_have_, n)) {
          lose("no connection preface", ts_ns);  // and the same bytes are scanned for frames
          break;
        }
        preface_have_ += n;
        in.remove_prefix(n);
        if (preface_have_ == kConnectionPreface.size()) state_ = State::kHeader;
        break;
      }
      case State::kHeader: {
        const size_t n = std::min(in.size(), kFrameHeaderSize - header_have_);
        std::memcpy(header_bytes_ + header_have_, in.data(), n);
        header_have_ += n;
        in.remove_prefix(n);
        if (header_have_ < kFrameHeaderSize) break;
        header_have_ = 0;
        header_ = parse_frame_header(header_bytes_);
        if (!frame_header_valid(header_, max_frame_size_)) {
          lose("invalid frame header", ts_ns);
          // A real frame may start inside these 9 bytes.
          resync_.assign(header_bytes_ + 1, kFrameHeaderSize - 1);
          break;
        }
        begin_frame(ts_ns);
        break;
      }
      case State::kPrefix: {
        const size_t n = std::min(in.size(), prefix_need_ - prefix_have_);
        std::memcpy(prefix_ + prefix_have_, in.data(), n);
        prefix_have_ += n;
        in.remove_prefix(n);
        if (prefix_have_ == prefix_need_) after_prefix(ts_ns);
        break;
      }
      case State::kContent: {
        const size_t n = std::min<size_t>(in.size(), content_left_);
        listener_.on_content(side_, in.substr(0, n), ts_ns);
        content_left_ -= static_cast<uint32_t>(n);
        in.remove_prefix(n);
        if (content_left_ == 0) content_done(ts_ns);
        break;
      }
      case State::kSkip: {
        const size_t n = std::min<size_t>(in.size(), skip_left_);
        skip_left_ -= static_cast<uint32_t>(n);
        in.remove_prefix(n);
        if (skip_left_ == 0) end_frame(ts_ns);
        break;
      }
      case State::kControl: {
        if (control_left_ == header_.length && in.size() >= control_left_) {
          // The whole payload is here: no copy.
          const std::string_view payload =
              in.substr(0, std::min<size_t>(control_left_, kMaxControlPayload));
          in.remove_prefix(control_left_);
          control_left_ = 0;
          state_ = State::kHeader;
          listener_.on_control(side_, header_, payload, ts_ns);
          break;
        }
        const size_t n = std::min<size_t>(in.size(), control_left_);
        if (control_.size() < kMaxControlPayload) {
          control_.append(in.substr(0, std::min(n, kMaxControlPayload - control_.size())));
        }
        control_left_ -= static_cast<uint32_t>(n);
        in.remove_prefix(n);
        if (control_left_ == 0) {
          state_ = State::kHeader;
          if (!control_lost_) listener_.on_control(side_, header_, control_, ts_ns);
        }
        break;
      }
      case State::kResync: {
        const std::string_view found = resync(in);
        in = found;
        if (!found.empty()) state_ = State::kHeader;
        break;
      }
    }
  }
}

void FrameParser::begin_frame(uint64_t ts_ns) {
  const bool padded = header_.has(flag::kPadded);
  switch (header_.frame_type()) {
    case FrameType::kData:
      prefix_need_ = padded ? 1 : 0;
      break;
    case FrameType::kHeaders:
      prefix_need_ = (padded ? 1 : 0) + (header_.has(flag::kPriority) ? 5 : 0);
      break;
    case FrameType::kPushPromise:
      prefix_need_ = (padded ? 1 : 0) + 4;
      break;
    case FrameType::kContinuation:
      prefix_need_ = 0;
      break;
    default:
      content_frame_ = false;
      control_left_ = header_.length;
      control_lost_ = false;
      control_.clear();
      if (header_.length == 0) {
        state_ = State::kHeader;
        listener_.on_control(side_, header_, {}, ts_ns);
      } else {
        state_ = State::kControl;
      }
      return;
  }
  content_frame_ = true;
  prefix_have_ = 0;
  if (prefix_need_ > 0) {
    state_ = State::kPrefix;
  } else {
    after_prefix(ts_ns);
  }
}

void FrameParser::after_prefix(uint64_t ts_ns) {
  const FrameType type = header_.frame_type();
  const bool padded = header_.has(flag::kPadded) && type != FrameType::kContinuation;
  const uint32_t rest = header_.length - static_cast<uint32_t>(prefix_need_);
  const uint32_t pad = padded ? static_cast<uint8_t>(prefix_[0]) : 0;
  if (pad > rest) {
    lose("padding longer than the frame", ts_ns);  // PROTOCOL_ERROR for a real peer
    return;
  }
  const uint32_t promised = type == FrameType::kPushPromise ? be31(prefix_ + (padded ? 1 : 0)) : 0;
  content_left_ = rest - pad;
  skip_left_ = pad;
  state_ = State::kContent;
  listener_.on_frame_begin(side_, header_, promised, ts_ns);
  if (content_left_ == 0) content_done(ts_ns);
}

void FrameParser::content_done(uint64_t ts_ns) {
  if (skip_left_ > 0) {
    state_ = State::kSkip;
  } else {
    end_frame(ts_ns);
  }
}

void FrameParser::end_frame(uint64_t ts_ns) {
  state_ = State::kHeader;
  listener_.on_frame_end(side_, ts_ns);
}

void FrameParser::gap(uint64_t len, uint64_t ts_ns) {
  if (len == 0) return;
  switch (state_) {
    case State::kContent: {
      const uint64_t inside = std::min<uint64_t>(len, content_left_);
      listener_.on_content_gap(side_, inside, ts_ns);
      content_left_ -= static_cast<uint32_t>(inside);
      len -= inside;
      if (content_left_ > 0) return;
      if (len <= skip_left_) {
        skip_left_ -= static_cast<uint32_t>(len);
        content_done(ts_ns);
        return;
      }
      lose("bytes not captured", ts_ns);
      return;
    }
    case State::kSkip:
      if (len <= skip_left_) {
        skip_left_ -= static_cast<uint32_t>(len);
        if (skip_left_ == 0) end_frame(ts_ns);
        return;
      }
      lose("bytes not captured", ts_ns);
      return;
    case State::kControl:
      // A control frame whose length is known: framing holds, the frame is dropped.
      if (len <= control_left_) {
        control_left_ -= static_cast<uint32_t>(len);
        control_lost_ = true;
        if (control_left_ == 0) state_ = State::kHeader;
        return;
      }
      lose("bytes not captured", ts_ns);
      return;
    case State::kResync:
      resync_.clear();  // bytes on either side of the hole are not contiguous
      return;
    case State::kPreface:
    case State::kHeader:
    case State::kPrefix:
      lose("bytes not captured", ts_ns);
      return;
  }
}

void FrameParser::lose(std::string_view reason, uint64_t ts_ns) {
  state_ = State::kResync;
  resync_.clear();
  header_have_ = 0;
  prefix_have_ = 0;
  control_.clear();
  listener_.on_lost(side_, reason, ts_ns);
}

std::string_view FrameParser::resync(std::string_view in) {
  const bool buffered = !resync_.empty();
  if (buffered) resync_.append(in);
  const std::string_view b = buffered ? std::string_view(resync_) : in;
  const Scan s = scan_for_frames(b);
  if (s.found) {
    if (!buffered) return b.substr(s.offset);
    // `in` may point into replay_; it has been copied into resync_ already.
    replay_.swap(resync_);
    resync_.clear();
    return std::string_view(replay_).substr(s.offset);
  }
  if (buffered) {
    resync_.erase(0, s.offset);
  } else {
    resync_.assign(b.substr(s.offset));
  }
  return {};
}

}  // namespace qtap::http2
