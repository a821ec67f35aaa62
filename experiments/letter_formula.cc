// Prints the letter tasks' gold-formula terms (tasks/letter_tasks.h) for
// each line of standard input, "TASK<TAB>PROMPT<TAB>RESPONSE" with TASK
// sort or reverse, as "IDEAL<TAB>MATCH<TAB>PENALTIES<TAB>REPETITION": the
// ideal response, the position match, length + foreign, and the gold
// network's repetition penalty, each to 17 significant digits. It lets
// experiments/gold_network.py's Python restatement of these terms be checked
// against the C++ the trainer runs (experiments/gold_network_test.py).
// Exit 2 naming the line when a line is not of that form.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tasks/letter_tasks.h"

namespace metarm {
namespace {

// The terms of one line, or an empty string when its task is unknown or its
// prompt is not one of that task's.
std::string Terms(const std::string& task, const std::string& prompt,
                  const std::string& response) {
  std::string ideal;
  if (task == "sort") {
    ideal = SortTask().IdealResponse(prompt);
  } else if (task == "reverse") {
    ideal = ReverseTask().IdealResponse(prompt);
  } else {
    return "";
  }
  if (ideal.empty()) return "";  // not a prompt of this task
  return absl::StrFormat(
      "%s\t%.17g\t%.17g\t%.17g", ideal, PositionMatch(ideal, response),
      LetterPenalties(ideal, response), LetterRepetition(ideal, response));
}

int Run() {
  std::string line;
  for (int number = 1; std::getline(std::cin, line); ++number) {
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    const std::string terms =
        fields.size() == 3 ? Terms(fields[0], fields[1], fields[2]) : "";
    if (terms.empty()) {
      std::cerr << "letter_formula: stdin line " << number
                << ": expected TASK<TAB>PROMPT<TAB>RESPONSE, TASK sort or "
                   "reverse and PROMPT one of its prompts\n";
      return 2;
    }
    std::cout << terms << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace metarm

int main() { return metarm::Run(); }
