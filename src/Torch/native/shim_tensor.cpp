// Tensor lifetime, properties, creation, host copies, conversions and autograd plumbing.
#include "shim.h"
#include <ATen/CPUGeneratorImpl.h>
#include <cstring>

namespace {
at::TensorOptions options(int dtype, int devtype, int devidx) {
  return at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)).device(fct::device(devtype, devidx));
}
}  // namespace

FCT_API void fct_free(T t) { delete t; }

FCT_API int fct_dim(T t) { return static_cast<int>(t->dim()); }
FCT_API int64_t fct_numel(T t) { return t->numel(); }
FCT_API int fct_shape(T t, int64_t* out, int capacity) {
  int n = static_cast<int>(t->dim());
  for (int i = 0; i < n && i < capacity; ++i) out[i] = t->size(i);
  return n;
}
FCT_API int fct_dtype(T t) { return static_cast<int>(t->scalar_type()); }
FCT_API int fct_device_type(T t) { return t->device().is_cuda() ? 1 : 0; }
FCT_API int fct_device_index(T t) { return t->device().has_index() ? t->device().index() : 0; }
FCT_API int fct_requires_grad(T t) { return t->requires_grad() ? 1 : 0; }
FCT_API int fct_is_contiguous(T t) { return t->is_contiguous() ? 1 : 0; }
FCT_API int fct_is_leaf(T t) { return t->is_leaf() ? 1 : 0; }
FCT_API int64_t fct_element_size(T t) { return static_cast<int64_t>(t->element_size()); }

// Copies host memory into a new tensor (the caller keeps ownership of data).
FCT_API T fct_from_data(const void* data, const int64_t* shape, int ndim, int dtype, int devtype, int devidx) {
  try {
    at::Tensor cpu = at::empty(fct::dims(shape, ndim), options(dtype, 0, 0));
    std::memcpy(cpu.data_ptr(), data, cpu.numel() * cpu.element_size());
    if (devtype == 0) return new at::Tensor(std::move(cpu));
    return new at::Tensor(cpu.to(fct::device(devtype, devidx)));
  }
  FCT_CATCH(nullptr)
}

// Copies a tensor's elements (any device, any layout) into host memory of exactly nbytes.
FCT_API int fct_copy_to_host(T t, void* dst, int64_t nbytes) {
  FCT_STATUS({
    at::Tensor c = t->detach().to(at::kCPU).contiguous();
    int64_t size = c.numel() * c.element_size();
    if (size != nbytes) throw std::invalid_argument("destination holds " + std::to_string(nbytes) +
                                                    " bytes, tensor has " + std::to_string(size));
    std::memcpy(dst, c.data_ptr(), size);
  });
}

// Raw pointer to a CPU contiguous tensor's data, for zero-copy spans; null with an error otherwise.
FCT_API void* fct_data_ptr(T t) {
  try {
    if (!t->device().is_cpu()) throw std::invalid_argument("data pointer requires a CPU tensor");
    if (!t->is_contiguous()) throw std::invalid_argument("data pointer requires a contiguous tensor");
    return t->data_ptr();
  }
  FCT_CATCH(nullptr)
}

FCT_API int fct_item_double(T t, double* out) { FCT_STATUS(*out = t->item<double>()); }
FCT_API int fct_item_long(T t, int64_t* out) { FCT_STATUS(*out = t->item<int64_t>()); }

FCT_API T fct_empty(const int64_t* shape, int ndim, int dtype, int devtype, int devidx) {
  FCT_TENSOR(at::empty(fct::dims(shape, ndim), options(dtype, devtype, devidx)));
}
FCT_API T fct_full(const int64_t* shape, int ndim, double value, int dtype, int devtype, int devidx) {
  FCT_TENSOR(at::full(fct::dims(shape, ndim), value, options(dtype, devtype, devidx)));
}
FCT_API T fct_arange(double start, double end, double step, int dtype, int devtype, int devidx) {
  FCT_TENSOR(at::arange(start, end, step, options(dtype, devtype, devidx)));
}
FCT_API T fct_randn(const int64_t* shape, int ndim, int dtype, int devtype, int devidx) {
  FCT_TENSOR(at::randn(fct::dims(shape, ndim), options(dtype, devtype, devidx)));
}
FCT_API T fct_rand(const int64_t* shape, int ndim, int dtype, int devtype, int devidx) {
  FCT_TENSOR(at::rand(fct::dims(shape, ndim), options(dtype, devtype, devidx)));
}
FCT_API T fct_randint(int64_t low, int64_t high, const int64_t* shape, int ndim, int dtype, int devtype, int devidx) {
  FCT_TENSOR(at::randint(low, high, fct::dims(shape, ndim), options(dtype, devtype, devidx)));
}

FCT_API T fct_to_dtype(T t, int dtype) { FCT_TENSOR(t->to(static_cast<at::ScalarType>(dtype))); }
FCT_API T fct_to_device(T t, int devtype, int devidx) { FCT_TENSOR(t->to(fct::device(devtype, devidx))); }
FCT_API T fct_clone(T t) { FCT_TENSOR(t->clone()); }
FCT_API T fct_detach(T t) { FCT_TENSOR(t->detach()); }
FCT_API T fct_alias(T t) { FCT_TENSOR(at::Tensor(*t)); }

// ---- autograd ----
FCT_API int fct_set_requires_grad(T t, int on) { FCT_STATUS(t->requires_grad_(on != 0)); }

// Writes the gradient into *out, or nullptr when the tensor has none.
FCT_API int fct_grad(T t, T* out) {
  FCT_STATUS({
    const at::Tensor& g = t->grad();
    *out = g.defined() ? new at::Tensor(g) : nullptr;
  });
}

FCT_API int fct_set_grad(T t, T grad) {
  FCT_STATUS({
    if (grad) {
      // The same checks as PyTorch's `.grad =` setter: a mis-shaped gradient would otherwise be
      // broadcast silently by the optimiser.
      TORCH_CHECK(grad->sizes() == t->sizes(), "assigned grad has data of a different size: ", grad->sizes(), " for a tensor of size ", t->sizes());
      TORCH_CHECK(grad->scalar_type() == t->scalar_type(), "assigned grad has data of a different type: ", grad->scalar_type(), " for a tensor of type ", t->scalar_type());
      TORCH_CHECK(grad->device() == t->device(), "assigned grad has data located on a different device");
      t->mutable_grad() = *grad;
    }
    else t->mutable_grad().reset();
  });
}

FCT_API int fct_backward(T t, T grad, int retain_graph) {
  FCT_STATUS(t->backward(grad ? *grad : at::Tensor(), retain_graph != 0 ? c10::optional<bool>(true) : c10::nullopt));
}

// set_to_none releases gradient memory (PyTorch 2.x's default); otherwise zero in place.
FCT_API int fct_zero_grad(T* ts, int n, int set_to_none) {
  FCT_STATUS({
    for (int i = 0; i < n; ++i) {
      at::Tensor& g = ts[i]->mutable_grad();
      if (!g.defined()) continue;
      if (set_to_none) g.reset();
      else g.detach_().zero_();
    }
  });
}

// ---- random state (for checkpoints) ----
FCT_API T fct_rng_get_state() {
  try {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return new at::Tensor(gen.get_state());
  }
  FCT_CATCH(nullptr)
}
FCT_API int fct_rng_set_state(T state) {
  FCT_STATUS({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(*state);
  });
}
