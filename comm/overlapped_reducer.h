// Gradient all-reduce that overlaps backward, as PyTorch DDP does: the
// parameters are packed, in the reverse of their registration order (about
// the order backward produces their gradients), into buckets of about
// `bucket_bytes` (comm/bucket_plan.h); a hook on each parameter copies its
// gradient into its bucket as backward produces it, and a full bucket goes to a
// communication thread, which all-reduces it while backward goes on with the
// layers below.
//
//   OverlappedGradientReducer reducer(model->parameters(), learners,
//                                     ReduceOp::kAverage);
//   loss.backward();                          // buckets reduce meanwhile
//   METARM_RETURN_IF_ERROR(reducer.Finish());  // .grad holds the average
//   optimizer.step();
//
// Every rank must run the same backward (the same graph), so that buckets
// fill in the same order everywhere; the communication thread then issues
// the same collectives in the same order on every rank. Only that thread
// talks to `group` between the first hook and Finish (MPI is initialised
// MPI_THREAD_SERIALIZED). A parameter that gets no gradient counts as zeros;
// its bucket is reduced in Finish. The reduced values equal
// AllReduceTensors' of the same gradients (element for element the same
// reduction).
#ifndef METARM_COMM_OVERLAPPED_REDUCER_H_
#define METARM_COMM_OVERLAPPED_REDUCER_H_

#include <torch/torch.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "comm/bucket_plan.h"
#include "comm/communicator.h"

namespace metarm {

class OverlappedGradientReducer {
 public:
  OverlappedGradientReducer(std::vector<torch::Tensor> parameters,
                            Communicator& group, ReduceOp op,
                            int64_t bucket_bytes = kDefaultBucketBytes);
  // Stops the thread and takes the hooks off the parameters.
  ~OverlappedGradientReducer();
  OverlappedGradientReducer(const OverlappedGradientReducer&) = delete;
  OverlappedGradientReducer& operator=(const OverlappedGradientReducer&) =
      delete;

  // After backward: waits for the buckets in flight, reduces those that did
  // not fill, and writes every parameter's reduced gradient into its .grad.
  // Then ready for the next backward.
  absl::Status Finish();

  int buckets() const { return static_cast<int>(buckets_.size()); }
  // Seconds Finish spent waiting for communication that backward did not
  // hide, summed since construction.
  double waited_seconds() const { return waited_seconds_; }

 private:
  struct Slot {
    int bucket = 0;
    int64_t offset = 0;  // in the bucket's flat buffer
  };
  struct Bucket {
    torch::Tensor buffer;  // flat, the parameters' dtype
    std::vector<int> members;
    int ready = 0;
    bool queued = false;
  };

  void OnGradient(int parameter, const torch::Tensor& grad);
  void Enqueue(int bucket);  // holds mutex_
  void CommunicationLoop();

  std::vector<torch::Tensor> parameters_;
  std::vector<unsigned> hooks_;  // register_hook's handles, per parameter
  std::vector<Slot> slots_;
  std::vector<bool> arrived_;
  std::vector<Bucket> buckets_;
  Communicator& group_;
  ReduceOp op_;
  double waited_seconds_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<int> queue_;
  int in_flight_ = 0;
  absl::Status status_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace metarm

#endif  // METARM_COMM_OVERLAPPED_REDUCER_H_
