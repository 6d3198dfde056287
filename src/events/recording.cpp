#include "events/recording.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "qtap_abi.h"

namespace qtap::events {

namespace {
constexpr char kMagic[8] = {'Q', 'T', 'A', 'P', 'R', 'E', 'C', '2'};
constexpr char kMagicSamplesOnly[8] = {'Q', 'T', 'A', 'P', 'R', 'E', 'C', '1'};
constexpr uint32_t kMaxSample = 1 << 20;
constexpr uint32_t kContextBit = 0x80000000u;

struct FileHeader {
  char magic[8];
  uint32_t abi;
  uint32_t reserved;
  int64_t clock_offset_ns;
};
static_assert(sizeof(FileHeader) == 24);
}  // namespace

Result<RecordingWriter> RecordingWriter::create(const std::string& path, int64_t clock_offset_ns) {
  // Raw samples are plaintext before any redaction: only the owner may read
  // them, also when the file existed already. Only a regular file is
  // narrowed: /dev/null or a pipe (recording straight to another host) keep
  // their modes.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 ||
      (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0)) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    return make_error(fmt::format("cannot write recording {}: {}", path, strerror(err)));
  }
  FilePtr f(fdopen(fd, "wb"));
  if (!f) {
    const int err = errno;
    ::close(fd);
    return make_error(fmt::format("cannot write recording {}: {}", path, strerror(err)));
  }
  // Samples are written two pieces each: a big buffer makes that one
  // write(2) per MiB instead of one per few samples.
  setvbuf(f.get(), nullptr, _IOFBF, size_t{1} << 20);
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.abi = QTAP_ABI_VERSION;
  h.clock_offset_ns = clock_offset_ns;
  if (fwrite(&h, sizeof(h), 1, f.get()) != 1) {
    return make_error(fmt::format("cannot write recording {}: {}", path, strerror(errno)));
  }
  return RecordingWriter(std::move(f));
}

Result<void> RecordingWriter::write(std::span<const uint8_t> sample) {
  uint32_t len = static_cast<uint32_t>(sample.size());
  if (fwrite(&len, sizeof(len), 1, f_.get()) != 1 ||
      fwrite(sample.data(), 1, sample.size(), f_.get()) != sample.size()) {
    return make_error(fmt::format("recording write failed: {}", strerror(errno)));
  }
  return {};
}

Result<void> RecordingWriter::write_context(EntryKind kind, std::string_view bytes) {
  if (bytes.size() >= kMaxSample) return make_error("recording: context entry too large");
  const uint32_t len = kContextBit | static_cast<uint32_t>(bytes.size() + 1);
  const auto k = static_cast<uint8_t>(kind);
  if (fwrite(&len, sizeof(len), 1, f_.get()) != 1 || fwrite(&k, 1, 1, f_.get()) != 1 ||
      fwrite(bytes.data(), 1, bytes.size(), f_.get()) != bytes.size()) {
    return make_error(fmt::format("recording write failed: {}", strerror(errno)));
  }
  return {};
}

Result<void> RecordingWriter::flush() {
  if (fflush(f_.get()) != 0) return make_error(fmt::format("recording flush failed: {}", strerror(errno)));
  return {};
}

Result<RecordingReader> RecordingReader::open(const std::string& path) {
  FilePtr f(fopen(path.c_str(), "rb"));
  if (!f) return make_error(fmt::format("cannot open recording {}: {}", path, strerror(errno)));
  FileHeader h{};
  if (fread(&h, sizeof(h), 1, f.get()) != 1 || (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0 &&
                                                 std::memcmp(h.magic, kMagicSamplesOnly, sizeof(kMagic)) != 0)) {
    return make_error(fmt::format("{} is not a qtap recording", path));
  }
  if (h.abi != QTAP_ABI_VERSION) {
    return make_error(fmt::format("{} was recorded with event ABI {}, this qtap reads {}", path,
                                  h.abi, QTAP_ABI_VERSION));
  }
  return RecordingReader(std::move(f), h.clock_offset_ns);
}

Result<bool> RecordingReader::next(std::vector<uint8_t>& out, EntryKind* kind) {
  while (true) {
    uint32_t len = 0;
    size_t n = fread(&len, 1, sizeof(len), f_.get());
    if (n == 0 && feof(f_.get())) return false;
    const bool context = (len & kContextBit) != 0;
    len &= ~kContextBit;
    if (n != sizeof(len) || len > kMaxSample || (context && len == 0)) {
      return make_error("recording is corrupt or truncated");
    }
    out.resize(len);
    if (fread(out.data(), 1, len, f_.get()) != len) return make_error("recording is truncated");
    if (!context) {
      if (kind) *kind = EntryKind::kSample;
      return true;
    }
    if (!kind) continue;  // the caller wants kernel events only
    *kind = static_cast<EntryKind>(out[0]);
    out.erase(out.begin());
    return true;
  }
}

}  // namespace qtap::events
