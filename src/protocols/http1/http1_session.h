// HTTP/1.x over one connection: framing of both directions and stitching of
// requests to responses. Pure: bytes and timestamps in, exchanges out.
// See docs/http1.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "protocols/http_model.h"

namespace qtap::http1 {

struct Config {
  uint64_t max_body = 1 << 20;        // bytes of each body kept (--max-body)
  size_t max_head_bytes = 64 * 1024;  // request/status line + headers; beyond: invalid
  bool decode_content = true;         // gunzip/inflate/brotli bodies for output
  size_t max_pending = 32;            // requests awaiting a response (pipelining depth);
                                      // beyond, the oldest is emitted without one
};

// Which of the connection's two byte streams a call refers to.
enum class Side { kRequests, kResponses };

// True if `prefix` (the first bytes a stream ever carried) starts like an
// HTTP/1 request line ("GET /", "POST /", ...) or a status line ("HTTP/1.").
// Needs at most 8 bytes to decide; fewer bytes answer "could be" as true.
bool looks_like_request(std::string_view prefix);
bool looks_like_response(std::string_view prefix);

class Http1Session {
 public:
  explicit Http1Session(const Config& cfg);
  ~Http1Session();
  Http1Session(const Http1Session&) = delete;
  Http1Session& operator=(const Http1Session&) = delete;

  // Next bytes of one stream, in order.
  void on_data(Side side, std::string_view bytes, uint64_t ts_ns);
  // `len` bytes of one stream passed without being captured (kernel copy
  // limit, ring buffer loss, sendfile). Inside a body they count towards its
  // size and mark it truncated; elsewhere the stream is out of sync and
  // parsing resumes at the next message start that can be recognised.
  void on_gap(Side side, uint64_t len, uint64_t ts_ns);
  // The connection closed: ends bodies delimited by close, emits requests
  // still waiting for a response.
  void on_close(uint64_t ts_ns);

  // Exchanges completed since the last call, in request order.
  std::vector<HttpExchange> take_exchanges();

  // After a 101 Switching Protocols or a successful CONNECT the bytes are no
  // longer HTTP/1; the session ignores them from then on.
  bool upgraded() const;

  // Bytes held for unfinished messages and exchanges not yet taken; bounded
  // by the Config limits whatever the input (for tests and memory stats).
  size_t buffered_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qtap::http1
