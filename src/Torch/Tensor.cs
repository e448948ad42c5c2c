using System.Runtime.CompilerServices;

namespace FuseChat.Torch;

/// <summary>
/// A libtorch tensor owned by this handle. Dispose it (or let a <see cref="DisposeScope"/> do it) to
/// free native memory deterministically; the finalizer is only a safety net.
/// </summary>
public sealed unsafe partial class Tensor : IDisposable
{
    private static long live;
    private static long finalized;
    private IntPtr handle;

    /// <summary>Wraps a new native handle; registers it with the current dispose scope when asked to.</summary>
    internal Tensor(IntPtr handle, bool track = true)
    {
        this.handle = handle;
        if (handle != IntPtr.Zero) Interlocked.Increment(ref live);
        if (track) DisposeScope.Current?.Add(this);
    }

    /// <summary>Safety net for tensors nobody disposed.</summary>
    ~Tensor()
    {
        var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return;
        NativeMethods.fct_free(h);
        Interlocked.Decrement(ref live);
        Interlocked.Increment(ref finalized);
    }

    /// <summary>
    /// Tensor handles of this process not yet freed. For leak checks: a loop that disposes what it makes leaves
    /// this where it found it.
    /// </summary>
    public static long LiveCount => Volatile.Read(ref live);

    /// <summary>
    /// Tensor handles freed by the finalizer, i.e. that nobody disposed: each is native memory (on a GPU, device
    /// memory) that was held until a garbage collection happened to run.
    /// </summary>
    public static long FinalizedCount => Volatile.Read(ref finalized);

    /// <summary>The native handle; throws when the tensor was disposed.</summary>
    internal IntPtr Handle => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(Tensor), "the tensor was disposed");

    internal DisposeScope? Scope { get; set; }

    /// <summary>True once the native tensor has been freed.</summary>
    public bool IsDisposed => handle == IntPtr.Zero;

    /// <summary>Frees the native tensor now.</summary>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return;
        NativeMethods.fct_free(h);
        Interlocked.Decrement(ref live);
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes this tensor from its dispose scope: the caller now owns it.</summary>
    public Tensor DetachFromScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>Hands this tensor to the scope enclosing its current one (or to the caller when there is none).</summary>
    public Tensor MoveToOuterScope()
    {
        var outer = Scope?.Outer;
        Scope = null;
        outer?.Add(this);
        return this;
    }

    /// <summary>Wraps a handle returned by a native call, throwing libtorch's error when it is null.</summary>
    internal static Tensor Wrap(IntPtr handle) => new(NativeMethods.Check(handle));

    // ---- properties ----

    /// <summary>Number of dimensions.</summary>
    public int Dim => NativeMethods.fct_dim(Handle);

    /// <summary>Number of elements.</summary>
    public long NumberOfElements => NativeMethods.fct_numel(Handle);

    /// <summary>The sizes of all dimensions.</summary>
    public long[] Shape
    {
        get
        {
            Span<long> buffer = stackalloc long[16];
            int n;
            fixed (long* p = buffer) n = NativeMethods.fct_shape(Handle, p, buffer.Length);
            if (n <= buffer.Length) return buffer[..n].ToArray();
            var big = new long[n];
            fixed (long* p = big) NativeMethods.fct_shape(Handle, p, n);
            return big;
        }
    }

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long Size(int dim)
    {
        var shape = Shape;
        var d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"tensor has {shape.Length} dimensions");
        return shape[d];
    }

    /// <summary>Element type.</summary>
    public DType DType => (DType)NativeMethods.fct_dtype(Handle);

    /// <summary>The device holding the data.</summary>
    public Device Device => new((DeviceType)NativeMethods.fct_device_type(Handle), NativeMethods.fct_device_index(Handle));

    /// <summary>True when the elements are laid out densely in row-major order.</summary>
    public bool IsContiguous => NativeMethods.fct_is_contiguous(Handle) != 0;

    /// <summary>Bytes per element.</summary>
    public long ElementSize => NativeMethods.fct_element_size(Handle);

    /// <inheritdoc/>
    public override string ToString() =>
        IsDisposed ? "Tensor(disposed)" : $"Tensor([{string.Join(", ", Shape)}], {DType.ShortName()}, {Device})";

    // ---- host data in and out ----

    /// <summary>Copies .NET data into a new tensor of the matching dtype.</summary>
    public static Tensor From<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> shape, Device? device = null) where T : unmanaged
    {
        var dtype = DTypeOf<T>();
        CheckCount(data.Length, shape);
        fixed (T* d = data)
            return FromRaw(d, shape, dtype, device ?? Device.Cpu);
    }

    /// <summary>Copies a one-dimensional .NET array into a new tensor.</summary>
    public static Tensor From<T>(T[] data, Device? device = null) where T : unmanaged => From<T>(data, [data.LongLength], device);

    /// <summary>Copies raw little-endian bytes of <paramref name="dtype"/> elements (e.g. from safetensors).</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> bytes, DType dtype, ReadOnlySpan<long> shape, Device? device = null)
    {
        long count = 1;
        foreach (var s in shape) count *= s;
        if (count * dtype.ElementSize() != bytes.Length)
            throw new ArgumentException($"{bytes.Length} bytes do not hold a {dtype.ShortName()} tensor of shape [{string.Join(", ", shape.ToArray())}]");
        fixed (byte* d = bytes)
            return FromRaw(d, shape, dtype, device ?? Device.Cpu);
    }

    private static Tensor FromRaw(void* data, ReadOnlySpan<long> shape, DType dtype, Device device)
    {
        fixed (long* s = shape)
            return Wrap(NativeMethods.fct_from_data(data, s, shape.Length, (int)dtype, (int)device.Type, device.Index));
    }

    /// <summary>Copies the elements (any device, any layout) into <paramref name="destination"/>.</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        if (DTypeOf<T>() != DType)
            throw new InvalidOperationException($"tensor is {DType.ShortName()}, destination elements are {typeof(T).Name}");
        var n = NumberOfElements;
        if (destination.Length != n) throw new ArgumentException($"destination holds {destination.Length} elements, tensor has {n}");
        fixed (T* d = destination)
            NativeMethods.Check(NativeMethods.fct_copy_to_host(Handle, d, n * sizeof(T)));
    }

    /// <summary>Copies the elements into a new array (row-major order).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[NumberOfElements];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Copies the raw element bytes (row-major) into <paramref name="destination"/>.</summary>
    public void CopyBytesTo(Span<byte> destination)
    {
        fixed (byte* d = destination)
            NativeMethods.Check(NativeMethods.fct_copy_to_host(Handle, d, destination.Length));
    }

    /// <summary>
    /// Writes raw element bytes into a CPU contiguous tensor's storage at <paramref name="byteOffset"/>
    /// (for filling large tensors chunk by chunk from files).
    /// </summary>
    public void WriteBytes(ReadOnlySpan<byte> source, long byteOffset = 0)
    {
        var (pointer, total) = RawStorage();
        if (byteOffset < 0 || byteOffset + source.Length > total)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), byteOffset, $"{source.Length} bytes at {byteOffset} exceed the tensor's {total} bytes");
        source.CopyTo(new Span<byte>((byte*)pointer + byteOffset, source.Length));
    }

    /// <summary>Reads raw element bytes of a CPU contiguous tensor from <paramref name="byteOffset"/>.</summary>
    public void ReadBytes(Span<byte> destination, long byteOffset = 0)
    {
        var (pointer, total) = RawStorage();
        if (byteOffset < 0 || byteOffset + destination.Length > total)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), byteOffset, $"{destination.Length} bytes at {byteOffset} exceed the tensor's {total} bytes");
        new ReadOnlySpan<byte>((byte*)pointer + byteOffset, destination.Length).CopyTo(destination);
    }

    /// <summary>
    /// Raw element bytes [<paramref name="byteOffset"/>, +<paramref name="length"/>) of a CPU contiguous tensor
    /// as a span, without copying (file reads and writes go straight to and from the tensor's memory).
    /// Valid only while the tensor is alive.
    /// </summary>
    public Span<byte> AsBytes(long byteOffset, int length)
    {
        var (pointer, total) = RawStorage();
        if (byteOffset < 0 || length < 0 || byteOffset + length > total)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), byteOffset, $"{length} bytes at {byteOffset} exceed the tensor's {total} bytes");
        return new Span<byte>((byte*)pointer + byteOffset, length);
    }

    private (IntPtr Pointer, long Length) RawStorage()
    {
        var p = NativeMethods.fct_data_ptr(Handle);
        if (p == null) throw TorchException.FromNative();
        return ((IntPtr)p, NumberOfElements * ElementSize);
    }

    /// <summary>
    /// The data of a CPU contiguous tensor as a span, without copying. Valid only while the tensor is alive.
    /// </summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        if (DTypeOf<T>() != DType)
            throw new InvalidOperationException($"tensor is {DType.ShortName()}, span elements are {typeof(T).Name}");
        var p = NativeMethods.fct_data_ptr(Handle);
        if (p == null) throw TorchException.FromNative();
        return new Span<T>(p, checked((int)NumberOfElements));
    }

    /// <summary>The value of a one-element tensor as a double.</summary>
    public double ToDouble()
    {
        NativeMethods.Check(NativeMethods.fct_item_double(Handle, out var v));
        return v;
    }

    /// <summary>The value of a one-element tensor as an integer.</summary>
    public long ToInt64()
    {
        NativeMethods.Check(NativeMethods.fct_item_long(Handle, out var v));
        return v;
    }

    /// <summary>The dtype that stores elements of .NET type <typeparamref name="T"/>.</summary>
    public static DType DTypeOf<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(sbyte)) return DType.Int8;
        if (typeof(T) == typeof(short)) return DType.Int16;
        if (typeof(T) == typeof(Half)) return DType.Float16;
        throw new NotSupportedException($"no tensor dtype for {typeof(T).Name} (bf16: convert from float with To(DType.BFloat16))");
    }

    private static void CheckCount(int length, ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"negative dimension {s} in shape");
            count *= s;
        }
        if (count != length)
            throw new ArgumentException($"{length} elements do not fill shape [{string.Join(", ", shape.ToArray())}] ({count} elements)");
    }

    // ---- conversions ----

    /// <summary>Converts to another dtype (returns a new tensor even when the dtype is unchanged).</summary>
    public Tensor To(DType dtype) => Wrap(NativeMethods.fct_to_dtype(Handle, (int)dtype));

    /// <summary>Moves to another device.</summary>
    public Tensor To(Device device) => Wrap(NativeMethods.fct_to_device(Handle, (int)device.Type, device.Index));

    /// <summary>A copy with its own storage.</summary>
    public Tensor Clone() => Wrap(NativeMethods.fct_clone(Handle));

    /// <summary>The same data, cut from autograd history.</summary>
    public Tensor Detach() => Wrap(NativeMethods.fct_detach(Handle));

    /// <summary>A second handle to the same tensor (same data, same autograd identity).</summary>
    public Tensor Alias() => Wrap(NativeMethods.fct_alias(Handle));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static IntPtr OptionalHandle(Tensor? t) => t is null ? IntPtr.Zero : t.Handle;
}
