// HTTP/2 over one connection (RFC 9113): framing of both directions, HPACK, and stitching of
// each stream into one exchange, gRPC calls included. Pure: bytes and timestamps in,
// exchanges out. See docs/http2.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "protocols/http1/http1_session.h"  // Side
#include "protocols/http_model.h"

namespace qtap::http2 {

struct Config {
  uint64_t max_body = 1 << 20;           // bytes of each body kept (--max-body)
  bool decode_content = true;            // gunzip/inflate/brotli bodies for output
  size_t max_streams = 1024;             // open streams tracked; beyond, the oldest is emitted
  size_t max_header_block = 256 * 1024;  // decoded header bytes kept per block
  size_t max_grpc_messages_kept = 32;    // per direction of a call; all are counted
  size_t max_grpc_message_decode = 64 * 1024;  // larger messages are not decoded
};

// True if `prefix` starts like the client connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// fewer bytes than the preface answer "could be".
bool looks_like_preface(std::string_view prefix);

// True if `bytes` (at least 9) start with plausible HTTP/2 frame headers, each one where the
// previous frame ends: known type, only its defined flags, reserved bit clear, length <=
// 16384 and fitting the type, stream id 0 exactly for connection frames. For a capture that
// starts inside a connection.
bool looks_like_frames(std::string_view bytes);

// True if `bytes` start with a SETTINGS frame that is not an ACK: how a server's side of a
// connection begins (its connection preface is exactly that frame), while a client's begins
// with "PRI * HTTP/2.0". Mid-connection, SETTINGS changes are rare and ACKs do not count.
bool starts_with_settings(std::string_view bytes);

class Http2Session {
 public:
  // `mid_stream`: the preface was not seen (the capture started inside the connection), so
  // neither side is known to start at a frame boundary and HPACK state is unknown.
  explicit Http2Session(const Config& cfg, bool mid_stream = false);
  ~Http2Session();
  Http2Session(const Http2Session&) = delete;
  Http2Session& operator=(const Http2Session&) = delete;

  // Next bytes of one direction, in order. kRequests is client -> server.
  void on_data(http1::Side side, std::string_view bytes, uint64_t ts_ns);
  // `len` bytes of one direction passed without being captured. Inside a DATA frame they
  // count towards the body (truncated); elsewhere framing is lost for that direction: it
  // resyncs on the next plausible frame headers, and HPACK decoding restarts from an empty
  // table (header blocks that reference older entries are reported as not decodable).
  void on_gap(http1::Side side, uint64_t len, uint64_t ts_ns);
  // The connection closed: streams still open are emitted with a note.
  void on_close(uint64_t ts_ns);

  // One exchange per finished stream (both directions ended, or reset), in finishing order.
  std::vector<HttpExchange> take_exchanges();

  // Bytes held for open streams and exchanges not yet taken (approximate; for memory stats
  // and the bounds tests).
  size_t buffered_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtap::http2
