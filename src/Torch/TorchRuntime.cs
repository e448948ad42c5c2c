namespace FuseChat.Torch;

/// <summary>Process-wide libtorch settings: versions, devices, threads, seeds, determinism.</summary>
public static class TorchRuntime
{
    /// <summary>The libtorch version the shim was built against, e.g. "1.13.0".</summary>
    public static string Version
    {
        get
        {
            NativeMethods.fct_version(out var major, out var minor, out var patch);
            return $"{major}.{minor}.{patch}";
        }
    }

    /// <summary>True when libtorch offers a fused scaled_dot_product_attention (2.x); else it is composed.</summary>
    public static bool HasFusedAttention => NativeMethods.fct_has_sdpa() != 0;

    /// <summary>Number of CUDA devices usable by this libtorch (0 on a CPU build).</summary>
    public static int CudaDeviceCount => NativeMethods.fct_cuda_device_count();

    /// <summary>
    /// Bytes that live tensors hold on accelerator <paramref name="deviceIndex"/> (CUDA) now and at most since the
    /// last reset (<paramref name="resetPeak"/> resets it first), as libtorch's caching allocator counts them: the
    /// figure PyTorch's <c>torch.cuda.max_memory_allocated</c> reports. Null where there is no accelerator or the shim
    /// was built against a libtorch before 2.9, which has no device-generic statistics.
    /// </summary>
    public static (long Allocated, long Peak)? DeviceMemory(int deviceIndex = 0, bool resetPeak = false)
    {
        var known = NativeMethods.fct_device_memory(deviceIndex, resetPeak ? 1 : 0, out var allocated, out var peak);
        NativeMethods.Check(known < 0 ? -1 : 0);
        return known == 1 ? (allocated, peak) : null;
    }

    /// <summary>True when at least one CUDA device is usable.</summary>
    public static bool IsCudaAvailable => CudaDeviceCount > 0;

    /// <summary>Intra-op threads libtorch uses for one operation.</summary>
    public static int Threads
    {
        get => NativeMethods.fct_get_num_threads();
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "thread count must be at least 1");
            NativeMethods.fct_set_num_threads(value);
        }
    }

    /// <summary>Sets the inter-op thread count; libtorch allows this only before any parallel work ran.</summary>
    public static void SetInteropThreads(int n) => NativeMethods.Check(NativeMethods.fct_set_num_interop_threads(n));

    /// <summary>Seeds libtorch's default generators (CPU and CUDA).</summary>
    public static void ManualSeed(ulong seed) => NativeMethods.fct_manual_seed(seed);

    /// <summary>Makes operations deterministic (libtorch raises for ops that have no deterministic kernel).</summary>
    public static void SetDeterministic(bool on) => NativeMethods.Check(NativeMethods.fct_set_deterministic(on ? 1 : 0));

    /// <summary>True while autograd records operations on this thread.</summary>
    public static bool IsGradEnabled => NativeMethods.fct_is_grad_enabled() != 0;

    /// <summary>The default CPU generator's state, to store in a checkpoint.</summary>
    public static byte[] GetRngState()
    {
        using var state = new Tensor(NativeMethods.Check(NativeMethods.fct_rng_get_state()), track: false);
        return state.ToArray<byte>();
    }

    /// <summary>Restores a state returned by <see cref="GetRngState"/>.</summary>
    public static void SetRngState(byte[] state)
    {
        using var t = Tensor.From<byte>(state, [state.Length]);
        NativeMethods.Check(NativeMethods.fct_rng_set_state(t.Handle));
    }
}
