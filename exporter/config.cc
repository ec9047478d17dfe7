#include "exporter/config.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "exporter/util/fs_util.h"
#include "yaml-cpp/yaml.h"

namespace pse {
namespace {

// A config file is a few dozen lines; anything this big is not one.
constexpr size_t kMaxConfigBytes = 1 << 20;

bool ParseBoolText(absl::string_view v, bool* out) {
  std::string s = absl::AsciiStrToLower(v);
  if (s == "true" || s == "1" || s == "yes" || s == "on") {
    *out = true;
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseBytesText(absl::string_view v, int64_t* out) {
  struct Suffix {
    absl::string_view text;
    int64_t mult;
  };
  static constexpr Suffix kSuffixes[] = {
      {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024LL * 1024 * 1024},
      {"KB", 1000},  {"MB", 1000 * 1000},  {"GB", 1000LL * 1000 * 1000},
      {"K", 1024},   {"M", 1024 * 1024},   {"B", 1},
  };
  v = absl::StripAsciiWhitespace(v);
  int64_t mult = 1;
  for (const Suffix& s : kSuffixes) {
    if (absl::EndsWith(v, s.text)) {
      v.remove_suffix(s.text.size());
      mult = s.mult;
      break;
    }
  }
  int64_t n;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &n) || n < 0 ||
      n > std::numeric_limits<int64_t>::max() / mult) {
    return false;
  }
  *out = n * mult;
  return true;
}

}  // namespace

OptionSet::Option& OptionSet::Add(std::string name, Kind kind, void* target, std::string help,
                                  std::string default_text) {
  Option o;
  o.name = std::move(name);
  o.kind = kind;
  o.target = target;
  o.help = std::move(help);
  o.default_text = std::move(default_text);
  options_.push_back(std::move(o));
  return options_.back();
}

void OptionSet::AddBool(std::string name, bool* target, std::string help) {
  Add(std::move(name), Kind::kBool, target, std::move(help), *target ? "true" : "false");
}
void OptionSet::AddString(std::string name, std::string* target, std::string help,
                          Validator validate) {
  Add(std::move(name), Kind::kString, target, std::move(help), *target).validate =
      std::move(validate);
}
void OptionSet::AddStringList(std::string name, std::vector<std::string>* target, std::string help,
                              Validator validate) {
  Add(std::move(name), Kind::kStringList, target, std::move(help), absl::StrJoin(*target, ","))
      .validate = std::move(validate);
}
void OptionSet::AddDuration(std::string name, absl::Duration* target, std::string help) {
  Add(std::move(name), Kind::kDuration, target, std::move(help), absl::FormatDuration(*target));
}
void OptionSet::AddInteger(std::string name, Kind kind, int64_t current,
                           std::function<void(int64_t)> set, int64_t min, int64_t max,
                           std::string help) {
  Option& o = Add(std::move(name), kind, nullptr, std::move(help), absl::StrCat(current));
  o.min = min;
  o.max = max;
  o.set_integer = std::move(set);
}
void OptionSet::AddEnum(std::string name, std::string* target, std::vector<std::string> allowed,
                        std::string help) {
  Add(std::move(name), Kind::kEnum, target, std::move(help), *target).allowed = std::move(allowed);
}

void OptionSet::AddMappingList(std::string name, std::vector<Mapping>* target,
                               std::vector<std::string> keys, std::string help,
                               MappingValidator validate) {
  Option& o = Add(std::move(name), Kind::kMappingList, target, std::move(help), "");
  o.allowed = std::move(keys);
  o.validate_mapping = std::move(validate);
}

OptionSet::Option* OptionSet::Find(absl::string_view name) {
  for (Option& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

absl::Status OptionSet::Set(Option* o, absl::string_view value, bool append,
                            const std::string& where) {
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": invalid value \"", value, "\": ", what));
  };
  if (o->validate) {
    absl::Status st = o->validate(value);
    if (!st.ok()) return bad(st.message());
  }
  switch (o->kind) {
    case Kind::kBool:
      if (!ParseBoolText(value, static_cast<bool*>(o->target))) return bad("want true or false");
      return absl::OkStatus();
    case Kind::kString:
      *static_cast<std::string*>(o->target) = std::string(value);
      return absl::OkStatus();
    case Kind::kStringList: {
      auto* list = static_cast<std::vector<std::string>*>(o->target);
      if (!append) list->clear();
      list->emplace_back(value);
      return absl::OkStatus();
    }
    case Kind::kDuration: {
      absl::Duration d;
      if (!absl::ParseDuration(std::string(value), &d) || d < absl::ZeroDuration()) {
        return bad("want a duration such as 500ms, 60s, 5m or 1h");
      }
      *static_cast<absl::Duration*>(o->target) = d;
      return absl::OkStatus();
    }
    case Kind::kInt:
    case Kind::kBytes: {
      int64_t n;
      bool ok = o->kind == Kind::kInt ? absl::SimpleAtoi(value, &n) : ParseBytesText(value, &n);
      if (!ok) return bad(o->kind == Kind::kInt ? "want an integer" : "want a size such as 64KiB");
      if (n < o->min || n > o->max) {
        return bad(absl::StrCat("must be between ", o->min, " and ", o->max));
      }
      o->set_integer(n);
      return absl::OkStatus();
    }
    case Kind::kMappingList:
      return absl::InvalidArgumentError(absl::StrCat(where, ": can only be set in a config file"));
    case Kind::kEnum:
      for (const std::string& a : o->allowed) {
        if (a == value) {
          *static_cast<std::string*>(o->target) = a;
          return absl::OkStatus();
        }
      }
      return bad(absl::StrCat("want one of ", absl::StrJoin(o->allowed, ", ")));
  }
  return absl::OkStatus();
}

absl::Status OptionSet::ParseArgs(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\" (options start with --; see --help)"));
    }
    arg.remove_prefix(2);
    absl::string_view name = arg, value;
    bool has_value = false;
    size_t eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    Option* o = Find(name);
    bool negated = false;
    if (o == nullptr && absl::StartsWith(name, "no-")) {
      o = Find(name.substr(3));
      if (o != nullptr && o->kind != Kind::kBool) o = nullptr;
      negated = o != nullptr;
    }
    if (o == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    std::string where = absl::StrCat("flag --", name);
    if (o->kind == Kind::kBool) {
      if (negated && has_value) {
        return absl::InvalidArgumentError(absl::StrCat(where, " takes no value"));
      }
      if (!has_value) value = negated ? "false" : "true";
    } else if (!has_value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(where, " needs a value"));
      value = argv[++i];
    }
    bool append = o->kind == Kind::kStringList && list_started_.contains(o->name);
    absl::Status st = Set(o, value, append, where);
    if (!st.ok()) return st;
    list_started_.insert(o->name);
    set_on_cli_.insert(o->name);
  }
  return absl::OkStatus();
}

absl::Status OptionSet::LoadYamlFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxConfigBytes);
  if (!text.ok()) {
    absl::string_view why = text.status().message();
    if (absl::StartsWith(why, path + ": ")) why.remove_prefix(path.size() + 2);
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read config file: ", why));
  }
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": invalid YAML: ", e.msg));
  }
  if (root.IsNull()) return absl::OkStatus();  // an empty file sets nothing
  auto at = [&](const YAML::Node& n, absl::string_view key) {
    return absl::StrCat(path, ":", n.Mark().line + 1, ": key \"", key, "\"");
  };
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", root.Mark().line + 1, ": the top level must be a mapping"));
  }
  // Walks nested maps, joining keys with '.', until a key names an option.
  std::function<absl::Status(const YAML::Node&, const std::string&)> walk =
      [&](const YAML::Node& map, const std::string& prefix) -> absl::Status {
    // yaml-cpp's iterator yields temporaries: keep the Node handles by value.
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", k.Mark().line + 1, ": keys must be strings"));
      }
      std::string key = prefix.empty() ? k.Scalar() : absl::StrCat(prefix, ".", k.Scalar());
      Option* o = Find(key);
      if (o == nullptr) {
        bool is_prefix = false;
        for (const Option& opt : options_) {
          if (absl::StartsWith(opt.name, key + ".")) is_prefix = true;
        }
        if (is_prefix && v.IsMap()) {
          absl::Status st = walk(v, key);
          if (!st.ok()) return st;
          continue;
        }
        if (is_prefix) {
          return absl::InvalidArgumentError(
              absl::StrCat(at(k, key), ": want a mapping of ", key, ".* options"));
        }
        return absl::InvalidArgumentError(absl::StrCat(at(k, key), ": unknown key"));
      }
      if (o->name == "config.file") {
        return absl::InvalidArgumentError(
            absl::StrCat(at(k, key), ": not allowed inside a config file"));
      }
      if (set_on_cli_.contains(o->name)) continue;  // flags win
      std::string where = at(v.IsNull() ? k : v, key);
      if (o->kind == Kind::kStringList) {
        if (v.IsScalar()) {
          absl::Status st = Set(o, v.Scalar(), false, where);
          if (!st.ok()) return st;
        } else if (v.IsSequence()) {
          static_cast<std::vector<std::string>*>(o->target)->clear();
          for (const YAML::Node& item : v) {
            if (!item.IsScalar()) {
              return absl::InvalidArgumentError(
                  absl::StrCat(at(item, key), ": list items must be strings"));
            }
            absl::Status st = Set(o, item.Scalar(), true, at(item, key));
            if (!st.ok()) return st;
          }
        } else {
          return absl::InvalidArgumentError(absl::StrCat(where, ": want a string or a list"));
        }
        continue;
      }
      if (o->kind == Kind::kMappingList) {
        absl::Status st = SetMappingList(o, v, path, key);
        if (!st.ok()) return st;
        continue;
      }
      if (!v.IsScalar()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": want a single value"));
      }
      absl::Status st = Set(o, v.Scalar(), false, where);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  };
  return walk(root, "");
}

absl::Status OptionSet::SetMappingList(Option* o, const YAML::Node& list, const std::string& path,
                                       const std::string& key) {
  auto error = [&](const YAML::Node& n, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", n.Mark().line + 1, ": key \"", key, "\": ", what));
  };
  if (!list.IsSequence()) return error(list, "want a list of mappings");
  auto* target = static_cast<std::vector<Mapping>*>(o->target);
  target->clear();
  for (const YAML::Node& item : list) {
    if (!item.IsMap()) return error(item, "each item must be a mapping");
    Mapping m;
    for (auto it = item.begin(); it != item.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar() || !v.IsScalar()) return error(item, "keys and values must be strings");
      if (std::find(o->allowed.begin(), o->allowed.end(), k.Scalar()) == o->allowed.end()) {
        return error(k, absl::StrCat("unknown item key \"", k.Scalar(), "\" (want ",
                                     absl::StrJoin(o->allowed, ", "), ")"));
      }
      m[k.Scalar()] = v.Scalar();
    }
    for (const std::string& want : o->allowed) {
      if (!m.count(want)) return error(item, absl::StrCat("item without \"", want, "\""));
    }
    if (o->validate_mapping) {
      absl::Status st = o->validate_mapping(m);
      if (!st.ok()) return error(item, st.message());
    }
    target->push_back(std::move(m));
  }
  return absl::OkStatus();
}

std::string OptionSet::Usage(absl::string_view program) const {
  std::string out = absl::StrCat("usage: ", program, " [options]\n\noptions:\n");
  for (const Option& o : options_) {
    std::string arg;
    switch (o.kind) {
      case Kind::kBool:
        arg = "";
        break;
      case Kind::kDuration:
        arg = "=DURATION";
        break;
      case Kind::kInt:
        arg = "=N";
        break;
      case Kind::kBytes:
        arg = "=SIZE";
        break;
      case Kind::kEnum:
        arg = absl::StrCat("=", absl::StrJoin(o.allowed, "|"));
        break;
      case Kind::kMappingList:
        arg = absl::StrCat(" (config file only: a list of {", absl::StrJoin(o.allowed, ", "), "})");
        break;
      default:
        arg = "=VALUE";
        break;
    }
    absl::StrAppend(&out, "  --", o.name, arg, "\n      ", o.help);
    if (o.kind == Kind::kStringList) absl::StrAppend(&out, " (repeatable)");
    if (!o.default_text.empty()) absl::StrAppend(&out, " [default: ", o.default_text, "]");
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace pse
