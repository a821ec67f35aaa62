#include "util/cuda_device_memory.h"

#include <dlfcn.h>

#include <cstddef>

#include "absl/strings/str_cat.h"

namespace metarm {
namespace {

// The three driver entry points used, with the driver API's C types
// (CUresult and CUdevice are ints; 0 is CUDA_SUCCESS).
using CuInit = int (*)(unsigned int flags);
using CuDeviceGet = int (*)(int* device, int ordinal);
using CuDeviceTotalMem = int (*)(size_t* bytes, int device);

// dlopen / dlclose as one object.
class SharedLibrary {
 public:
  explicit SharedLibrary(const char* name)
      : handle_(dlopen(name, RTLD_NOW | RTLD_LOCAL)) {}
  ~SharedLibrary() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  bool loaded() const { return handle_ != nullptr; }
  template <typename Function>
  Function Find(const char* symbol) const {
    return reinterpret_cast<Function>(dlsym(handle_, symbol));
  }

 private:
  void* handle_;
};

}  // namespace

absl::StatusOr<double> CudaDeviceTotalBytes(int index) {
  SharedLibrary driver("libcuda.so.1");
  if (!driver.loaded()) {
    return absl::UnavailableError("no CUDA driver here (libcuda.so.1)");
  }
  const auto init = driver.Find<CuInit>("cuInit");
  const auto device_get = driver.Find<CuDeviceGet>("cuDeviceGet");
  const auto total_mem = driver.Find<CuDeviceTotalMem>("cuDeviceTotalMem_v2");
  if (init == nullptr || device_get == nullptr || total_mem == nullptr) {
    return absl::UnavailableError(
        "the CUDA driver (libcuda.so.1) lacks cuDeviceTotalMem_v2");
  }
  int device = 0;
  size_t bytes = 0;
  if (const int error = init(0); error != 0) {
    return absl::UnavailableError(absl::StrCat(
        "the CUDA driver did not start (cuInit: error ", error, ")"));
  }
  if (device_get(&device, index) != 0 || total_mem(&bytes, device) != 0) {
    return absl::UnavailableError(
        absl::StrCat("the CUDA driver has no device ", index));
  }
  return static_cast<double>(bytes);
}

}  // namespace metarm
