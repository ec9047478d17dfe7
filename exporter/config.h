// OptionSet: command-line flags and a YAML config file over one option table.
//
// main.cc declares every option once (name without "--", storage, help); the
// same table parses the command line (--name=value, --name value, --flag,
// --no-flag) and a YAML file (--config.file) whose keys are the option names,
// either flat ("web.listen-address: ...") or nested ("web: {listen-address:
// ...}"). Flags win over the file: an option given on the command line is not
// taken from the file. Repeatable options replace the defaults with the values
// given (the command line's values replace the file's).
//
// Errors are absl::InvalidArgument statuses whose message names the flag, or
// the file, line and key. Not thread-safe; used once at start-up.
#ifndef PSE_EXPORTER_CONFIG_H_
#define PSE_EXPORTER_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace pse {

class OptionSet {
 public:
  // Checks one string value; a non-OK status's message says what is wrong
  // and is reported with the flag or the file, line and key.
  using Validator = std::function<absl::Status(absl::string_view value)>;

  void AddBool(std::string name, bool* target, std::string help);
  void AddString(std::string name, std::string* target, std::string help,
                 Validator validate = nullptr);
  void AddStringList(std::string name, std::vector<std::string>* target, std::string help,
                     Validator validate = nullptr);
  void AddDuration(std::string name, absl::Duration* target, std::string help);
  // Integers bind to any integral field (int, size_t, int64_t, ...), so a
  // module's Options struct is the one place that holds the default.
  template <typename T>
  void AddInt(std::string name, T* target, int64_t min, int64_t max, std::string help) {
    AddInteger(
        std::move(name), Kind::kInt, static_cast<int64_t>(*target),
        [target](int64_t v) { *target = static_cast<T>(v); }, min, max, std::move(help));
  }
  // Byte sizes accept suffixes KiB, MiB, GiB (and KB/MB/GB as powers of 1000).
  template <typename T>
  void AddBytes(std::string name, T* target, int64_t min, int64_t max, std::string help) {
    AddInteger(
        std::move(name), Kind::kBytes, static_cast<int64_t>(*target),
        [target](int64_t v) { *target = static_cast<T>(v); }, min, max, std::move(help));
  }
  // Choice among `allowed` values.
  void AddEnum(std::string name, std::string* target, std::vector<std::string> allowed,
               std::string help);

  // A list of mappings, set only in the config file, each with exactly the
  // string keys `keys`, e.g.
  //   sasl:
  //     reason_rules:
  //       - {match: "LDAP: invalid credentials", reason: bad_credentials}
  // `validate` checks one item; its error is reported with the file, line
  // and key of that item.
  using Mapping = std::map<std::string, std::string>;
  using MappingValidator = std::function<absl::Status(const Mapping& item)>;
  void AddMappingList(std::string name, std::vector<Mapping>* target, std::vector<std::string> keys,
                      std::string help, MappingValidator validate = nullptr);

  // Parses argv[1..]. Positional arguments are errors.
  absl::Status ParseArgs(int argc, const char* const* argv);
  // Loads a YAML file; options already set on the command line are kept.
  absl::Status LoadYamlFile(const std::string& path);
  // Usage text listing every option with its help and default.
  std::string Usage(absl::string_view program) const;
  bool WasSet(absl::string_view name) const { return set_on_cli_.contains(name); }

 private:
  enum class Kind { kBool, kString, kStringList, kDuration, kInt, kBytes, kEnum, kMappingList };
  struct Option {
    std::string name;
    Kind kind = Kind::kBool;
    void* target = nullptr;
    std::string help;
    std::string default_text;
    int64_t min = 0;
    int64_t max = 0;
    std::vector<std::string> allowed;
    Validator validate;
    std::function<void(int64_t)> set_integer;  // kInt, kBytes
    MappingValidator validate_mapping;         // kMappingList
  };

  Option& Add(std::string name, Kind kind, void* target, std::string help,
              std::string default_text);
  void AddInteger(std::string name, Kind kind, int64_t current, std::function<void(int64_t)> set,
                  int64_t min, int64_t max, std::string help);

  Option* Find(absl::string_view name);
  absl::Status SetMappingList(Option* o, const YAML::Node& list, const std::string& path,
                              const std::string& key);
  // Sets one value; `where` prefixes error messages ("flag --x" or "file:line: key x").
  absl::Status Set(Option* o, absl::string_view value, bool append, const std::string& where);

  std::vector<Option> options_;
  absl::flat_hash_set<std::string> set_on_cli_;
  absl::flat_hash_set<std::string> list_started_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_CONFIG_H_
