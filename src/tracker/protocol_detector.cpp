#include "tracker/protocol_detector.h"

#include "protocols/http1/http1_session.h"
#include "protocols/http2/http2_session.h"

namespace qtap {

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kUndetected: return "undetected";
    case Protocol::kHttp1: return "http1";
    case Protocol::kHttp2: return "http2";
    case Protocol::kTls: return "tls";
    case Protocol::kUnknown: return "unknown";
  }
  return "unknown";
}

namespace {
// A TLS record header: content type handshake (22), alert (21), CCS (20) or
// application data (23), then version 3.x.
bool looks_like_tls(std::string_view b) {
  if (b.size() < 3) return false;
  auto type = static_cast<uint8_t>(b[0]);
  return type >= 20 && type <= 23 && b[1] == 3 && static_cast<uint8_t>(b[2]) <= 4;
}
}  // namespace

Detection detect_protocol(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (looks_like_tls(bytes)) return {Protocol::kTls, false};
  // The client connection preface (24 bytes) starts like a request line.
  if (http2::looks_like_preface(bytes)) {
    if (bytes.size() < 24) return {};
    return {Protocol::kHttp2, true};
  }
  bool req = http1::looks_like_request(bytes);
  bool resp = http1::looks_like_response(bytes);
  // Short prefixes ("G", "HTTP") may still become either; wait for 8 bytes.
  if ((req || resp) && bytes.size() < 8) return {};
  if (req) return {Protocol::kHttp1, true};
  if (resp) return {Protocol::kHttp1, false};
  if (http2::looks_like_frames(bytes)) return {Protocol::kHttp2, false, true};
  return {Protocol::kUnknown, false};
}

}  // namespace qtap
