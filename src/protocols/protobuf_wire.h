// Schema-less protobuf decoding (the wire format only, like `protoc --decode_raw`), for
// showing gRPC messages without their .proto files.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace qtap {

// Decodes one protobuf message into a JSON object keyed by field number as a string:
//   varint, fixed64          number (uint64); above 2^53 a string, which JSON readers keep exact
//   fixed32                  number
//   length-delimited         a nested object if the bytes parse completely as a message (and
//                            `max_depth` allows), else a string if they are printable UTF-8,
//                            else {"bytes": "<base64>"}; empty is ""
//   a field seen more than once: an array of its values, in wire order
// Fields come out in field number order. Groups (deprecated wire types 3/4) are refused.
//
// nullopt when `bytes` is not a complete message (truncated varint, a length past the end, a
// field number 0, an unknown wire type). Bounded: nesting stops at `max_depth` (clamped to
// 1..64; deeper bytes are shown as strings or bytes), and once the output would pass
// `max_output` bytes no further values are written and the top-level object gets
// "_truncated": true. The result is always valid JSON.
std::optional<std::string> protobuf_to_json(std::string_view bytes, int max_depth = 8,
                                            size_t max_output = 64 * 1024);

}  // namespace qtap
