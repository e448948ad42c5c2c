namespace FuseChat.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>Sum of all elements (0-d).</summary>
    public Tensor Sum() => Wrap(NativeMethods.fct_sum_all(Handle));

    /// <summary>Sum over <paramref name="dims"/>.</summary>
    public Tensor Sum(ReadOnlySpan<long> dims, bool keepDim = false)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.fct_sum_dims(Handle, d, dims.Length, keepDim ? 1 : 0));
    }

    /// <summary>Sum over one dimension.</summary>
    public Tensor Sum(long dim, bool keepDim = false) => Sum([dim], keepDim);

    /// <summary>Mean of all elements (0-d).</summary>
    public Tensor Mean() => Wrap(NativeMethods.fct_mean_all(Handle));

    /// <summary>Mean over <paramref name="dims"/>.</summary>
    public Tensor Mean(ReadOnlySpan<long> dims, bool keepDim = false)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.fct_mean_dims(Handle, d, dims.Length, keepDim ? 1 : 0));
    }

    /// <summary>Mean over one dimension.</summary>
    public Tensor Mean(long dim, bool keepDim = false) => Mean([dim], keepDim);

    /// <summary>Largest element (0-d).</summary>
    public Tensor Max() => Wrap(NativeMethods.fct_max_all(Handle));

    /// <summary>Smallest element (0-d).</summary>
    public Tensor Min() => Wrap(NativeMethods.fct_min_all(Handle));

    /// <summary>Largest values along <paramref name="dim"/> and their indices.</summary>
    public (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false)
    {
        NativeMethods.Check(NativeMethods.fct_max_dim(Handle, dim, keepDim ? 1 : 0, out var v, out var i));
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>Maximum over <paramref name="dims"/> (values only).</summary>
    public Tensor Amax(ReadOnlySpan<long> dims, bool keepDim = false)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.fct_amax(Handle, d, dims.Length, keepDim ? 1 : 0));
    }

    /// <summary>Minimum over <paramref name="dims"/> (values only).</summary>
    public Tensor Amin(ReadOnlySpan<long> dims, bool keepDim = false)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.fct_amin(Handle, d, dims.Length, keepDim ? 1 : 0));
    }

    /// <summary>Variance over <paramref name="dims"/>; <paramref name="unbiased"/> divides by n-1, else by n (population).</summary>
    public Tensor Var(ReadOnlySpan<long> dims, bool unbiased = false, bool keepDim = false)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.fct_var_dims(Handle, d, dims.Length, unbiased ? 1 : 0, keepDim ? 1 : 0));
    }

    /// <summary>log(sum(exp(x))) along <paramref name="dim"/>, computed stably.</summary>
    public Tensor LogSumExp(long dim, bool keepDim = false) => Wrap(NativeMethods.fct_logsumexp(Handle, dim, keepDim ? 1 : 0));

    /// <summary>Running sum along <paramref name="dim"/>.</summary>
    public Tensor CumSum(long dim) => Wrap(NativeMethods.fct_cumsum(Handle, dim));

    /// <summary>Index of the largest value along <paramref name="dim"/> (first one on ties).</summary>
    public Tensor ArgMax(long dim, bool keepDim = false) => Wrap(NativeMethods.fct_argmax(Handle, dim, keepDim ? 1 : 0));

    /// <summary>Index of the smallest value along <paramref name="dim"/>.</summary>
    public Tensor ArgMin(long dim, bool keepDim = false) => Wrap(NativeMethods.fct_argmin(Handle, dim, keepDim ? 1 : 0));

    /// <summary>True when every element is true (non-zero).</summary>
    public bool All()
    {
        using var t = new Tensor(NativeMethods.Check(NativeMethods.fct_all(Handle)), track: false);
        return t.ToInt64() != 0;
    }

    /// <summary>True when any element is true (non-zero).</summary>
    public bool Any()
    {
        using var t = new Tensor(NativeMethods.Check(NativeMethods.fct_any(Handle)), track: false);
        return t.ToInt64() != 0;
    }

    /// <summary>True where any element along <paramref name="dim"/> is non-zero (bool).</summary>
    public Tensor Any(long dim, bool keepDim = false)
    {
        using var nonZero = Ne(0);
        using var counts = nonZero.Sum(dim, keepDim);
        return counts.Gt(0);
    }

    /// <summary>The p-norm of all elements (0-d).</summary>
    public Tensor Norm(double p = 2) => Wrap(NativeMethods.fct_norm(Handle, p));

    /// <summary>The k largest (or smallest) entries along <paramref name="dim"/> and their indices.</summary>
    public (Tensor Values, Tensor Indices) TopK(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        NativeMethods.Check(NativeMethods.fct_topk(Handle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, out var v, out var i));
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>Sorted values along <paramref name="dim"/> and the permutation that sorts them.</summary>
    public (Tensor Values, Tensor Indices) Sort(long dim = -1, bool descending = false)
    {
        NativeMethods.Check(NativeMethods.fct_sort(Handle, dim, descending ? 1 : 0, out var v, out var i));
        return (new Tensor(v), new Tensor(i));
    }
}
