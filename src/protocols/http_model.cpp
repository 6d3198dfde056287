#include "protocols/http_model.h"

namespace qtap {

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    // Only letters differ by case; 0x20 is the case bit in ASCII.
    if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
  }
  return true;
}

std::optional<std::string> field_value(const std::vector<Header>& headers, std::string_view name) {
  std::optional<std::string> v;
  for (const Header& h : headers) {
    if (h.name.size() != name.size() || !iequals_ascii(h.name, name)) continue;
    if (!v) {
      v = h.value;
    } else {
      v->append(", ");
      v->append(h.value);
    }
  }
  return v;
}

const Header* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (iequals_ascii(h.name, name)) return &h;
  }
  return nullptr;
}

}  // namespace qtap
