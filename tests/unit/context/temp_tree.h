// A scratch directory for fake /proc, cgroup and passwd trees, removed with
// the test.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace qtap::testing {

class TempTree {
 public:
  TempTree() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "qtap-ctx-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string path(std::string_view rel) const { return root_ + "/" + std::string(rel); }

  // Writes `content` (any bytes, NULs included) to root/rel, creating parents.
  void write(std::string_view rel, std::string_view content) const {
    auto p = std::filesystem::path(path(rel));
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("write failed: " + p.string());
  }

  void mkdir(std::string_view rel) const { std::filesystem::create_directories(path(rel)); }

  // root/rel -> target (which need not exist, like /proc/PID/exe of a
  // binary on another mount namespace).
  void symlink(std::string_view target, std::string_view rel) const {
    auto p = std::filesystem::path(path(rel));
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(std::string(target), p);
  }

  void remove(std::string_view rel) const { std::filesystem::remove_all(path(rel)); }

  uint64_t inode(std::string_view rel) const {
    struct stat st {};
    if (::stat(path(rel).c_str(), &st) != 0) throw std::runtime_error("stat failed");
    return static_cast<uint64_t>(st.st_ino);
  }

 private:
  std::string root_;
};

}  // namespace qtap::testing
