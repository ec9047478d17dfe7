#include "exporter/state_file.h"

#include <cerrno>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exporter/util/fs_util.h"

namespace pse {
namespace {

constexpr absl::string_view kMagic = "pse-state ";
constexpr size_t kMaxStateBytes = 256 << 20;

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string EscapeToken(absl::string_view raw) {
  if (raw.empty()) return "%";
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if (c <= ' ' || c >= 0x7f || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool UnescapeToken(absl::string_view token, std::string* raw) {
  raw->clear();
  if (token == "%") return true;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '%') {
      *raw += token[i];
      continue;
    }
    if (i + 2 >= token.size()) return false;
    const int hi = HexDigit(token[i + 1]);
    const int lo = HexDigit(token[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *raw += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string FormatState(const StateDocument& doc) {
  std::string out =
      absl::StrCat(kMagic, kStateFileVersion, "\nsource ", EscapeToken(doc.source), "\n");
  for (const auto& [name, lines] : doc.sections) {
    absl::StrAppend(&out, "[", name, "]\n");
    for (const std::string& line : lines) absl::StrAppend(&out, line, "\n");
  }
  absl::StrAppend(&out, "end ", Hex64(Fnv1a64(out)), "\n");
  return out;
}

absl::StatusOr<StateDocument> ParseState(absl::string_view text) {
  auto corrupt = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("corrupt state file: ", why));
  };
  if (!absl::StartsWith(text, kMagic)) return corrupt("no header");
  // The checksum line is the last one.
  if (!absl::EndsWith(text, "\n")) return corrupt("truncated");
  const size_t end_at = text.rfind("\nend ", text.size() - 1);
  if (end_at == absl::string_view::npos) return corrupt("no end line");
  const absl::string_view body = text.substr(0, end_at + 1);
  absl::string_view sum = text.substr(end_at + 5);
  sum.remove_suffix(1);
  if (sum != Hex64(Fnv1a64(body))) return corrupt("checksum mismatch");

  std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  lines.pop_back();  // after the final newline
  int version = 0;
  if (!absl::SimpleAtoi(lines[0].substr(kMagic.size()), &version)) return corrupt("bad version");
  if (version != kStateFileVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state file of version ", version, ", this exporter writes ", kStateFileVersion));
  }
  if (lines.size() < 2 || !absl::StartsWith(lines[1], "source ")) return corrupt("no source");
  StateDocument doc;
  if (!UnescapeToken(lines[1].substr(7), &doc.source)) return corrupt("bad source");
  std::vector<std::string>* section = nullptr;
  for (size_t i = 2; i < lines.size(); ++i) {
    absl::string_view l = lines[i];
    if (absl::StartsWith(l, "[") && absl::EndsWith(l, "]")) {
      section = &doc.sections[std::string(l.substr(1, l.size() - 2))];
      continue;
    }
    if (section == nullptr) return corrupt("line outside a section");
    section->emplace_back(l);
  }
  return doc;
}

absl::Status SaveStateFile(const std::string& path, const StateDocument& doc) {
  return WriteFileAtomically(path, FormatState(doc), 0600);
}

absl::StatusOr<StateDocument> LoadStateFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxStateBytes);
  if (!text.ok()) return text.status();
  return ParseState(*text);
}

absl::StatusOr<std::string> MoveStateFileAside(const std::string& path) {
  const std::string aside = path + ".bad";
  if (std::rename(path.c_str(), aside.c_str()) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", path, " to ", aside, ": ", ErrnoText(errno)));
  }
  return aside;
}

}  // namespace pse
