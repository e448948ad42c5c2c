// Optimiser kernels that run per parameter list in one native call (no per-tensor P/Invoke chatter).
#include "shim.h"
#include <cmath>

// Optimiser offload: a GPU parameter whose AdamW state is in host memory.
static bool offloaded(const at::Tensor& on_device, const at::Tensor& state) {
  return on_device.is_cuda() && state.device().is_cpu();
}

// src copied into page-locked host memory as dtype. Offload crosses between the devices in the parameter's own dtype
// (bf16 moves half the bytes of fp32) through such memory, which the copy engine reads and writes without a staging
// copy of its own (the caching host allocator keeps the blocks between steps); widening and rounding happen on the
// host, with the same values as on the GPU.
static at::Tensor pinned(const at::Tensor& src, at::ScalarType dtype) {
  at::Tensor staged = at::empty(src.sizes(), src.options().dtype(dtype).device(at::kCPU).pinned_memory(true));
  staged.copy_(src);
  return staged;
}

// AdamW with decoupled weight decay and bias correction (Loshchilov & Hutter; torch.optim.AdamW).
// masters[i], when not null, is the fp32 master copy of a low-precision parameter: the update runs
// on it and the result is copied back into params[i]. Parameters without a gradient are skipped.
FCT_API int fct_adamw_step(T* params, T* masters, T* exp_avgs, T* exp_avg_sqs, int n, double lr, double beta1,
                           double beta2, double eps, double weight_decay, int64_t step) {
  FCT_STATUS({
    at::NoGradGuard no_grad;
    const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
    const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    for (int i = 0; i < n; ++i) {
      const at::Tensor& grad_ref = params[i]->grad();
      if (!grad_ref.defined()) continue;
      at::Tensor param = masters && masters[i] ? *masters[i] : params[i]->detach();
      // The state may live on another device (optimiser offload: masters and moments in host memory).
      at::Tensor grad = grad_ref.scalar_type() == param.scalar_type() && grad_ref.device() == param.device()
                            ? grad_ref
                            : offloaded(grad_ref, param) ? pinned(grad_ref, grad_ref.scalar_type()).to(param.scalar_type())
                                                         : grad_ref.to(param.device(), param.scalar_type());
      at::Tensor& exp_avg = *exp_avgs[i];
      at::Tensor& exp_avg_sq = *exp_avg_sqs[i];
      if (weight_decay != 0) param.mul_(1.0 - lr * weight_decay);
      exp_avg.lerp_(grad, 1.0 - beta1);
      exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1.0 - beta2);
      at::Tensor denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
      param.addcdiv_(exp_avg, denom, -step_size);
      if (masters && masters[i]) {
        at::Tensor target = params[i]->detach();
        target.copy_(offloaded(target, param) ? pinned(param, target.scalar_type()) : param);
      }
    }
  });
}

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm before
// clipping in *total (NaN or inf when a gradient is not finite, which the caller must check).
FCT_API int fct_clip_grad_norm(T* params, int n, double max_norm, double* total) {
  FCT_STATUS({
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> norms;
    std::vector<at::Tensor> grads;
    for (int i = 0; i < n; ++i) {
      const at::Tensor& g = params[i]->grad();
      if (!g.defined()) continue;
      grads.push_back(g);
      norms.push_back(g.detach().norm(2.0).to(at::kDouble));
    }
    if (grads.empty()) {
      *total = 0;
      return 0;
    }
    at::Tensor total_norm = at::stack(norms).norm(2.0);
    *total = total_norm.item<double>();
    if (max_norm > 0) {
      double coef = max_norm / (*total + 1e-6);
      if (coef < 1.0)
        for (auto& g : grads) g.detach().mul_(coef);
    }
  });
}
