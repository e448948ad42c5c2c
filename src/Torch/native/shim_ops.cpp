// Views, indexing, element-wise arithmetic, comparisons and reductions.
#include "shim.h"

// ---- views and indexing ----
FCT_API T fct_reshape(T t, const int64_t* s, int n) { FCT_TENSOR(t->reshape(fct::dims(s, n))); }
FCT_API T fct_view(T t, const int64_t* s, int n) { FCT_TENSOR(t->view(fct::dims(s, n))); }
FCT_API T fct_transpose(T t, int64_t a, int64_t b) { FCT_TENSOR(t->transpose(a, b)); }
FCT_API T fct_permute(T t, const int64_t* d, int n) { FCT_TENSOR(t->permute(fct::dims(d, n))); }
FCT_API T fct_narrow(T t, int64_t dim, int64_t start, int64_t length) { FCT_TENSOR(t->narrow(dim, start, length)); }
FCT_API T fct_slice(T t, int64_t dim, int64_t start, int64_t end, int64_t step) { FCT_TENSOR(t->slice(dim, start, end, step)); }
FCT_API T fct_select(T t, int64_t dim, int64_t index) { FCT_TENSOR(t->select(dim, index)); }
FCT_API T fct_index_select(T t, int64_t dim, T index) { FCT_TENSOR(t->index_select(dim, *index)); }
FCT_API T fct_gather(T t, int64_t dim, T index) { FCT_TENSOR(t->gather(dim, *index)); }
FCT_API T fct_scatter(T t, int64_t dim, T index, T src) { FCT_TENSOR(t->scatter(dim, *index, *src)); }
FCT_API T fct_scatter_add(T t, int64_t dim, T index, T src) { FCT_TENSOR(t->scatter_add(dim, *index, *src)); }
FCT_API T fct_masked_select(T t, T mask) { FCT_TENSOR(t->masked_select(*mask)); }
FCT_API T fct_cat(T* ts, int n, int64_t dim) { FCT_TENSOR(at::cat(fct::list(ts, n), dim)); }
FCT_API T fct_stack(T* ts, int n, int64_t dim) { FCT_TENSOR(at::stack(fct::list(ts, n), dim)); }
FCT_API T fct_expand(T t, const int64_t* s, int n) { FCT_TENSOR(t->expand(fct::dims(s, n))); }
FCT_API T fct_contiguous(T t) { FCT_TENSOR(t->contiguous()); }
FCT_API T fct_squeeze(T t, int64_t dim) { FCT_TENSOR(t->squeeze(dim)); }
FCT_API T fct_unsqueeze(T t, int64_t dim) { FCT_TENSOR(t->unsqueeze(dim)); }
FCT_API T fct_flatten(T t, int64_t start, int64_t end) { FCT_TENSOR(t->flatten(start, end)); }
FCT_API T fct_repeat_interleave(T t, int64_t repeats, int64_t dim) { FCT_TENSOR(t->repeat_interleave(repeats, dim)); }
FCT_API T fct_triu(T t, int64_t diagonal) { FCT_TENSOR(t->triu(diagonal)); }
FCT_API T fct_tril(T t, int64_t diagonal) { FCT_TENSOR(t->tril(diagonal)); }
FCT_API T fct_where(T cond, T a, T b) { FCT_TENSOR(at::where(*cond, *a, *b)); }
FCT_API T fct_masked_fill(T t, T mask, double value) { FCT_TENSOR(t->masked_fill(*mask, value)); }

// ---- element-wise binary ----
enum Binary { ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE, AND, OR, REMAINDER };

FCT_API T fct_binary(int op, T a, T b) {
  try {
    switch (op) {
      case ADD: return new at::Tensor(at::add(*a, *b));
      case SUB: return new at::Tensor(at::sub(*a, *b));
      case MUL: return new at::Tensor(at::mul(*a, *b));
      case DIV: return new at::Tensor(at::div(*a, *b));
      case POW: return new at::Tensor(at::pow(*a, *b));
      case MAXIMUM: return new at::Tensor(at::maximum(*a, *b));
      case MINIMUM: return new at::Tensor(at::minimum(*a, *b));
      case EQ: return new at::Tensor(at::eq(*a, *b));
      case NE: return new at::Tensor(at::ne(*a, *b));
      case LT: return new at::Tensor(at::lt(*a, *b));
      case LE: return new at::Tensor(at::le(*a, *b));
      case GT: return new at::Tensor(at::gt(*a, *b));
      case GE: return new at::Tensor(at::ge(*a, *b));
      case AND: return new at::Tensor(at::logical_and(*a, *b));
      case OR: return new at::Tensor(at::logical_or(*a, *b));
      case REMAINDER: return new at::Tensor(at::remainder(*a, *b));
    }
    throw std::invalid_argument("unknown binary op " + std::to_string(op));
  }
  FCT_CATCH(nullptr)
}

FCT_API T fct_binary_scalar(int op, T a, double s) {
  try {
    const at::Scalar sc = fct::scalar(*a, s);
    switch (op) {
      case ADD: return new at::Tensor(at::add(*a, sc));
      case SUB: return new at::Tensor(at::sub(*a, sc));
      case MUL: return new at::Tensor(at::mul(*a, sc));
      case DIV: return new at::Tensor(at::div(*a, sc));
      case POW: return new at::Tensor(at::pow(*a, sc));
      case MAXIMUM: return new at::Tensor(at::clamp_min(*a, sc));
      case MINIMUM: return new at::Tensor(at::clamp_max(*a, sc));
      case EQ: return new at::Tensor(at::eq(*a, sc));
      case NE: return new at::Tensor(at::ne(*a, sc));
      case LT: return new at::Tensor(at::lt(*a, sc));
      case LE: return new at::Tensor(at::le(*a, sc));
      case GT: return new at::Tensor(at::gt(*a, sc));
      case GE: return new at::Tensor(at::ge(*a, sc));
      case REMAINDER: return new at::Tensor(at::remainder(*a, sc));
    }
    throw std::invalid_argument("binary op " + std::to_string(op) + " has no scalar form");
  }
  FCT_CATCH(nullptr)
}

// scalar - tensor and scalar / tensor (the operand order the C# operators need).
FCT_API T fct_rsub_scalar(T a, double s) { FCT_TENSOR(at::rsub(*a, fct::scalar(*a, s))); }
FCT_API T fct_rdiv_scalar(T a, double s) { FCT_TENSOR(at::mul(at::reciprocal(*a), s)); }

// ---- element-wise unary ----
enum Unary { NEG, EXP, LOG, SQRT, RSQRT, ABS, SIN, COS, TANH, SIGMOID, RELU, SILU, GELU, GELU_TANH,
             SIGN, SQUARE, RECIPROCAL, NOT, ISNAN, ISINF, ISFINITE, FLOOR, CEIL, ROUND, LOG1P, EXPM1 };

FCT_API T fct_unary(int op, T a) {
  try {
    switch (op) {
      case NEG: return new at::Tensor(at::neg(*a));
      case EXP: return new at::Tensor(at::exp(*a));
      case LOG: return new at::Tensor(at::log(*a));
      case SQRT: return new at::Tensor(at::sqrt(*a));
      case RSQRT: return new at::Tensor(at::rsqrt(*a));
      case ABS: return new at::Tensor(at::abs(*a));
      case SIN: return new at::Tensor(at::sin(*a));
      case COS: return new at::Tensor(at::cos(*a));
      case TANH: return new at::Tensor(at::tanh(*a));
      case SIGMOID: return new at::Tensor(at::sigmoid(*a));
      case RELU: return new at::Tensor(at::relu(*a));
      case SILU: return new at::Tensor(at::silu(*a));
      case GELU: return new at::Tensor(at::gelu(*a));
      case GELU_TANH: return new at::Tensor(at::gelu(*a, "tanh"));
      case SIGN: return new at::Tensor(at::sign(*a));
      case SQUARE: return new at::Tensor(at::square(*a));
      case RECIPROCAL: return new at::Tensor(at::reciprocal(*a));
      case NOT: return new at::Tensor(at::logical_not(*a));
      case ISNAN: return new at::Tensor(at::isnan(*a));
      case ISINF: return new at::Tensor(at::isinf(*a));
      case ISFINITE: return new at::Tensor(at::isfinite(*a));
      case FLOOR: return new at::Tensor(at::floor(*a));
      case CEIL: return new at::Tensor(at::ceil(*a));
      case ROUND: return new at::Tensor(at::round(*a));
      case LOG1P: return new at::Tensor(at::log1p(*a));
      case EXPM1: return new at::Tensor(at::expm1(*a));
    }
    throw std::invalid_argument("unknown unary op " + std::to_string(op));
  }
  FCT_CATCH(nullptr)
}

FCT_API T fct_clamp(T t, double min, double max, int has_min, int has_max) {
  FCT_TENSOR(at::clamp(*t, has_min ? c10::optional<at::Scalar>(min) : c10::nullopt,
                       has_max ? c10::optional<at::Scalar>(max) : c10::nullopt));
}

// ---- in place (no autograd history wanted: used by optimisers and weight loading) ----
FCT_API int fct_add_(T t, T other, double alpha) { FCT_STATUS(t->add_(*other, alpha)); }
FCT_API int fct_mul_scalar_(T t, double s) { FCT_STATUS(t->mul_(s)); }
FCT_API int fct_fill_(T t, double v) { FCT_STATUS(t->fill_(v)); }
FCT_API int fct_zero_(T t) { FCT_STATUS(t->zero_()); }
FCT_API int fct_copy_(T t, T src) { FCT_STATUS(t->copy_(*src)); }

// ---- reductions ----
FCT_API T fct_sum_all(T t) { FCT_TENSOR(t->sum()); }
FCT_API T fct_mean_all(T t) { FCT_TENSOR(t->mean()); }
FCT_API T fct_max_all(T t) { FCT_TENSOR(t->max()); }
FCT_API T fct_min_all(T t) { FCT_TENSOR(t->min()); }
FCT_API T fct_sum_dims(T t, const int64_t* d, int n, int keep) { FCT_TENSOR(t->sum(fct::dims(d, n), keep != 0)); }
FCT_API T fct_mean_dims(T t, const int64_t* d, int n, int keep) { FCT_TENSOR(t->mean(fct::dims(d, n), keep != 0)); }
FCT_API T fct_amax(T t, const int64_t* d, int n, int keep) { FCT_TENSOR(t->amax(fct::dims(d, n), keep != 0)); }
FCT_API T fct_amin(T t, const int64_t* d, int n, int keep) { FCT_TENSOR(t->amin(fct::dims(d, n), keep != 0)); }
FCT_API T fct_var_dims(T t, const int64_t* d, int n, int unbiased, int keep) {
  FCT_TENSOR(t->var(fct::dims(d, n), unbiased != 0, keep != 0));
}
FCT_API T fct_logsumexp(T t, int64_t dim, int keep) { FCT_TENSOR(t->logsumexp(dim, keep != 0)); }
FCT_API T fct_cumsum(T t, int64_t dim) { FCT_TENSOR(t->cumsum(dim)); }
FCT_API T fct_argmax(T t, int64_t dim, int keep) { FCT_TENSOR(t->argmax(dim, keep != 0)); }
FCT_API T fct_argmin(T t, int64_t dim, int keep) { FCT_TENSOR(t->argmin(dim, keep != 0)); }
FCT_API T fct_all(T t) { FCT_TENSOR(t->all()); }
FCT_API T fct_any(T t) { FCT_TENSOR(t->any()); }
FCT_API T fct_norm(T t, double p) { FCT_TENSOR(t->norm(p)); }

FCT_API int fct_max_dim(T t, int64_t dim, int keep, T* values, T* indices) {
  FCT_STATUS({
    auto r = t->max(dim, keep != 0);
    *values = new at::Tensor(std::get<0>(r));
    *indices = new at::Tensor(std::get<1>(r));
  });
}
FCT_API int fct_topk(T t, int64_t k, int64_t dim, int largest, int sorted, T* values, T* indices) {
  FCT_STATUS({
    auto r = t->topk(k, dim, largest != 0, sorted != 0);
    *values = new at::Tensor(std::get<0>(r));
    *indices = new at::Tensor(std::get<1>(r));
  });
}
FCT_API int fct_sort(T t, int64_t dim, int descending, T* values, T* indices) {
  FCT_STATUS({
    auto r = t->sort(dim, descending != 0);
    *values = new at::Tensor(std::get<0>(r));
    *indices = new at::Tensor(std::get<1>(r));
  });
}

// ---- matrix products ----
FCT_API T fct_matmul(T a, T b) { FCT_TENSOR(at::matmul(*a, *b)); }
FCT_API T fct_bmm(T a, T b) { FCT_TENSOR(at::bmm(*a, *b)); }
FCT_API T fct_linear(T x, T w, T b) { FCT_TENSOR(at::linear(*x, *w, b ? c10::optional<at::Tensor>(*b) : c10::nullopt)); }
