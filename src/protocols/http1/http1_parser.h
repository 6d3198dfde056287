// HTTP/1.x framing of one byte stream (one direction of a connection): finds
// where each message starts and ends and parses heads; knows nothing about
// the other direction. Http1Session stitches the two directions together and
// tells the parser how each body is delimited (the response framing depends on
// the request method). See docs/http1.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http1/http1_session.h"
#include "protocols/http_model.h"

namespace qtap::http1 {

// A request line or status line with its header fields.
struct MessageHead {
  std::string method;  // requests
  std::string target;  // requests
  int status = 0;      // responses
  std::string reason;  // responses
  std::string version;
  std::vector<Header> headers;
  uint64_t start_ns = 0;  // chunk carrying the first byte
  uint64_t end_ns = 0;    // chunk carrying the blank line ending the head
};

// How the body after a head is delimited (RFC 9112 section 6.3).
enum class BodyKind : uint8_t {
  kNone,           // no body: the message ends with its head
  kContentLength,  // `length` bytes
  kChunked,        // chunked transfer coding
  kUntilClose,     // everything until the connection closes (responses only)
  kUpgrade,        // no body, and the stream stops being HTTP/1 after the head
  kInvalid,        // the head cannot be framed (bad Content-Length, ...)
};

struct Framing {
  BodyKind kind = BodyKind::kNone;
  uint64_t length = 0;
  const char* error = "";  // why, for kInvalid
};

// Framing of a message per RFC 9112 6.3. `request_method` matters for
// responses only (HEAD and CONNECT); empty when the request is unknown.
Framing body_framing(Side side, const MessageHead& head, std::string_view request_method);

// Whether `bytes` start a request line with a known method ("GET ") or a
// status line ("HTTP/1."). kPartial: too short to tell, but consistent.
enum class StartMatch : uint8_t { kNo, kPartial, kYes };
StartMatch match_request_start(std::string_view bytes);
StartMatch match_response_start(std::string_view bytes);

// Why a message was lost: bytes that were never seen (a capture gap, the
// connection closing) surely held a message; bytes that did not parse may not
// have been one.
enum class LossCause : uint8_t { kMissing, kInvalid };

// What the parser reports; implemented by the stitcher. Called a few times
// per message, never per byte.
class MessageListener {
 public:
  // A head is complete. The listener may move fields out of `head` and
  // decides the framing of what follows.
  virtual Framing on_head(Side side, MessageHead& head) = 0;
  // The message whose head was last reported is complete (or ended early:
  // then `note` says why and the body is marked truncated when bytes are
  // missing). `body` has wire_size/captured/data/truncated filled and
  // size = wire_size; the listener may move out of it and of `trailers`.
  virtual void on_message(Side side, Body& body, std::vector<Header>& trailers, uint64_t end_ns,
                          std::string_view note) = 0;
  // A message was lost before its head was complete (gap, invalid bytes,
  // head too large, close), or its head could not be framed.
  virtual void on_lost(Side side, std::string_view reason, LossCause cause) = 0;

 protected:
  ~MessageListener() = default;
};

class MessageParser {
 public:
  MessageParser(Side side, const Config& cfg, MessageListener& listener);

  void feed(std::string_view bytes, uint64_t ts_ns);
  void gap(uint64_t len, uint64_t ts_ns);
  // End of the stream: ends a close-delimited body, or truncates the message
  // in progress. Nothing is parsed afterwards.
  void close(uint64_t ts_ns);
  // Ignore every later byte (the connection was upgraded).
  void stop();

  // Bytes held for an unfinished message (line buffer and captured body).
  size_t buffered_bytes() const;

 private:
  enum class State : uint8_t {
    kStart,        // between messages: skips stray CR/LF (RFC 9112 2.2)
    kHead,         // start line and header fields, one line at a time
    kBodyLength,   // Content-Length countdown
    kBodyClose,    // until close
    kChunkSize,    // hex digits of a chunk-size line
    kChunkExt,     // chunk extensions, up to the end of the size line
    kChunkSizeLF,  // CR seen at the end of a size line
    kChunkData,    // chunk payload
    kChunkDataCR,  // CRLF after a chunk payload
    kChunkDataLF,  //
    kTrailers,     // trailer fields after the last chunk, up to a blank line
    kResync,       // lost: scanning for a message start at a line start
    kStopped,      // upgraded or closed
  };
  enum class LineResult : uint8_t { kMore, kDone, kInvalid };

  size_t consume_lines(std::string_view in, uint64_t ts);
  LineResult head_line(std::string_view line);
  LineResult trailer_line(std::string_view line);
  bool start_line_prefix_ok(std::string_view partial) const;
  void head_done(uint64_t ts);
  size_t consume_chunked(std::string_view in, uint64_t ts);
  void chunk_size_done();
  size_t resync(std::string_view in, uint64_t ts);

  void begin_message(uint64_t ts);
  void add_body(std::string_view bytes, uint64_t ts);
  void add_body_gap(uint64_t len, uint64_t ts);
  void finish_message(std::string_view note);
  // Out of sync: the message in progress (head not yet reported) is dropped.
  void lose_message(std::string_view reason, LossCause cause, bool at_line_start);
  // Out of sync inside a body or its trailers: the message ends here.
  void lose_body(std::string_view note, bool truncated, bool at_line_start);
  void enter_resync(bool at_line_start);

  const Side side_;
  const Config& cfg_;
  const size_t max_head_;
  MessageListener& listener_;
  State state_ = State::kStart;

  // Head and trailers: the current incomplete line, and a running count of
  // the section's bytes so it can be capped at max_head_bytes.
  std::string line_;
  size_t section_bytes_ = 0;
  bool have_start_line_ = false;
  const char* error_ = "";  // why head_line() refused a line
  MessageHead head_;
  std::vector<Header> trailers_;

  // Body.
  Body body_;
  uint64_t remaining_ = 0;     // Content-Length left, or bytes left in the chunk
  uint32_t chunk_digits_ = 0;  // hex digits read on the chunk-size line
  uint32_t chunk_ext_bytes_ = 0;
  bool capture_stopped_ = false;  // a gap: later bytes are not contiguous with `data`
  uint64_t last_ts_ = 0;          // chunk that carried the latest byte of the message

  // Resync: whether the next byte starts a line, and a partial match carried
  // over from the previous chunk (at most one method name long).
  bool at_line_start_ = true;
  std::string carry_;
  uint64_t carry_ts_ = 0;
};

}  // namespace qtap::http1
