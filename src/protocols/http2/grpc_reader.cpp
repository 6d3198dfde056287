#include "protocols/http2/grpc_reader.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "protocols/protobuf_wire.h"

namespace qtap::http2 {

namespace {

constexpr size_t kPrefixSize = 5;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

GrpcContent grpc_content_type(std::string_view content_type) {
  std::string_view ct = trim(content_type.substr(0, content_type.find(';')));
  constexpr std::string_view kGrpc = "application/grpc";
  if (ct.size() < kGrpc.size() || !iequals_ascii(ct.substr(0, kGrpc.size()), kGrpc)) {
    return GrpcContent::kNone;
  }
  const std::string_view rest = ct.substr(kGrpc.size());
  if (rest.empty()) return GrpcContent::kProto;
  if (rest.front() != '+') return GrpcContent::kNone;  // application/grpc-web...
  return iequals_ascii(rest.substr(1), "proto") ? GrpcContent::kProto : GrpcContent::kOther;
}

bool split_grpc_path(std::string_view path, std::string& service, std::string& method) {
  if (path.size() < 4 || path.front() != '/') return false;
  const size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash == 1 || slash + 1 == path.size()) return false;
  if (path.find_first_of("/?", slash + 1) != std::string_view::npos) return false;
  service.assign(path.substr(1, slash - 1));
  method.assign(path.substr(slash + 1));
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void GrpcMessageReader::feed(std::string_view bytes, const GrpcLimits& limits, uint64_t& count,
                             std::vector<GrpcMessage>& kept) {
  while (!bytes.empty() && !lost_) {
    if (!in_message_) {
      const size_t n = std::min(bytes.size(), kPrefixSize - prefix_have_);
      std::memcpy(prefix_ + prefix_have_, bytes.data(), n);
      prefix_have_ += static_cast<uint8_t>(n);
      bytes.remove_prefix(n);
      if (prefix_have_ < kPrefixSize) return;
      prefix_have_ = 0;
      in_message_ = true;
      const bool compressed = (static_cast<uint8_t>(prefix_[0]) & 1) != 0;
      left_ = (uint64_t{static_cast<uint8_t>(prefix_[1])} << 24) |
              (uint64_t{static_cast<uint8_t>(prefix_[2])} << 16) |
              (uint64_t{static_cast<uint8_t>(prefix_[3])} << 8) |
              uint64_t{static_cast<uint8_t>(prefix_[4])};
      ++count;
      kept_index_ = SIZE_MAX;
      decoding_ = false;
      buf_.clear();
      if (kept.size() < limits.max_kept) {
        kept.push_back(GrpcMessage{left_, compressed, false, {}});
        kept_index_ = kept.size() - 1;
        decoding_ = limits.decode && !compressed && left_ <= limits.max_decode;
      }
      if (left_ == 0) {
        complete({}, kept);
        continue;
      }
      if (decoding_ && bytes.size() >= left_) {
        // The whole payload is in this piece: decoded in place.
        const auto n_payload = static_cast<size_t>(left_);
        complete(bytes.substr(0, n_payload), kept);
        bytes.remove_prefix(n_payload);
        continue;
      }
    }
    const auto n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), left_));
    if (decoding_) buf_.append(bytes.substr(0, n));
    left_ -= n;
    bytes.remove_prefix(n);
    if (left_ == 0) complete(buf_, kept);
  }
}

void GrpcMessageReader::complete(std::string_view payload, std::vector<GrpcMessage>& kept) {
  in_message_ = false;
  if (decoding_ && kept_index_ < kept.size()) {
    if (std::optional<std::string> json = protobuf_to_json(payload)) {
      kept[kept_index_].decoded_json = std::move(*json);
    }
  }
  decoding_ = false;
  kept_index_ = SIZE_MAX;
}

bool GrpcMessageReader::gap(uint64_t len, std::vector<GrpcMessage>& kept) {
  if (lost_ || len == 0) return true;
  if (in_message_) {
    if (kept_index_ < kept.size()) kept[kept_index_].truncated = true;
    decoding_ = false;
    if (len <= left_) {
      left_ -= len;
      if (left_ == 0) complete({}, kept);
      return true;
    }
  }
  // The hole covers a message prefix: where later messages start is unknown.
  lost_ = true;
  in_message_ = false;
  prefix_have_ = 0;
  return false;
}

bool GrpcMessageReader::finish(std::vector<GrpcMessage>& kept) {
  const bool whole = !in_message_ && prefix_have_ == 0;
  if (in_message_ && kept_index_ < kept.size()) kept[kept_index_].truncated = true;
  in_message_ = false;
  decoding_ = false;
  prefix_have_ = 0;
  return whole;
}

void GrpcMessageReader::reset() {
  prefix_have_ = 0;
  in_message_ = false;
  lost_ = false;
  decoding_ = false;
  left_ = 0;
  kept_index_ = SIZE_MAX;
  buf_.clear();
}

}  // namespace qtap::http2
