// Content-Encoding decoders (gzip, deflate, br) used by the HTTP parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qtap {

struct DecodedContent {
  std::string data;
  bool complete = false;  // the whole input decoded to the end of the stream
};

// Decodes `input` per `encoding` ("gzip", "x-gzip", "deflate", "br"; a list
// like "gzip, br" is applied right to left). At most `max_out` bytes are
// produced. nullopt if the encoding is unknown or the data is not valid.
// A truncated input yields what could be decoded, complete = false.
std::optional<DecodedContent> decode_content(std::string_view encoding, std::string_view input,
                                             uint64_t max_out);

}  // namespace qtap
