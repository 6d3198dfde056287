// uid -> user name from a passwd file, parsed here rather than through
// getpwuid(): NSS may load modules or talk to the network, and tests need a
// fake file.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace qtap {

// The uid -> name pairs of a passwd text ("name:x:uid:gid:gecos:home:shell").
// The first line for a uid wins, as with getpwuid(); comments, NIS "+"/"-"
// lines and malformed lines are skipped. At most `max_entries` pairs.
std::unordered_map<uint32_t, std::string> parse_passwd(std::string_view text, size_t max_entries);

class UserNames {
 public:
  explicit UserNames(std::string passwd_path,
                     std::chrono::milliseconds reload_interval = std::chrono::seconds(5),
                     size_t max_entries = 65536);

  // The name for `uid`, or the number as text. Reads the file on first use;
  // a miss re-reads it at most once per reload_interval (users added while
  // qtap runs), and only a miss reads the clock.
  std::string name_of(uint32_t uid);

  size_t loads() const { return loads_; }

 private:
  void load();

  std::string path_;
  std::chrono::milliseconds reload_interval_;
  size_t max_entries_;
  std::unordered_map<uint32_t, std::string> names_;
  std::optional<std::chrono::steady_clock::time_point> last_load_;
  size_t loads_ = 0;
};

}  // namespace qtap
