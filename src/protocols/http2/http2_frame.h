// HTTP/2 framing (RFC 9113 section 4 and 6): frame headers, what a plausible one looks like,
// and a streaming parser per direction that hands frames to the stitcher without buffering
// DATA or header blocks. See docs/http2.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/http1/http1_session.h"  // Side

namespace qtap::http2 {

using http1::Side;

inline constexpr std::string_view kConnectionPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr size_t kFrameHeaderSize = 9;
inline constexpr uint32_t kDefaultMaxFrameSize = 16384;  // SETTINGS_MAX_FRAME_SIZE initial value
inline constexpr uint32_t kMaxFrameSizeLimit = (1u << 24) - 1;

enum class FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kPriority = 0x2,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPushPromise = 0x5,
  kPing = 0x6,
  kGoaway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};

namespace flag {
inline constexpr uint8_t kEndStream = 0x1;   // DATA, HEADERS
inline constexpr uint8_t kAck = 0x1;         // SETTINGS, PING
inline constexpr uint8_t kEndHeaders = 0x4;  // HEADERS, PUSH_PROMISE, CONTINUATION
inline constexpr uint8_t kPadded = 0x8;      // DATA, HEADERS, PUSH_PROMISE
inline constexpr uint8_t kPriority = 0x20;   // HEADERS
}  // namespace flag

namespace setting {
inline constexpr uint16_t kHeaderTableSize = 0x1;
inline constexpr uint16_t kMaxFrameSize = 0x5;
}  // namespace setting

struct FrameHeader {
  uint32_t length = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  bool reserved = false;  // the bit before the stream id
  uint32_t stream_id = 0;

  FrameType frame_type() const { return static_cast<FrameType>(type); }
  bool has(uint8_t f) const { return (flags & f) != 0; }
};

// `p` points to 9 bytes.
FrameHeader parse_frame_header(const char* p);

// Whether a peer could legally send this header (RFC 9113 section 6): fixed lengths
// (PRIORITY 5, RST_STREAM and WINDOW_UPDATE 4, PING 8, SETTINGS a multiple of 6 and empty
// with ACK, GOAWAY at least 8), room for the padding and priority fields the flags announce,
// the stream id rules, and `length` <= `max_length`. Unknown types pass: receivers ignore them.
// A frame failing this ends the connection for a real peer, so the parser takes it as lost
// synchronisation.
bool frame_header_valid(const FrameHeader& h, uint32_t max_length);

// Valid, and what real senders do: a known type, only the flags defined for it, reserved bit
// clear, length <= 16384 (the default SETTINGS_MAX_FRAME_SIZE). For guessing where frames
// start in bytes of unknown alignment (detection, resync).
bool frame_header_plausible(const FrameHeader& h);

// "NO_ERROR", "PROTOCOL_ERROR", ... (RFC 9113 section 7); "0x%x" for unknown codes.
std::string error_code_name(uint32_t code);

// What the parser reports to the stitcher; a few calls per frame, never per byte.
class FrameListener {
 public:
  virtual ~FrameListener() = default;
  // A DATA, HEADERS, PUSH_PROMISE or CONTINUATION frame: its header and fixed fields are
  // parsed (`promised_id` for PUSH_PROMISE); its content (the data, or the header block
  // fragment, without padding and priority fields) follows through on_content.
  virtual void on_frame_begin(Side side, const FrameHeader& h, uint32_t promised_id,
                              uint64_t ts_ns) = 0;
  virtual void on_content(Side side, std::string_view bytes, uint64_t ts_ns) = 0;
  // `len` content bytes of the current frame were not captured; framing is intact.
  virtual void on_content_gap(Side side, uint64_t len, uint64_t ts_ns) = 0;
  // The frame begun with on_frame_begin is complete (padding included).
  virtual void on_frame_end(Side side, uint64_t ts_ns) = 0;
  // Any other frame, whole; the payload is cut at kMaxControlPayload bytes.
  virtual void on_control(Side side, const FrameHeader& h, std::string_view payload,
                          uint64_t ts_ns) = 0;
  // Framing is lost (bytes missed outside a frame's content, an invalid frame header, no
  // preface): the frame in progress is abandoned and the parser scans for frames again.
  virtual void on_lost(Side side, std::string_view reason, uint64_t ts_ns) = 0;
};

inline constexpr size_t kMaxControlPayload = 1024;

// Frames of one direction. Bytes may arrive split anywhere.
class FrameParser {
 public:
  enum class Start : uint8_t {
    kPreface,  // the client's side of a connection seen from its start
    kFrame,    // the server's side of a connection seen from its start
    kUnknown,  // capture started inside the connection: look for a frame start first
  };
  FrameParser(Side side, Start start, FrameListener& listener);

  void feed(std::string_view bytes, uint64_t ts_ns);
  void gap(uint64_t len, uint64_t ts_ns);
  // The peer's SETTINGS_MAX_FRAME_SIZE: frames this side may send. Larger ones are invalid.
  void set_max_frame_size(uint32_t v) { max_frame_size_ = v; }
  uint32_t max_frame_size() const { return max_frame_size_; }
  // The largest frame length accepted; unknown in a capture started mid-connection.
  void allow_any_frame_size() { max_frame_size_ = kMaxFrameSizeLimit; }

  bool in_sync() const { return state_ != State::kResync; }
  size_t buffered_bytes() const {
    return control_.capacity() + resync_.capacity() + replay_.capacity();
  }

 private:
  enum class State : uint8_t { kPreface, kHeader, kPrefix, kContent, kSkip, kControl, kResync };

  void begin_frame(uint64_t ts_ns);
  void after_prefix(uint64_t ts_ns);
  void content_done(uint64_t ts_ns);
  void end_frame(uint64_t ts_ns);
  void lose(std::string_view reason, uint64_t ts_ns);
  // Looks for a frame start in resync_ (or, when that is empty, directly in `in`). Returns
  // the bytes to parse as frames from there, empty if none yet.
  std::string_view resync(std::string_view in);

  const Side side_;
  FrameListener& listener_;
  State state_;
  uint32_t max_frame_size_ = kDefaultMaxFrameSize;

  size_t preface_have_ = 0;
  char header_bytes_[kFrameHeaderSize] = {};
  size_t header_have_ = 0;
  FrameHeader header_;
  bool content_frame_ = false;  // the current frame goes through on_frame_begin/on_content
  char prefix_[6] = {};         // pad length, priority (5) or promised stream id (4)
  size_t prefix_need_ = 0;
  size_t prefix_have_ = 0;
  uint32_t content_left_ = 0;
  uint32_t skip_left_ = 0;     // padding, or control payload beyond kMaxControlPayload
  uint32_t control_left_ = 0;  // control payload bytes still to come
  bool control_lost_ = false;  // part of the control payload was not captured
  std::string control_;        // a control payload split across calls
  std::string resync_;         // bytes kept while looking for a frame start
  std::string replay_;         // resync_ once a frame start was found in it
};

}  // namespace qtap::http2
