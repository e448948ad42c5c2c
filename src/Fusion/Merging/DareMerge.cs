using System.Text;
using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// DARE: drop each delta entry at random, keeping it with probability density, rescale the kept entries by
/// 1/density (unbiased in expectation), then mix as task arithmetic (dare_linear) or with TIES sign
/// consensus (dare_ties). Normalize defaults to false for both, as in mergekit.
/// </summary>
/// <remarks>
/// Masks come from libtorch's CPU generator reseeded per (seed, tensor name, model index), so a tensor's
/// result does not depend on which tensors were merged before it or on which machine. The generator's
/// previous state is restored afterwards; the reseeding is serialised across DARE calls but still touches
/// the process-wide generator, so do not draw random numbers on other threads during a DARE merge.
/// </remarks>
public sealed class DareMerge : IMergeMethod
{
    private static readonly Lock GeneratorLock = new();

    /// <summary>Creates dare_ties when <paramref name="signConsensus"/> is true, else dare_linear.</summary>
    public DareMerge(bool signConsensus) => SignConsensus = signConsensus;

    /// <summary>True for dare_ties (TIES sign election), false for dare_linear.</summary>
    public bool SignConsensus { get; }

    /// <inheritdoc/>
    public string Name => SignConsensus ? "dare_ties" : "dare_linear";

    /// <inheritdoc/>
    public Tensor Merge(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global) =>
        MergeTensors.MergeCopies(this, tensorName, pivot, models, perModel, global);

    /// <inheritdoc/>
    public Tensor MergeInPlace(string tensorName, Tensor pivot, IReadOnlyList<Tensor> models, IReadOnlyList<ModelMergeParameters> perModel, MergeParameters global)
    {
        MergeTensors.CheckArguments(tensorName, pivot, models, perModel);
        ArgumentNullException.ThrowIfNull(global);
        MergeTensors.CheckWorkingTensors(tensorName, pivot, models);
        for (var i = 0; i < models.Count; i++)
        {
            models[i].AddInPlace(pivot, -1);
            var density = perModel[i].Density;
            if (density >= 1) continue;
            DropInPlace(models[i], density, global.Rescale, DeriveSeed(global.Seed, tensorName, i));
        }
        return TaskVectorMixing.MixInPlace(pivot, models, perModel, SignConsensus, global.Normalize ?? false, global.Lambda);
    }

    /// <summary>
    /// Drops the delta's entries whose uniform draw is not below the density, piece by piece. The CPU
    /// generator fills a tensor element by element in order, so consecutive pieces draw exactly the numbers
    /// one whole-tensor draw would, without a tensor-sized buffer of them.
    /// </summary>
    private static void DropInPlace(Tensor delta, double density, bool rescale, ulong seed)
    {
        using var scope = DisposeScope.Open();
        var flat = delta.Reshape(-1);
        // Drawn on the CPU whatever the device, so CPU and GPU merges drop the same entries.
        lock (GeneratorLock)
        {
            var saved = TorchRuntime.GetRngState();
            try
            {
                TorchRuntime.ManualSeed(seed);
                foreach (var (start, length) in MergeTensors.Chunks(flat.NumberOfElements))
                {
                    using var piece = DisposeScope.Open();
                    var uniform = Tensor.Rand([length], DType.Float32, Device.Cpu);
                    var keep = uniform.To(delta.Device).Lt(density).To(DType.Float32);
                    var target = flat.Narrow(0, start, length);
                    var dropped = target * keep;
                    if (rescale && density > 0) dropped.MulInPlace(1 / density);
                    target.CopyFrom(dropped);
                }
            }
            finally
            {
                TorchRuntime.SetRngState(saved);
            }
        }
    }

    /// <summary>A stable (not string.GetHashCode) 64-bit mix of the seed, the tensor name and the model index.</summary>
    internal static ulong DeriveSeed(ulong seed, string tensorName, int modelIndex)
    {
        var h = 14695981039346656037UL; // FNV-1a over the UTF-8 name
        foreach (var b in Encoding.UTF8.GetBytes(tensorName))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return SplitMix(SplitMix(seed ^ h) ^ (ulong)modelIndex);
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
