using System.Reflection;
using System.Runtime.InteropServices;

namespace FuseChat.Torch;

/// <summary>P/Invoke declarations of the C ABI shim in native/ (one function per operation).</summary>
internal static unsafe class NativeMethods
{
    internal const string Library = "fusechat_torch";

    // Finds the shim next to this assembly (the build copies it there) or at FUSECHAT_TORCH_LIB,
    // so that nobody has to set LD_LIBRARY_PATH.
#pragma warning disable CA2255 // a library must install its resolver before its first P/Invoke; this is that case
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterResolver()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library) return IntPtr.Zero;
        var explicitPath = Environment.GetEnvironmentVariable("FUSECHAT_TORCH_LIB");
        if (!string.IsNullOrEmpty(explicitPath)) return NativeLibrary.Load(explicitPath);
        foreach (var dir in new[] { Path.GetDirectoryName(assembly.Location), AppContext.BaseDirectory })
        {
            if (string.IsNullOrEmpty(dir)) continue;
            var candidate = Path.Combine(dir, "libfusechat_torch.so");
            if (File.Exists(candidate)) return NativeLibrary.Load(candidate);
        }
        return IntPtr.Zero;
    }

    [DllImport(Library)] internal static extern IntPtr fct_last_error();
    [DllImport(Library)] internal static extern int fct_version(out int major, out int minor, out int patch);
    [DllImport(Library)] internal static extern int fct_has_sdpa();
    [DllImport(Library)] internal static extern int fct_cuda_device_count();
    [DllImport(Library)] internal static extern int fct_device_memory(int deviceIndex, int resetPeak, out long allocated, out long peak);
    [DllImport(Library)] internal static extern void fct_set_num_threads(int n);
    [DllImport(Library)] internal static extern int fct_get_num_threads();
    [DllImport(Library)] internal static extern int fct_set_num_interop_threads(int n);
    [DllImport(Library)] internal static extern void fct_manual_seed(ulong seed);
    [DllImport(Library)] internal static extern int fct_set_deterministic(int on);
    [DllImport(Library)] internal static extern int fct_is_grad_enabled();
    [DllImport(Library)] internal static extern int fct_set_grad_enabled(int on);

    [DllImport(Library)] internal static extern void fct_free(IntPtr t);
    [DllImport(Library)] internal static extern int fct_dim(IntPtr t);
    [DllImport(Library)] internal static extern long fct_numel(IntPtr t);
    [DllImport(Library)] internal static extern int fct_shape(IntPtr t, long* output, int capacity);
    [DllImport(Library)] internal static extern int fct_dtype(IntPtr t);
    [DllImport(Library)] internal static extern int fct_device_type(IntPtr t);
    [DllImport(Library)] internal static extern int fct_device_index(IntPtr t);
    [DllImport(Library)] internal static extern int fct_requires_grad(IntPtr t);
    [DllImport(Library)] internal static extern int fct_is_contiguous(IntPtr t);
    [DllImport(Library)] internal static extern int fct_is_leaf(IntPtr t);
    [DllImport(Library)] internal static extern long fct_element_size(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_from_data(void* data, long* shape, int ndim, int dtype, int devtype, int devidx);
    [DllImport(Library)] internal static extern int fct_copy_to_host(IntPtr t, void* dst, long nbytes);
    [DllImport(Library)] internal static extern void* fct_data_ptr(IntPtr t);
    [DllImport(Library)] internal static extern int fct_item_double(IntPtr t, out double value);
    [DllImport(Library)] internal static extern int fct_item_long(IntPtr t, out long value);
    [DllImport(Library)] internal static extern IntPtr fct_empty(long* shape, int ndim, int dtype, int devtype, int devidx);
    [DllImport(Library)] internal static extern IntPtr fct_full(long* shape, int ndim, double value, int dtype, int devtype, int devidx);
    [DllImport(Library)] internal static extern IntPtr fct_arange(double start, double end, double step, int dtype, int devtype, int devidx);
    [DllImport(Library)] internal static extern IntPtr fct_randn(long* shape, int ndim, int dtype, int devtype, int devidx);
    [DllImport(Library)] internal static extern IntPtr fct_rand(long* shape, int ndim, int dtype, int devtype, int devidx);
    [DllImport(Library)] internal static extern IntPtr fct_randint(long low, long high, long* shape, int ndim, int dtype, int devtype, int devidx);
    [DllImport(Library)] internal static extern IntPtr fct_to_dtype(IntPtr t, int dtype);
    [DllImport(Library)] internal static extern IntPtr fct_to_device(IntPtr t, int devtype, int devidx);
    [DllImport(Library)] internal static extern IntPtr fct_clone(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_detach(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_alias(IntPtr t);
    [DllImport(Library)] internal static extern int fct_set_requires_grad(IntPtr t, int on);
    [DllImport(Library)] internal static extern int fct_grad(IntPtr t, out IntPtr grad);
    [DllImport(Library)] internal static extern int fct_set_grad(IntPtr t, IntPtr grad);
    [DllImport(Library)] internal static extern int fct_backward(IntPtr t, IntPtr grad, int retainGraph);
    [DllImport(Library)] internal static extern int fct_zero_grad(IntPtr* ts, int n, int setToNone);
    [DllImport(Library)] internal static extern IntPtr fct_rng_get_state();
    [DllImport(Library)] internal static extern int fct_rng_set_state(IntPtr state);

    [DllImport(Library)] internal static extern IntPtr fct_reshape(IntPtr t, long* shape, int n);
    [DllImport(Library)] internal static extern IntPtr fct_view(IntPtr t, long* shape, int n);
    [DllImport(Library)] internal static extern IntPtr fct_transpose(IntPtr t, long a, long b);
    [DllImport(Library)] internal static extern IntPtr fct_permute(IntPtr t, long* dims, int n);
    [DllImport(Library)] internal static extern IntPtr fct_narrow(IntPtr t, long dim, long start, long length);
    [DllImport(Library)] internal static extern IntPtr fct_slice(IntPtr t, long dim, long start, long end, long step);
    [DllImport(Library)] internal static extern IntPtr fct_select(IntPtr t, long dim, long index);
    [DllImport(Library)] internal static extern IntPtr fct_index_select(IntPtr t, long dim, IntPtr index);
    [DllImport(Library)] internal static extern IntPtr fct_gather(IntPtr t, long dim, IntPtr index);
    [DllImport(Library)] internal static extern IntPtr fct_scatter(IntPtr t, long dim, IntPtr index, IntPtr src);
    [DllImport(Library)] internal static extern IntPtr fct_scatter_add(IntPtr t, long dim, IntPtr index, IntPtr src);
    [DllImport(Library)] internal static extern IntPtr fct_masked_select(IntPtr t, IntPtr mask);
    [DllImport(Library)] internal static extern IntPtr fct_cat(IntPtr* ts, int n, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_stack(IntPtr* ts, int n, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_expand(IntPtr t, long* shape, int n);
    [DllImport(Library)] internal static extern IntPtr fct_contiguous(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_squeeze(IntPtr t, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_unsqueeze(IntPtr t, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_flatten(IntPtr t, long start, long end);
    [DllImport(Library)] internal static extern IntPtr fct_repeat_interleave(IntPtr t, long repeats, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_triu(IntPtr t, long diagonal);
    [DllImport(Library)] internal static extern IntPtr fct_tril(IntPtr t, long diagonal);
    [DllImport(Library)] internal static extern IntPtr fct_where(IntPtr cond, IntPtr a, IntPtr b);
    [DllImport(Library)] internal static extern IntPtr fct_masked_fill(IntPtr t, IntPtr mask, double value);

    [DllImport(Library)] internal static extern IntPtr fct_binary(int op, IntPtr a, IntPtr b);
    [DllImport(Library)] internal static extern IntPtr fct_binary_scalar(int op, IntPtr a, double s);
    [DllImport(Library)] internal static extern IntPtr fct_rsub_scalar(IntPtr a, double s);
    [DllImport(Library)] internal static extern IntPtr fct_rdiv_scalar(IntPtr a, double s);
    [DllImport(Library)] internal static extern IntPtr fct_unary(int op, IntPtr a);
    [DllImport(Library)] internal static extern IntPtr fct_clamp(IntPtr t, double min, double max, int hasMin, int hasMax);
    [DllImport(Library)] internal static extern int fct_add_(IntPtr t, IntPtr other, double alpha);
    [DllImport(Library)] internal static extern int fct_mul_scalar_(IntPtr t, double s);
    [DllImport(Library)] internal static extern int fct_fill_(IntPtr t, double v);
    [DllImport(Library)] internal static extern int fct_zero_(IntPtr t);
    [DllImport(Library)] internal static extern int fct_copy_(IntPtr t, IntPtr src);

    [DllImport(Library)] internal static extern IntPtr fct_sum_all(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_mean_all(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_max_all(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_min_all(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_sum_dims(IntPtr t, long* dims, int n, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_mean_dims(IntPtr t, long* dims, int n, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_amax(IntPtr t, long* dims, int n, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_amin(IntPtr t, long* dims, int n, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_var_dims(IntPtr t, long* dims, int n, int unbiased, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_logsumexp(IntPtr t, long dim, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_cumsum(IntPtr t, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_argmax(IntPtr t, long dim, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_argmin(IntPtr t, long dim, int keep);
    [DllImport(Library)] internal static extern IntPtr fct_all(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_any(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_norm(IntPtr t, double p);
    [DllImport(Library)] internal static extern int fct_max_dim(IntPtr t, long dim, int keep, out IntPtr values, out IntPtr indices);
    [DllImport(Library)] internal static extern int fct_topk(IntPtr t, long k, long dim, int largest, int sorted, out IntPtr values, out IntPtr indices);
    [DllImport(Library)] internal static extern int fct_sort(IntPtr t, long dim, int descending, out IntPtr values, out IntPtr indices);
    [DllImport(Library)] internal static extern IntPtr fct_matmul(IntPtr a, IntPtr b);
    [DllImport(Library)] internal static extern IntPtr fct_bmm(IntPtr a, IntPtr b);
    [DllImport(Library)] internal static extern IntPtr fct_linear(IntPtr x, IntPtr w, IntPtr b);

    [DllImport(Library)] internal static extern IntPtr fct_softmax(IntPtr t, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_log_softmax(IntPtr t, long dim);
    [DllImport(Library)] internal static extern IntPtr fct_embedding(IntPtr weight, IntPtr indices, long paddingIndex);
    [DllImport(Library)] internal static extern IntPtr fct_dropout(IntPtr t, double p, int train);
    [DllImport(Library)] internal static extern IntPtr fct_multinomial(IntPtr probs, long n, int replacement);
    [DllImport(Library)] internal static extern IntPtr fct_cross_entropy(IntPtr logits, IntPtr target, long ignoreIndex, int reduction, double labelSmoothing);
    [DllImport(Library)] internal static extern IntPtr fct_rms_norm(IntPtr x, IntPtr weight, double eps);
    [DllImport(Library)] internal static extern IntPtr fct_sdpa(IntPtr q, IntPtr k, IntPtr v, IntPtr mask, int isCausal, double scale);

    [DllImport(Library)] internal static extern IntPtr fct_nonzero(IntPtr t);
    [DllImport(Library)] internal static extern IntPtr fct_index_add(IntPtr t, long dim, IntPtr index, IntPtr source);

    [DllImport(Library)] internal static extern int fct_adamw_step(IntPtr* parameters, IntPtr* masters, IntPtr* expAvgs, IntPtr* expAvgSqs, int n,
        double lr, double beta1, double beta2, double eps, double weightDecay, long step);
    [DllImport(Library)] internal static extern int fct_clip_grad_norm(IntPtr* parameters, int n, double maxNorm, out double total);

    /// <summary>Throws the shim's last error when a call returned a null handle.</summary>
    internal static IntPtr Check(IntPtr handle) => handle != IntPtr.Zero ? handle : throw TorchException.FromNative();

    /// <summary>Throws the shim's last error when a call returned a failure status.</summary>
    internal static void Check(int status)
    {
        if (status != 0) throw TorchException.FromNative();
    }
}
