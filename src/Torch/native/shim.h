// Common declarations of the FuseChat libtorch shim: a C ABI, one function per operation.
// Every function catches C++ exceptions, stores the message in a thread-local slot
// (fct_last_error) and returns nullptr / -1, so that the .NET side can raise it as an exception.
#pragma once
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>  // at::GradMode, at::NoGradGuard: no longer reached through ATen.h in 2.x
#include <torch/csrc/api/include/torch/version.h>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#define FCT_API extern "C" __attribute__((visibility("default")))

#if TORCH_VERSION_MAJOR >= 2
#define FCT_HAS_SDPA 1
#else
#define FCT_HAS_SDPA 0
#endif

namespace fct {
void set_error(const char* message);
void clear_error();
// The .NET side passes every scalar as a double. An integral value applied to an integer or bool
// tensor becomes an integer Scalar, so that `ids + 1` stays int64 as in PyTorch (a double Scalar
// would promote the result to float).
inline at::Scalar scalar(const at::Tensor& t, double s) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true) && std::trunc(s) == s && std::fabs(s) < 9.0e18)
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}
inline at::IntArrayRef dims(const int64_t* p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
at::Device device(int type, int index);
inline std::vector<at::Tensor> list(at::Tensor** ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v.push_back(*ts[i]);
  return v;
}
}  // namespace fct

using T = at::Tensor*;

// c10::Error carries a C++ backtrace that is useless to a .NET user: keep only the message.
#define FCT_CATCH(fail)                                                 \
  catch (const c10::Error& e) {                                         \
    fct::set_error(e.what_without_backtrace());                         \
    return fail;                                                        \
  }                                                                     \
  catch (const std::exception& e) {                                     \
    fct::set_error(e.what());                                           \
    return fail;                                                        \
  }                                                                     \
  catch (...) {                                                         \
    fct::set_error("unknown native error");                             \
    return fail;                                                        \
  }

// Wraps an expression producing an at::Tensor into a new owned handle.
#define FCT_TENSOR(expr)                  \
  try {                                   \
    return new at::Tensor(expr);          \
  }                                       \
  FCT_CATCH(nullptr)

// Wraps a statement block; returns 0 on success, -1 on error.
#define FCT_STATUS(block) \
  try {                   \
    block;                \
    return 0;             \
  }                       \
  FCT_CATCH(-1)
