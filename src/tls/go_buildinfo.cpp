#include "tls/go_buildinfo.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "tls/elf_file.h"

namespace qtap::tls {
namespace {

constexpr std::string_view kMagic("\xff Go buildinf:", 14);
constexpr size_t kHeaderSize = 32;
constexpr size_t kAlign = 16;
// debug/buildinfo reads this much of the data segment when there is no section.
constexpr size_t kSearchBytes = size_t{64} * 1024;
// A version or module info string longer than this is corruption.
constexpr uint64_t kMaxString = 1 << 20;
// cmd/go/internal/modload.infoStart / infoEnd: 16 bytes framing the module info.
constexpr size_t kModinfoFraming = 16;

uint64_t le64(std::span<const uint8_t> b) {
  uint64_t v;
  std::memcpy(&v, b.data(), sizeof(v));
  return v;
}

// A uvarint-prefixed string at the start of `data`; advances `data` past it.
std::optional<std::string_view> take_varint_string(std::span<const uint8_t>* data) {
  uint64_t len = 0;
  size_t i = 0;
  for (unsigned shift = 0;; shift += 7) {
    if (i >= data->size() || shift > 63) return std::nullopt;
    const uint8_t b = (*data)[i++];
    len |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  if (len > kMaxString || len > data->size() - i) return std::nullopt;
  std::string_view s(reinterpret_cast<const char*>(data->data() + i), len);
  *data = data->subspan(i + len);
  return s;
}

// A Go string whose header (data pointer, length) is at `header_vaddr`.
std::optional<std::string_view> read_string_header(const ElfFile& elf, uint64_t header_vaddr) {
  const auto hdr = elf.bytes_at(header_vaddr, 16);
  if (hdr.size() < 16) return std::nullopt;
  const uint64_t ptr = le64(hdr);
  const uint64_t len = le64(hdr.subspan(8));
  if (len > kMaxString) return std::nullopt;
  const auto bytes = elf.bytes_at(ptr, len);
  if (bytes.size() < len) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), len);
}

// The 32-byte-aligned blob in `region` (which starts at a 16-aligned vaddr
// for sections; a segment start is page-aligned).
std::optional<std::span<const uint8_t>> find_blob(std::span<const uint8_t> region) {
  for (size_t pos = 0; pos + kHeaderSize <= region.size(); pos += kAlign) {
    if (std::memcmp(region.data() + pos, kMagic.data(), kMagic.size()) == 0) {
      return region.subspan(pos);
    }
  }
  return std::nullopt;
}

void parse_modinfo(std::string_view mod, GoBuildInfo* info) {
  // The framing sentinels are binary; their presence is recognised the way
  // debug/buildinfo does: a newline 17 bytes from the end.
  if (mod.size() < 2 * kModinfoFraming + 1 || mod[mod.size() - kModinfoFraming - 1] != '\n') {
    return;
  }
  mod = mod.substr(kModinfoFraming, mod.size() - 2 * kModinfoFraming);
  info->modinfo = std::string(mod);
  while (!mod.empty()) {
    const size_t nl = mod.find('\n');
    const std::string_view line = mod.substr(0, nl);
    mod = nl == std::string_view::npos ? std::string_view() : mod.substr(nl + 1);
    auto field = [&line](size_t n) {
      std::string_view rest = line;
      for (size_t i = 0; i < n; ++i) {
        const size_t tab = rest.find('\t');
        if (tab == std::string_view::npos) return std::string_view();
        rest = rest.substr(tab + 1);
      }
      return rest.substr(0, rest.find('\t'));
    };
    if (line.starts_with("path\t")) {
      info->main_path = std::string(field(1));
    } else if (line.starts_with("mod\t")) {
      info->module_path = std::string(field(1));
      info->module_version = std::string(field(2));
    }
  }
}

}  // namespace

std::optional<GoVersion> parse_go_version(std::string_view text) {
  const size_t at = text.find("go");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view s = text.substr(at + 2);
  auto number = [&s]() -> std::optional<int> {
    int v = 0;
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i < 6) v = v * 10 + (s[i++] - '0');
    if (i == 0) return std::nullopt;
    s.remove_prefix(i);
    return v;
  };
  GoVersion v;
  const auto major = number();
  if (!major || s.empty() || s.front() != '.') return std::nullopt;
  s.remove_prefix(1);
  const auto minor = number();
  if (!minor) return std::nullopt;
  v.major = *major;
  v.minor = *minor;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    v.patch = number().value_or(0);
  } else {
    size_t n = 0;
    while (n < s.size() && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9'))) ++n;
    v.prerelease = std::string(s.substr(0, n));
  }
  return v;
}

std::optional<GoBuildInfo> read_go_buildinfo(const ElfFile& elf) {
  std::optional<std::span<const uint8_t>> blob;
  if (const ElfSection* s = elf.section(".go.buildinfo"); s != nullptr && s->addr != 0) {
    blob = find_blob(elf.bytes_at(s->addr, s->size));
  } else {
    for (const ElfSegment& seg : elf.load_segments()) {
      if ((seg.flags & 0x2u) == 0 || seg.executable()) continue;  // PF_W, not PF_X
      blob = find_blob(elf.bytes_at(seg.vaddr, std::min<uint64_t>(seg.filesz, kSearchBytes)));
      break;
    }
  }
  if (!blob) return std::nullopt;

  const uint8_t ptr_size = (*blob)[14];
  const uint8_t flags = (*blob)[15];
  GoBuildInfo info;
  std::string_view version;
  std::string_view mod;
  if ((flags & 0x2) != 0) {
    info.inline_strings = true;
    auto rest = blob->subspan(kHeaderSize);
    const auto v = take_varint_string(&rest);
    if (!v) return std::nullopt;
    version = *v;
    mod = take_varint_string(&rest).value_or(std::string_view());
  } else {
    // Pointers to string headers: only 64-bit little-endian is an x86-64 binary.
    if (ptr_size != 8 || (flags & 0x1) != 0) return std::nullopt;
    const auto v = read_string_header(elf, le64(blob->subspan(16)));
    if (!v) return std::nullopt;
    version = *v;
    mod = read_string_header(elf, le64(blob->subspan(24))).value_or(std::string_view());
  }
  if (version.empty()) return std::nullopt;
  info.version = std::string(version);
  info.parsed = parse_go_version(version);
  parse_modinfo(mod, &info);
  return info;
}

}  // namespace qtap::tls
