namespace FuseChat.Torch;

public sealed unsafe partial class Tensor
{
    /// <summary>The same elements in a new shape (a view when possible, else a copy); -1 infers one size.</summary>
    public Tensor Reshape(params ReadOnlySpan<long> shape)
    {
        fixed (long* s = shape) return Wrap(NativeMethods.fct_reshape(Handle, s, shape.Length));
    }

    /// <summary>A view with a new shape; fails when the layout does not allow one.</summary>
    public Tensor View(params ReadOnlySpan<long> shape)
    {
        fixed (long* s = shape) return Wrap(NativeMethods.fct_view(Handle, s, shape.Length));
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(long dim0, long dim1) => Wrap(NativeMethods.fct_transpose(Handle, dim0, dim1));

    /// <summary>Reorders dimensions (a view).</summary>
    public Tensor Permute(params ReadOnlySpan<long> dims)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.fct_permute(Handle, d, dims.Length));
    }

    /// <summary><paramref name="length"/> entries of <paramref name="dim"/> from <paramref name="start"/> (a view).</summary>
    public Tensor Narrow(long dim, long start, long length) => Wrap(NativeMethods.fct_narrow(Handle, dim, start, length));

    /// <summary>Entries start, start+step, ... below end along <paramref name="dim"/> (a view; negative indices count from the end).</summary>
    public Tensor Slice(long dim, long start, long end, long step = 1) => Wrap(NativeMethods.fct_slice(Handle, dim, start, end, step));

    /// <summary>Entry <paramref name="index"/> of <paramref name="dim"/>, removing that dimension (a view).</summary>
    public Tensor Select(long dim, long index) => Wrap(NativeMethods.fct_select(Handle, dim, index));

    /// <summary>Entry <paramref name="index"/> of the first dimension.</summary>
    public Tensor this[long index] => Select(0, index);

    /// <summary>A range of the first dimension, e.g. t[1..3].</summary>
    public Tensor this[Range range]
    {
        get
        {
            var n = Size(0);
            var (offset, length) = range.GetOffsetAndLength(checked((int)n));
            return Slice(0, offset, offset + length);
        }
    }

    /// <summary>Entries at <paramref name="index"/> (int64) along <paramref name="dim"/>.</summary>
    public Tensor IndexSelect(long dim, Tensor index) => Wrap(NativeMethods.fct_index_select(Handle, dim, index.Handle));

    /// <summary>out[i][j] = this[i][index[i][j]] for dim 1 (torch.gather).</summary>
    public Tensor Gather(long dim, Tensor index) => Wrap(NativeMethods.fct_gather(Handle, dim, index.Handle));

    /// <summary>A copy with src written at index along dim (torch.scatter).</summary>
    public Tensor Scatter(long dim, Tensor index, Tensor source) => Wrap(NativeMethods.fct_scatter(Handle, dim, index.Handle, source.Handle));

    /// <summary>A copy with src added at index along dim (torch.scatter_add).</summary>
    public Tensor ScatterAdd(long dim, Tensor index, Tensor source) => Wrap(NativeMethods.fct_scatter_add(Handle, dim, index.Handle, source.Handle));

    /// <summary>Indices of the non-zero elements as [count, dims] int64.</summary>
    public Tensor NonZero() => Wrap(NativeMethods.fct_nonzero(Handle));

    /// <summary>A copy with rows of <paramref name="source"/> added at <paramref name="index"/> along <paramref name="dim"/>.</summary>
    public Tensor IndexAdd(long dim, Tensor index, Tensor source) => Wrap(NativeMethods.fct_index_add(Handle, dim, index.Handle, source.Handle));

    /// <summary>The elements where <paramref name="mask"/> is true, as a 1-d tensor.</summary>
    public Tensor MaskedSelect(Tensor mask) => Wrap(NativeMethods.fct_masked_select(Handle, mask.Handle));

    /// <summary>Concatenates along an existing dimension.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Handles(tensors);
        fixed (IntPtr* h = handles) return Wrap(NativeMethods.fct_cat(h, handles.Length, dim));
    }

    /// <summary>Stacks along a new dimension.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Handles(tensors);
        fixed (IntPtr* h = handles) return Wrap(NativeMethods.fct_stack(h, handles.Length, dim));
    }

    /// <summary>Broadcasts size-1 dimensions to <paramref name="shape"/> (a view; -1 keeps a size).</summary>
    public Tensor Expand(params ReadOnlySpan<long> shape)
    {
        fixed (long* s = shape) return Wrap(NativeMethods.fct_expand(Handle, s, shape.Length));
    }

    /// <summary>A row-major copy, or a new handle to this tensor when it already is one.</summary>
    public Tensor Contiguous() => Wrap(NativeMethods.fct_contiguous(Handle));

    /// <summary>Removes dimension <paramref name="dim"/> if its size is 1.</summary>
    public Tensor Squeeze(long dim) => Wrap(NativeMethods.fct_squeeze(Handle, dim));

    /// <summary>Inserts a size-1 dimension at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(long dim) => Wrap(NativeMethods.fct_unsqueeze(Handle, dim));

    /// <summary>Merges dimensions start..end into one.</summary>
    public Tensor Flatten(long start = 0, long end = -1) => Wrap(NativeMethods.fct_flatten(Handle, start, end));

    /// <summary>Repeats each entry of <paramref name="dim"/> <paramref name="repeats"/> times.</summary>
    public Tensor RepeatInterleave(long repeats, long dim) => Wrap(NativeMethods.fct_repeat_interleave(Handle, repeats, dim));

    /// <summary>Upper triangle of the last two dimensions, zero below <paramref name="diagonal"/>.</summary>
    public Tensor Triu(long diagonal = 0) => Wrap(NativeMethods.fct_triu(Handle, diagonal));

    /// <summary>Lower triangle of the last two dimensions, zero above <paramref name="diagonal"/>.</summary>
    public Tensor Tril(long diagonal = 0) => Wrap(NativeMethods.fct_tril(Handle, diagonal));

    /// <summary>Element-wise choice: a where condition is true, else b.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => Wrap(NativeMethods.fct_where(condition.Handle, a.Handle, b.Handle));

    /// <summary>A copy with <paramref name="value"/> where <paramref name="mask"/> is true.</summary>
    public Tensor MaskedFill(Tensor mask, double value) => Wrap(NativeMethods.fct_masked_fill(Handle, mask.Handle, value));

    internal static IntPtr[] Handles(IReadOnlyList<Tensor> tensors)
    {
        var handles = new IntPtr[tensors.Count];
        for (var i = 0; i < handles.Length; i++) handles[i] = tensors[i].Handle;
        return handles;
    }
}
