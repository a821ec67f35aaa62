#include "model/mixed_precision.h"

#include <ATen/autocast_mode.h>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

// LibTorch 2.4 replaced the per-device autocast functions (deprecated
// since) with ones that take the device type; Debian's 1.13 has only the
// old ones.
#if defined(TORCH_VERSION_MAJOR) && \
    (TORCH_VERSION_MAJOR > 2 ||     \
     (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
#define METARM_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace metarm {
namespace {

bool AutocastEnabled(at::DeviceType type) {
#ifdef METARM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == at::kCUDA ? at::autocast::is_enabled()
                           : at::autocast::is_cpu_enabled();
#endif
}

void SetAutocastEnabled(at::DeviceType type, bool enabled) {
#ifdef METARM_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == at::kCUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

at::ScalarType AutocastDtype(at::DeviceType type) {
#ifdef METARM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == at::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                           : at::autocast::get_autocast_cpu_dtype();
#endif
}

void SetAutocastDtype(at::DeviceType type, at::ScalarType dtype) {
#ifdef METARM_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == at::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

AutocastState AutocastState::Now() {
  AutocastState state;
  state.cpu = AutocastEnabled(at::kCPU);
  state.gpu = AutocastEnabled(at::kCUDA);
  state.cpu_dtype = AutocastDtype(at::kCPU);
  state.gpu_dtype = AutocastDtype(at::kCUDA);
  return state;
}

void AutocastState::Apply() const {
  SetAutocastEnabled(at::kCPU, cpu);
  SetAutocastEnabled(at::kCUDA, gpu);
  SetAutocastDtype(at::kCPU, cpu_dtype);
  SetAutocastDtype(at::kCUDA, gpu_dtype);
}

namespace {

AutocastState Bf16On(const torch::Device& device) {
  AutocastState state = AutocastState::Now();
  if (device.is_cuda()) {
    state.gpu = true;
    state.gpu_dtype = at::kBFloat16;
  } else {
    state.cpu = true;
    state.cpu_dtype = at::kBFloat16;
  }
  return state;
}

}  // namespace

ScopedAutocast::ScopedAutocast(const torch::Device& device, bool enabled) {
  if (!enabled) return;
  changed_ = true;
  saved_ = AutocastState::Now();
  Bf16On(device).Apply();
  at::autocast::increment_nesting();
}

ScopedAutocast::ScopedAutocast(const AutocastState& state) {
  changed_ = true;
  saved_ = AutocastState::Now();
  state.Apply();
  at::autocast::increment_nesting();
}

ScopedAutocast::~ScopedAutocast() {
  if (!changed_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  saved_.Apply();
}

torch::Tensor AtLeastFloat32(const torch::Tensor& t) {
  const at::ScalarType type = t.scalar_type();
  return type == at::kBFloat16 || type == at::kHalf ? t.to(at::kFloat) : t;
}

}  // namespace metarm
