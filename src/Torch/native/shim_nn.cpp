// Neural-network building blocks: activations with dims, losses, attention, embedding, sampling.
#include "shim.h"

FCT_API T fct_softmax(T t, int64_t dim) { FCT_TENSOR(at::softmax(*t, dim)); }
FCT_API T fct_log_softmax(T t, int64_t dim) { FCT_TENSOR(at::log_softmax(*t, dim)); }
// padding_idx -1: none; otherwise that row gets no gradient from the lookup (nn.Embedding's padding_idx).
FCT_API T fct_embedding(T weight, T indices, int64_t padding_idx) { FCT_TENSOR(at::embedding(*weight, *indices, padding_idx)); }
FCT_API T fct_dropout(T t, double p, int train) { FCT_TENSOR(at::dropout(*t, p, train != 0)); }
FCT_API T fct_multinomial(T probs, int64_t n, int replacement) { FCT_TENSOR(at::multinomial(*probs, n, replacement != 0)); }

// reduction: 0 none, 1 mean, 2 sum (at::Reduction).
FCT_API T fct_cross_entropy(T logits, T target, int64_t ignore_index, int reduction, double label_smoothing) {
  FCT_TENSOR(at::cross_entropy_loss(*logits, *target, c10::nullopt, reduction, ignore_index, label_smoothing));
}

// Root-mean-square normalisation over the last dimension, composed from differentiable ops.
// Like Hugging Face's LlamaRMSNorm, low-precision inputs are normalised in fp32 and rounded once
// before the weight is applied.
FCT_API T fct_rms_norm(T x, T weight, double eps) {
  try {
    const bool low = x->scalar_type() == at::kBFloat16 || x->scalar_type() == at::kHalf;
    at::Tensor h = low ? x->to(at::kFloat) : *x;
    at::Tensor normed = h * at::rsqrt(h.pow(2).mean(-1, true) + eps);
    return new at::Tensor(*weight * (low ? normed.to(x->scalar_type()) : normed));
  }
  FCT_CATCH(nullptr)
}

// Attention over [batch, heads, length, head_dim]. mask (optional) is boolean (true = attend) or
// additive. Causal masking is aligned bottom-right (query i of Lq sees keys up to Lk - Lq + i), which is
// what a KV cache needs; PyTorch's fused is_causal aligns top-left, so it is used only when Lq == Lk.
// libtorch 2.x has a fused kernel; 1.13 composes it from matmul and softmax.
FCT_API T fct_sdpa(T q, T k, T v, T mask, int is_causal, double scale) {
  try {
    const int64_t lq = q->size(-2), lk = k->size(-2);
#if FCT_HAS_SDPA
    if (scale <= 0 && (!is_causal || (lq == lk && !mask))) {
      return new at::Tensor(at::scaled_dot_product_attention(*q, *k, *v, mask ? c10::optional<at::Tensor>(*mask) : c10::nullopt,
                                                             0.0, is_causal != 0));
    }
#endif
    double s = scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(q->size(-1)));
    at::Tensor scores = at::matmul(*q, k->transpose(-2, -1)) * s;
    if (is_causal) {
      at::Tensor causal = at::ones({lq, lk}, q->options().dtype(at::kBool)).tril(lk - lq);
      scores = scores.masked_fill(causal.logical_not(), -std::numeric_limits<double>::infinity());
    }
    if (mask) {
      if (mask->scalar_type() == at::kBool)
        scores = scores.masked_fill(mask->logical_not(), -std::numeric_limits<double>::infinity());
      else
        scores = scores + *mask;
    }
    return new at::Tensor(at::matmul(at::softmax(scores, -1), *v));
  }
  FCT_CATCH(nullptr)
}

// Indices of non-zero elements, [count, dims] (int64).
FCT_API T fct_nonzero(T t) { FCT_TENSOR(t->nonzero()); }

// A copy of t with source rows added at index along dim (differentiable; used by mixture-of-experts).
FCT_API T fct_index_add(T t, int64_t dim, T index, T source) { FCT_TENSOR(t->index_add(dim, *index, *source)); }
