#include "rlhf/resume_check.h"

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace metarm {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

// Collects the path of every differing field.
class PathCollector : public MessageDifferencer::Reporter {
 public:
  explicit PathCollector(std::vector<std::string>& paths) : paths_(paths) {}
  void ReportAdded(
      const Message&, const Message&,
      const std::vector<MessageDifferencer::SpecificField>& path) override {
    Add(path);
  }
  void ReportDeleted(
      const Message&, const Message&,
      const std::vector<MessageDifferencer::SpecificField>& path) override {
    Add(path);
  }
  void ReportModified(
      const Message&, const Message&,
      const std::vector<MessageDifferencer::SpecificField>& path) override {
    // A changed sub-message is also reported field by field: keep those.
    const auto* field = path.back().field;
    if (field != nullptr &&
        field->cpp_type() ==
            google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      return;
    }
    Add(path);
  }

 private:
  void Add(const std::vector<MessageDifferencer::SpecificField>& path) {
    std::vector<std::string> names;
    for (const auto& field : path) {
      if (field.field != nullptr) names.push_back(field.field->name());
    }
    paths_.push_back(absl::StrJoin(names, "."));
  }
  std::vector<std::string>& paths_;
};

// A copy of `job` without the fields that may change.
Job Comparable(const Job& job) {
  Job copy = job;
  copy.clear_name();
  copy.clear_output_dir();
  copy.clear_logging();
  copy.clear_checkpoint();
  copy.clear_eval();
  copy.clear_topology();
  copy.clear_rounds();
  // Micro-batches are layout too: the same steps, split into more forward
  // passes (a run moved to a smaller device may resume with smaller ones).
  copy.mutable_sft()->clear_micro_batch_size();
  copy.mutable_reward_training()->clear_micro_batch_size();
  copy.mutable_reward_training()->clear_meta_micro_batch_size();
  copy.mutable_ppo()->clear_micro_batch_size();
  // So is recomputing activations: the same gradients.
  copy.mutable_policy()->clear_activation_checkpointing();
  copy.mutable_reward_model()->clear_activation_checkpointing();
  // Not precision: bf16 and float32 runs are different experiments.
  return copy;
}

}  // namespace

std::vector<std::string> ResumeConflicts(const Job& saved, const Job& now,
                                         int checkpoint_round) {
  std::vector<std::string> conflicts;
  {
    PathCollector collector(conflicts);
    MessageDifferencer differencer;
    differencer.ReportDifferencesTo(&collector);
    differencer.Compare(Comparable(saved), Comparable(now));
  }  // the reporter flushes when the differencer goes
  if (static_cast<int>(now.rounds()) < checkpoint_round) {
    conflicts.push_back(absl::StrCat("rounds (", now.rounds(),
                                     ", the checkpoint is at round ",
                                     checkpoint_round, ")"));
  }
  return conflicts;
}

}  // namespace metarm
