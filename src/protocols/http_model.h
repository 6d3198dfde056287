// What an HTTP exchange looks like once parsed, whatever the wire version.
// Produced by the protocol parsers, consumed by the pipeline and the sinks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qtap {

struct Header {
  std::string name;   // as sent (case kept)
  std::string value;  // folded continuation lines joined with one space
};

struct Body {
  uint64_t size = 0;       // bytes of the decoded body (transfer + content coding removed);
                           // the wire size when content decoding was not possible
  uint64_t wire_size = 0;  // bytes after removing transfer coding, before content decoding
  uint64_t captured = 0;   // bytes held in `data`
  bool truncated = false;  // data is shorter than size (capture limit, or bytes missed)
  std::optional<std::string> content_encoding;  // as sent ("gzip", ...), or none
  bool content_decoded = false;                 // data holds the decoded content
  std::string data;
};

struct HttpRequest {
  std::string method;
  std::string target;   // request-target as sent ("/a?b=1", or absolute form)
  std::string version;  // "HTTP/1.1"
  std::vector<Header> headers;
  Body body;
  uint64_t start_ns = 0;  // first byte seen (event clock, CLOCK_BOOTTIME)
  uint64_t end_ns = 0;    // last byte seen
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::string version;
  std::vector<Header> headers;
  Body body;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
};

// One request with its response. Either side may be missing: a response whose
// request was never seen (capture started mid-connection), or a request whose
// connection closed before any answer.
// One gRPC length-prefixed message (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
struct GrpcMessage {
  uint64_t size = 0;         // declared length
  bool compressed = false;   // compressed-flag byte
  bool truncated = false;    // not all of it was captured
  std::string decoded_json;  // schema-less protobuf decoding as a JSON value; empty if none
};

// A gRPC call carried by an HTTP/2 stream (content-type application/grpc*).
struct GrpcCall {
  std::string service;  // "package.Service"
  std::string method;   // "Method"
  std::optional<int> status_code;  // grpc-status (trailers, or trailers-only response)
  std::string status_message;      // grpc-message, percent-decoded
  uint64_t request_messages = 0;   // every message counted, even those not kept
  uint64_t response_messages = 0;
  std::vector<GrpcMessage> requests;   // the first ones, bounded
  std::vector<GrpcMessage> responses;
};

struct HttpExchange {
  std::string version;  // "HTTP/1.1", "HTTP/1.0", "HTTP/2"
  std::optional<HttpRequest> request;
  std::optional<HttpResponse> response;
  std::vector<std::string> notes;  // parser remarks ("response without request", ...)
  // HTTP/2: the stream id; trailers (gRPC status lives there); the error that
  // ended the stream (RST_STREAM / GOAWAY code name), if any.
  uint32_t stream_id = 0;
  std::vector<Header> trailers;
  std::optional<std::string> error;
  std::optional<GrpcCall> grpc;
};

// Finds a header by case-insensitive name; nullptr if absent.
const Header* find_header(const std::vector<Header>& headers, std::string_view name);

// All values of a field, comma-joined as if sent on one line (RFC 9110 5.3);
// nullopt if absent.
std::optional<std::string> field_value(const std::vector<Header>& headers, std::string_view name);

// ASCII case-insensitive equality, the way HTTP compares field names and tokens.
bool iequals_ascii(std::string_view a, std::string_view b);

}  // namespace qtap
