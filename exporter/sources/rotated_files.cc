#include "exporter/sources/rotated_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace pse {
namespace {

// ".N" with N all digits: the logrotate / savelog numbering, where a larger
// number is an older file.
bool NumberedSuffix(absl::string_view suffix, uint64_t* n) {
  if (suffix.size() < 2 || suffix[0] != '.') return false;
  suffix.remove_prefix(1);
  for (char c : suffix) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(suffix, n);
}

// Name part of the age order: true when `a` is the older name.
bool NameBefore(absl::string_view a, absl::string_view b, absl::string_view base) {
  absl::string_view sa = a, sb = b;
  absl::ConsumePrefix(&sa, base);
  absl::ConsumePrefix(&sb, base);
  uint64_t na = 0, nb = 0;
  const bool a_numbered = NumberedSuffix(sa, &na);
  const bool b_numbered = NumberedSuffix(sb, &nb);
  if (a_numbered && b_numbered) return na > nb;
  // Mixed schemes do not say which is older; any fixed choice keeps the
  // order total (std::sort needs that).
  if (a_numbered != b_numbered) return b_numbered;
  return sa < sb;
}

}  // namespace

bool IsCompressedName(absl::string_view name) {
  for (absl::string_view ext : {".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z"}) {
    if (absl::EndsWith(name, ext)) return true;
  }
  return false;
}

std::vector<RotatedFile> ListRotatedFiles(const std::string& dir, absl::string_view base) {
  std::vector<RotatedFile> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    absl::string_view name = e->d_name;
    if (name.size() <= base.size() || !absl::StartsWith(name, base) || IsCompressedName(name)) {
      continue;
    }
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    RotatedFile f;
    f.name = std::string(name);
    f.id = FileIdOf(st);
    f.mtime = absl::TimeFromTimespec(st.st_mtim);
    out.push_back(std::move(f));
  }
  closedir(d);
  return out;
}

bool WrittenBefore(const RotatedFile& a, const RotatedFile& b, absl::string_view base) {
  if (a.mtime != b.mtime) return a.mtime < b.mtime;
  if (a.name.empty() || b.name.empty()) return false;
  return NameBefore(a.name, b.name, base);
}

std::vector<RotatedFile> FilesAfter(const std::vector<RotatedFile>& listing, const RotatedFile& ref,
                                    const FileId& current, absl::string_view base,
                                    const std::set<FileId>* known) {
  std::vector<RotatedFile> out;
  for (const RotatedFile& f : listing) {
    if (f.id == ref.id || f.id == current) continue;
    const bool after = known == nullptr ? WrittenBefore(ref, f, base)
                                        : known->count(f.id) == 0 && f.mtime >= ref.mtime;
    if (after) out.push_back(f);
  }
  std::sort(out.begin(), out.end(), [base](const RotatedFile& a, const RotatedFile& b) {
    return WrittenBefore(a, b, base);
  });
  return out;
}

}  // namespace pse
