// gRPC over HTTP/2 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): which
// streams are calls, and the length-prefixed messages in each direction's DATA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http_model.h"

namespace qtap::http2 {

enum class GrpcContent : uint8_t {
  kNone,   // not gRPC (grpc-web included: its framing differs)
  kProto,  // application/grpc, application/grpc+proto: messages are protobuf
  kOther,  // application/grpc+json, ...: counted, not decoded
};
GrpcContent grpc_content_type(std::string_view content_type);

// "/package.Service/Method" -> service and method; false if the path has another shape.
bool split_grpc_path(std::string_view path, std::string& service, std::string& method);

// grpc-message is percent-encoded (RFC 3986 style); invalid escapes are kept as sent.
std::string percent_decode(std::string_view s);

struct GrpcLimits {
  size_t max_kept = 32;
  size_t max_decode = 64 * 1024;
  bool decode = true;  // protobuf payloads
};

// The messages of one direction of one call: 1 byte compressed flag, 4 bytes length, payload.
// Messages may span DATA frames and a frame may carry several. Every message is counted; the
// first `max_kept` are kept, and those uncompressed and small enough are decoded as protobuf
// without a schema.
class GrpcMessageReader {
 public:
  void feed(std::string_view bytes, const GrpcLimits& limits, uint64_t& count,
            std::vector<GrpcMessage>& kept);
  // `len` bytes missed. Inside a message: it is truncated and not decoded. Past its end the
  // next message boundaries are unknown: nothing more is counted (returns false once).
  bool gap(uint64_t len, std::vector<GrpcMessage>& kept);
  // The direction ended. False if a message was cut short (it is marked truncated).
  bool finish(std::vector<GrpcMessage>& kept);
  void reset();
  size_t buffered_bytes() const { return buf_.capacity(); }

 private:
  void complete(std::string_view payload, std::vector<GrpcMessage>& kept);

  char prefix_[5] = {};
  uint8_t prefix_have_ = 0;
  bool in_message_ = false;
  bool lost_ = false;
  bool decoding_ = false;
  uint64_t left_ = 0;             // payload bytes of the current message still to come
  size_t kept_index_ = SIZE_MAX;  // the current message in `kept`, if kept
  std::string buf_;               // a payload to decode that spans DATA frames
};

}  // namespace qtap::http2
