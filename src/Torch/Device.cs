namespace FuseChat.Torch;

/// <summary>Kinds of device a tensor can live on.</summary>
public enum DeviceType
{
    /// <summary>Host memory.</summary>
    Cpu = 0,
    /// <summary>An NVIDIA GPU (needs a CUDA build of libtorch).</summary>
    Cuda = 1,
}

/// <summary>A device: "cpu" or "cuda:N".</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    /// <summary>The host.</summary>
    public static Device Cpu { get; } = new(DeviceType.Cpu);

    /// <summary>GPU number <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>Parses "cpu", "cuda" or "cuda:N".</summary>
    public static Device Parse(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        if (s == "cpu") return Cpu;
        if (s == "cuda") return Cuda();
        if (s.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(s.AsSpan(5), out var index) && index >= 0)
            return Cuda(index);
        throw new ArgumentException($"unknown device '{text}' (expected cpu, cuda or cuda:N)", nameof(text));
    }

    /// <inheritdoc/>
    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
