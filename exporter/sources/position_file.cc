#include "exporter/sources/position_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exporter/util/fs_util.h"

namespace pse {
namespace {

constexpr absl::string_view kHashPrefix = "fnv1a64:";
// A position text is about 200 bytes; anything much larger is not ours.
constexpr size_t kMaxPositionFileBytes = 64 * 1024;

// FNV-1a 64 (fs_util): stable across processes and builds, unlike
// absl::Hash, which is seeded per process and so cannot be persisted.
bool HashBefore(int fd, uint64_t offset, uint64_t* hash) {
  const uint64_t n = std::min(offset, kPositionHashWindow);
  char buf[kPositionHashWindow];
  if (!PreadAll(fd, buf, n, offset - n)) return false;
  *hash = Fnv1a64(absl::string_view(buf, n));
  return true;
}

}  // namespace

std::string FormatPosition(const SavedPosition& p) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(p.hash));
  return absl::StrCat(
      "# postfix_sasl_exporter log file position (written atomically; safe to delete)\n"
      "version=1\n",
      "path=", p.path, "\n", "device=", p.dev, "\n", "inode=", p.ino, "\n", "offset=", p.offset,
      "\n", "hash=", kHashPrefix, hex, "\n");
}

absl::StatusOr<SavedPosition> ParsePosition(absl::string_view text) {
  SavedPosition pos;
  bool have_version = false, have_path = false, have_dev = false, have_ino = false,
       have_offset = false, have_hash = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("line without '=': \"", line.substr(0, 80), "\""));
    }
    const absl::string_view key = line.substr(0, eq);
    const absl::string_view value = line.substr(eq + 1);
    bool good = true;
    if (key == "version") {
      good = value == "1";
      have_version = true;
    } else if (key == "path") {
      pos.path = std::string(value);
      have_path = true;
    } else if (key == "device") {
      good = absl::SimpleAtoi(value, &pos.dev);
      have_dev = true;
    } else if (key == "inode") {
      good = absl::SimpleAtoi(value, &pos.ino);
      have_ino = true;
    } else if (key == "offset") {
      good = absl::SimpleAtoi(value, &pos.offset);
      have_offset = true;
    } else if (key == "hash") {
      absl::string_view hex = value;
      good = absl::ConsumePrefix(&hex, kHashPrefix) && hex.size() == 16 &&
             absl::SimpleHexAtoi(hex, &pos.hash);
      have_hash = true;
    }
    if (!good) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for ", key, ": \"", value.substr(0, 80), "\""));
    }
  }
  if (!(have_version && have_path && have_dev && have_ino && have_offset && have_hash)) {
    return absl::InvalidArgumentError("a required key is missing");
  }
  return pos;
}

absl::StatusOr<SavedPosition> PositionOf(const std::string& path, int fd, uint64_t offset) {
  struct stat st;
  SavedPosition p;
  if (fstat(fd, &st) != 0 || !HashBefore(fd, offset, &p.hash)) {
    return absl::UnavailableError(
        absl::StrCat("cannot read log file ", path, " up to offset ", offset));
  }
  p.path = path;
  p.dev = static_cast<uint64_t>(st.st_dev);
  p.ino = static_cast<uint64_t>(st.st_ino);
  p.offset = offset;
  return p;
}

PositionMatch MatchPosition(const SavedPosition& saved, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_dev) != saved.dev ||
      static_cast<uint64_t>(st.st_ino) != saved.ino) {
    return PositionMatch::kOtherFile;
  }
  uint64_t hash = 0;
  if (static_cast<uint64_t>(st.st_size) < saved.offset || !HashBefore(fd, saved.offset, &hash) ||
      hash != saved.hash) {
    return PositionMatch::kRewritten;
  }
  return PositionMatch::kSameFile;
}

absl::Status CheckPositionFileUsable(const std::string& path) {
  const std::string dir = ParentDirectory(path);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("position file ", path, ": directory ", dir, " does not exist"));
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("position file ", path, ": directory ", dir,
                                                   " is not writable: ", ErrnoText(errno)));
  }
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("position file ", path, " exists and is not a regular file"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SavedPosition> ReadPositionFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxPositionFileBytes);
  if (!text.ok()) return text.status();
  return ParsePosition(*text);
}

absl::Status WritePositionFile(const std::string& path, const SavedPosition& position) {
  return WriteFileAtomically(path, FormatPosition(position));
}

}  // namespace pse
