// Decides what a connection speaks from the first bytes of either direction.
#pragma once

#include <cstdint>
#include <string_view>

namespace qtap {

enum class Protocol : uint8_t {
  kUndetected,  // not enough bytes seen yet
  kHttp1,
  kHttp2,
  kTls,         // TLS records: ciphertext, nothing to parse here
  kUnknown,     // gave up: not a protocol qtap parses
};

const char* protocol_name(Protocol p);

// What the first bytes of a stream say, and which way requests flow.
struct Detection {
  Protocol protocol = Protocol::kUndetected;
  // For HTTP: true if these bytes were a request (so this direction carries
  // requests), false if a response.
  bool is_request = false;
  // HTTP/2 recognised by its frames, without the client preface: the capture
  // started inside the connection and which side is the client is unknown.
  bool mid_stream = false;
};

// `bytes` are the first bytes of a piece of one direction's stream (the
// start of a call, ideally of the stream). Returns kUndetected when more
// bytes are needed, kUnknown when these bytes match nothing.
Detection detect_protocol(std::string_view bytes);

}  // namespace qtap
