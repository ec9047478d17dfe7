#include "parsers/known_formats.h"

#include <cstdlib>

#include "re2/re2.h"
#include "re2/set.h"

namespace pse {
namespace {

struct KnownFormat {
  bool warning;  // logged with msg_warn(), so the line starts "warning: "
  const char* format;
};

constexpr KnownFormat kFormats[] = {
#include "parsers/known_formats_library.inc"
#include "parsers/known_formats_smtpd.inc"
};

bool IsConversionFlag(char c) {
  return c == '-' || c == '+' || c == ' ' || c == '#' || c == '0' || c == '.' || c == '*' ||
         (c >= '1' && c <= '9') || c == 'l' || c == 'h' || c == 'z';
}

const RE2::Set& KnownSet() {
  static const RE2::Set* set = [] {
    RE2::Options options;
    options.set_never_capture(true);
    options.set_log_errors(false);
    // Several hundred alternatives: give the DFA room so it does not fall
    // back to the slow path for long lines.
    options.set_max_mem(64 << 20);
    auto* s = new RE2::Set(options, RE2::ANCHOR_BOTH);
    for (const KnownFormat& f : kFormats) {
      std::string pattern = FormatToPattern(f.format);
      if (f.warning) pattern = "warning: " + pattern;
      // Every entry compiles (known_formats_test checks each one); were one
      // not to, only that format would be missing.
      s->Add(pattern, nullptr);
    }
    // Fails only when the set exceeds max_mem: a defect of the table that
    // every test run would show at once.
    if (!s->Compile()) std::abort();
    return s;
  }();
  return *set;
}

}  // namespace

std::string FormatToPattern(absl::string_view format) {
  std::string out;
  std::string literal;
  auto flush = [&] {
    out += RE2::QuoteMeta(re2::StringPiece(literal.data(), literal.size()));
    literal.clear();
  };
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      literal += format[i];
      continue;
    }
    size_t j = i + 1;
    while (j < format.size() && IsConversionFlag(format[j])) ++j;
    if (j < format.size() && format[j] == '%') {
      literal += '%';
    } else {
      flush();
      out += ".*";
    }
    i = j;
  }
  flush();
  return out;
}

bool IsKnownSmtpdLine(absl::string_view message) {
  return KnownSet().Match(re2::StringPiece(message.data(), message.size()), nullptr);
}

}  // namespace pse
