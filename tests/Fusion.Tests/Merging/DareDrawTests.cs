using FuseChat.Fusion.Merging;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Merging;

/// <summary>
/// Compares DARE's drop pattern with a draw of the process-wide generator, so it runs alone: any test
/// drawing random numbers on another thread meanwhile would shift the sequence.
/// </summary>
[Collection(GlobalGeneratorCollection.Name)]
public class DareDrawTests
{
    private static readonly long[] Shape = [600, (MergeTensors.ChunkElements * 23 / 10 + 599) / 600];

    [Fact]
    public void DareDrawsPieceByPieceTheSameNumbersAsOneWholeTensorDraw()
    {
        using var scope = DisposeScope.Open();
        var pivot = Tensor.Zeros(Shape);
        var ones = Tensor.Ones(Shape);
        var merged = new DareMerge(signConsensus: false).Merge("w", pivot, [ones], [new(1, 0.6)], new MergeParameters { Seed = 9, Rescale = false });
        TorchRuntime.ManualSeed(DareMerge.DeriveSeed(9, "w", 0));
        var expected = Tensor.Rand(Shape).Lt(0.6).To(DType.Float32);
        Assert.Equal(expected.ToArray<float>(), merged.ToArray<float>());
    }
}
