// Runtime-wide settings: errors, versions, devices, threads, seeds, determinism, grad mode.
#include "shim.h"
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#ifdef FUSECHAT_DEVICE_STATS
#include <ATen/DeviceAccelerator.h>
#endif

namespace {
thread_local std::string last_error;
}

void fct::set_error(const char* message) { last_error = message ? message : ""; }
void fct::clear_error() { last_error.clear(); }

at::Device fct::device(int type, int index) {
  if (type == 0) return at::Device(at::kCPU);
  if (type == 1) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  throw std::invalid_argument("unknown device type " + std::to_string(type));
}

FCT_API const char* fct_last_error() { return last_error.c_str(); }

FCT_API int fct_version(int* major, int* minor, int* patch) {
  *major = TORCH_VERSION_MAJOR;
  *minor = TORCH_VERSION_MINOR;
  *patch = TORCH_VERSION_PATCH;
  return 0;
}

FCT_API int fct_has_sdpa() { return FCT_HAS_SDPA; }

FCT_API int fct_cuda_device_count() {
  try {
    return at::detail::getCUDAHooks().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  }
  FCT_CATCH(0)
}

// The caching allocator's byte counts of an accelerator (CUDA): what live tensors hold now and at most since the
// last reset. 1 when known; 0 when this build has no device statistics (libtorch before 2.9) or there is no
// accelerator; -1 on error.
FCT_API int fct_device_memory(int device_index, int reset_peak, int64_t* allocated, int64_t* peak) {
#ifdef FUSECHAT_DEVICE_STATS
  try {
    auto accelerator = at::accelerator::getAccelerator(false);
    if (!accelerator.has_value()) return 0;
    auto index = static_cast<c10::DeviceIndex>(device_index);
    auto* allocator = c10::getDeviceAllocator(*accelerator);
    if (!allocator->initialized()) {
      *allocated = 0;
      *peak = 0;
      return 1;
    }
    if (reset_peak != 0) allocator->resetPeakStats(index);
    const auto stats = allocator->getDeviceStats(index);
    const auto& all = stats.allocated_bytes[0];  // StatType::AGGREGATE, whose namespace moved between releases
    *allocated = all.current;
    *peak = all.peak;
    return 1;
  }
  FCT_CATCH(-1)
#else
  (void)device_index;
  (void)reset_peak;
  (void)allocated;
  (void)peak;
  return 0;
#endif
}

FCT_API void fct_set_num_threads(int n) { at::set_num_threads(n); }
FCT_API int fct_get_num_threads() { return at::get_num_threads(); }
FCT_API int fct_set_num_interop_threads(int n) { FCT_STATUS(at::set_num_interop_threads(n)); }

FCT_API void fct_manual_seed(uint64_t seed) { at::manual_seed(seed); }

FCT_API int fct_set_deterministic(int on) {
  FCT_STATUS(at::globalContext().setDeterministicAlgorithms(on != 0, false);
             at::globalContext().setBenchmarkCuDNN(false);
             at::globalContext().setDeterministicCuDNN(on != 0));
}

FCT_API int fct_is_grad_enabled() { return at::GradMode::is_enabled() ? 1 : 0; }

FCT_API int fct_set_grad_enabled(int on) {
  int previous = at::GradMode::is_enabled() ? 1 : 0;
  at::GradMode::set_enabled(on != 0);
  return previous;
}
