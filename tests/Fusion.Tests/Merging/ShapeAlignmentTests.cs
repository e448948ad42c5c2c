using FuseChat.Fusion.Merging;
using FuseChat.Torch;
using static FuseChat.Fusion.Tests.Merging.MergeTestData;

namespace FuseChat.Fusion.Tests.Merging;

public class ShapeAlignmentTests
{
    [Theory]
    [InlineData("model.embed_tokens.weight")]
    [InlineData("lm_head.weight")]
    public void ExtraVocabularyRowsOfATargetAreDropped(string name)
    {
        using var scope = DisposeScope.Open();
        var pivot = T([3, 2], 0, 0, 0, 0, 0, 0);
        var grown = T([5, 2], 1, 2, 3, 4, 5, 6, 70, 80, 90, 100);
        var same = T([3, 2], 1, 1, 1, 1, 1, 1);
        // Task arithmetic with w = 1 each: the first 3 rows of the grown target plus the other target.
        var merged = new TaskArithmeticMerge().Merge(name, pivot, [grown, same], Uniform(2), new MergeParameters());
        Assert.Equal([3L, 2], merged.Shape);
        AssertValues([2, 3, 4, 5, 6, 7], merged);
        // SCE sees the same pivot-shaped sub-matrix.
        Assert.Equal([3L, 2], new SceMerge().Merge(name, pivot, [grown, same], Uniform(2), new MergeParameters { SelectTopK = 0.1 }).Shape);
    }

    [Fact]
    public void AnyOtherMismatchNamesTheTensorAndBothShapes()
    {
        using var scope = DisposeScope.Open();
        var pivot = Tensor.Zeros([2, 3]);
        var other = Tensor.Zeros([3, 2]);
        var e = Assert.Throws<ArgumentException>(() =>
            new SceMerge().Merge("model.layers.3.mlp.down_proj.weight", pivot, [pivot, other], Uniform(2), new MergeParameters()));
        Assert.Contains("model.layers.3.mlp.down_proj.weight", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }

    [Fact]
    public void VocabularyTensorsMayOnlyGainRows()
    {
        using var scope = DisposeScope.Open();
        var pivot = Tensor.Zeros([4, 2]);
        var fewerRows = Tensor.Zeros([3, 2]);
        var moreColumns = Tensor.Zeros([5, 3]);
        foreach (var bad in new[] { fewerRows, moreColumns })
        {
            var e = Assert.Throws<ArgumentException>(() =>
                new LinearMerge().Merge("model.embed_tokens.weight", pivot, [bad], Uniform(1), new MergeParameters()));
            Assert.Contains("model.embed_tokens.weight", e.Message);
            Assert.Contains("[4, 2]", e.Message);
        }
    }

    [Fact]
    public void ParameterCountMustMatchModelCount()
    {
        using var scope = DisposeScope.Open();
        var pivot = Tensor.Zeros([2]);
        Assert.Throws<ArgumentException>(() => new VarmMerge().Merge("w", pivot, [pivot, pivot], Uniform(1), new MergeParameters()));
        Assert.Throws<ArgumentException>(() => new VarmMerge().Merge("w", pivot, [], [], new MergeParameters()));
    }
}
