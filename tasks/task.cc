#include "tasks/task.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tasks/letter_tasks.h"

namespace metarm {

std::vector<std::string> TestbedTaskNames() {
  return {"sort", "reverse", "sort_ngram", "reverse_ngram"};
}

absl::StatusOr<std::unique_ptr<Task>> MakeTask(const std::string& name) {
  if (name == "sort") return std::make_unique<SortTask>();
  if (name == "reverse") return std::make_unique<ReverseTask>();
  if (name == "sort_ngram") {
    return std::make_unique<SortTask>(LetterMatch::kNgram);
  }
  if (name == "reverse_ngram") {
    return std::make_unique<ReverseTask>(LetterMatch::kNgram);
  }
  return absl::NotFoundError(
      absl::StrCat("unknown task \"", name,
                   "\", one of: ", absl::StrJoin(TestbedTaskNames(), ", ")));
}

}  // namespace metarm
