// Checks a command line against the registered Abseil flags before
// absl::ParseCommandLine sees it, so that an unknown flag or a malformed
// value is reported by the caller (exit code 2, once per job) instead of
// absl's own exit(1) on every rank.
//
//   std::vector<std::string> problems = CheckCommandLine(argc, argv);
#ifndef METARM_TRAINER_COMMAND_LINE_H_
#define METARM_TRAINER_COMMAND_LINE_H_

#include <string>
#include <vector>

namespace metarm {

// One line per problem: "flag --x: unknown flag", "flag --seed: <reason>",
// "unexpected argument 'foo'". Empty when the command line is fine.
std::vector<std::string> CheckCommandLine(int argc, char** argv);

}  // namespace metarm

#endif  // METARM_TRAINER_COMMAND_LINE_H_
