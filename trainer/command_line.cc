#include "trainer/command_line.h"

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace metarm {
namespace {

// Flags Abseil handles itself (help and usage).
bool IsBuiltinFlag(absl::string_view name) {
  return name == "help" || name == "helpfull" || name == "helpshort" ||
         name == "helppackage" || name == "version" ||
         name == "only_check_args";
}

// Checks one "--name[=value]" argument; `next` is the following argument, used
// as the value of a non-boolean flag written "--name value". Sets
// *consumed_next when it was.
void CheckFlag(absl::string_view argument, const char* next,
               bool* consumed_next, std::vector<std::string>& problems) {
  absl::string_view body = argument;
  body.remove_prefix(absl::StartsWith(body, "--") ? 2 : 1);
  absl::string_view name = body;
  absl::string_view value;
  bool has_value = false;
  if (size_t equals = body.find('='); equals != absl::string_view::npos) {
    name = body.substr(0, equals);
    value = body.substr(equals + 1);
    has_value = true;
  }
  if (IsBuiltinFlag(name)) return;
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr && absl::StartsWith(name, "no") && !has_value) {
    absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
    if (negated != nullptr && negated->IsOfType<bool>()) return;
  }
  if (flag == nullptr) {
    problems.push_back(absl::StrCat("flag --", name, ": unknown flag"));
    return;
  }
  if (!has_value) {
    if (flag->IsOfType<bool>()) return;
    if (next == nullptr) {
      problems.push_back(absl::StrCat("flag --", name, ": missing value"));
      return;
    }
    value = next;
    *consumed_next = true;
  }
  // Parses into a copy of the default, leaving the flag itself alone.
  std::string error;
  std::string current = flag->CurrentValue();
  if (!flag->ParseFrom(value, &error)) {
    problems.push_back(absl::StrCat("flag --", name, ": ", error));
  }
  flag->ParseFrom(current, &error);
}

}  // namespace

std::vector<std::string> CheckCommandLine(int argc, char** argv) {
  std::vector<std::string> problems;
  for (int i = 1; i < argc; ++i) {
    absl::string_view argument = argv[i];
    if (argument == "--") break;
    if (argument.size() < 2 || argument[0] != '-') {
      problems.push_back(absl::StrCat("unexpected argument '", argument, "'"));
      continue;
    }
    bool consumed_next = false;
    CheckFlag(argument, i + 1 < argc ? argv[i + 1] : nullptr, &consumed_next,
              problems);
    if (consumed_next) ++i;
  }
  return problems;
}

}  // namespace metarm
