#include "comm/overlapped_reducer.h"

#include <chrono>

#include "comm/bucket_plan.h"

namespace metarm {

OverlappedGradientReducer::OverlappedGradientReducer(
    std::vector<torch::Tensor> parameters, Communicator& group, ReduceOp op,
    int64_t bucket_bytes)
    : parameters_(std::move(parameters)),
      slots_(parameters_.size()),
      arrived_(parameters_.size(), false),
      group_(group),
      op_(op) {
  // Buckets in reverse registration order: the last layers' gradients come
  // first in backward. Every gradient is packed (its hook copies it into the
  // bucket's buffer).
  for (const TensorBucket& planned :
       PlanBuckets(parameters_, ReverseOrder(parameters_.size()), bucket_bytes,
                   LargeTensors::kPacked)) {
    Bucket& bucket = buckets_.emplace_back();
    int64_t offset = 0;
    for (size_t i : planned.members) {
      slots_[i] = {static_cast<int>(buckets_.size()) - 1, offset};
      bucket.members.push_back(static_cast<int>(i));
      offset += parameters_[i].numel();
    }
  }
  for (Bucket& bucket : buckets_) {
    int64_t elements = 0;
    for (int member : bucket.members) elements += parameters_[member].numel();
    bucket.buffer =
        torch::zeros({elements}, parameters_[bucket.members.front()].options());
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const int index = static_cast<int>(i);
    hooks_.push_back(parameters_[i].register_hook(
        [this, index](torch::Tensor grad) { OnGradient(index, grad); }));
  }
  thread_ = std::thread([this] { CommunicationLoop(); });
}

OverlappedGradientReducer::~OverlappedGradientReducer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  for (size_t i = 0; i < parameters_.size(); ++i) {
    parameters_[i].remove_hook(hooks_[i]);
  }
}

void OverlappedGradientReducer::OnGradient(int parameter,
                                           const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_ || arrived_[parameter]) return;
  const Slot& slot = slots_[parameter];
  Bucket& bucket = buckets_[slot.bucket];
  bucket.buffer.narrow(0, slot.offset, grad.numel())
      .copy_(grad.detach().reshape(-1));
  arrived_[parameter] = true;
  if (++bucket.ready == static_cast<int>(bucket.members.size())) {
    Enqueue(slot.bucket);
  }
}

void OverlappedGradientReducer::Enqueue(int bucket) {
  buckets_[bucket].queued = true;
  queue_.push_back(bucket);
  ++in_flight_;
  changed_.notify_all();
}

void OverlappedGradientReducer::CommunicationLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const int bucket = queue_.front();
    queue_.pop_front();
    torch::Tensor buffer = buckets_[bucket].buffer;
    lock.unlock();
    // The hooks of other buckets run meanwhile; this buffer is full and no
    // hook writes to it again before Finish.
    absl::Status status =
        status_.ok() ? group_.AllReduce(buffer, op_) : absl::OkStatus();
    lock.lock();
    if (!status.ok() && status_.ok()) status_ = status;
    --in_flight_;
    changed_.notify_all();
  }
}

absl::Status OverlappedGradientReducer::Finish() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  // Buckets that did not fill (parameters without a gradient count as
  // zeros) go to the thread too, in bucket order, the same on every rank.
  for (size_t b = 0; b < buckets_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    if (bucket.queued) continue;
    for (int member : bucket.members) {
      if (!arrived_[member]) {
        bucket.buffer
            .narrow(0, slots_[member].offset, parameters_[member].numel())
            .zero_();
      }
    }
    Enqueue(static_cast<int>(b));
  }
  changed_.wait(lock, [this] { return in_flight_ == 0; });
  waited_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  absl::Status status = status_;
  status_ = absl::OkStatus();
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const Slot& slot = slots_[i];
    torch::Tensor& grad = parameters_[i].mutable_grad();
    torch::Tensor reduced =
        buckets_[slot.bucket]
            .buffer.narrow(0, slot.offset, parameters_[i].numel())
            .view_as(parameters_[i]);
    if (grad.defined()) {
      grad.copy_(reduced);
    } else {
      grad = reduced.clone();
    }
    arrived_[i] = false;
  }
  for (Bucket& bucket : buckets_) {
    bucket.ready = 0;
    bucket.queued = false;
  }
  return status;
}

}  // namespace metarm
