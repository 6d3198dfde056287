#include "context/user_names.h"

#include <charconv>

#include "common/log.h"
#include "context/proc_files.h"

namespace qtap {

namespace {
constexpr size_t kPasswdMax = size_t{16} << 20;
}

std::unordered_map<uint32_t, std::string> parse_passwd(std::string_view text, size_t max_entries) {
  std::unordered_map<uint32_t, std::string> out;
  size_t pos = 0;
  while (pos < text.size() && out.size() < max_entries) {
    size_t eol = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-') continue;

    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos || c1 == 0) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    size_t c3 = line.find(':', c2 + 1);
    std::string_view uid_text =
        line.substr(c2 + 1, c3 == std::string_view::npos ? std::string_view::npos : c3 - c2 - 1);
    uint32_t uid = 0;
    auto [end, ec] = std::from_chars(uid_text.data(), uid_text.data() + uid_text.size(), uid);
    if (uid_text.empty() || ec != std::errc() || end != uid_text.data() + uid_text.size()) continue;
    out.try_emplace(uid, line.substr(0, c1));
  }
  return out;
}

UserNames::UserNames(std::string passwd_path, std::chrono::milliseconds reload_interval,
                     size_t max_entries)
    : path_(std::move(passwd_path)), reload_interval_(reload_interval), max_entries_(max_entries) {}

void UserNames::load() {
  ++loads_;
  last_load_ = std::chrono::steady_clock::now();
  auto text = read_file(path_, kPasswdMax);
  if (!text) {
    // Keep the names we had: a file being replaced is briefly absent.
    if (loads_ == 1) spdlog::warn("users: cannot read {}; users are shown as numbers", path_);
    return;
  }
  names_ = parse_passwd(*text, max_entries_);
}

std::string UserNames::name_of(uint32_t uid) {
  if (!last_load_) load();
  if (auto it = names_.find(uid); it != names_.end()) return it->second;
  if (std::chrono::steady_clock::now() - *last_load_ >= reload_interval_) {
    load();
    if (auto it = names_.find(uid); it != names_.end()) return it->second;
  }
  return std::to_string(uid);
}

}  // namespace qtap
