using FuseChat.Torch.Tests.Support;

namespace FuseChat.Torch.Tests.Ops;

public class LowPrecisionTests
{
    [Fact]
    public void RmsNormInBFloat16MatchesTheFloat32ComputationRounded()
    {
        using var scope = DisposeScope.Open();
        // Hugging Face's LlamaRMSNorm normalises in fp32 and rounds once: weight * x_normed.to(bf16).
        var x32 = Make.Det([4, 64], 0.3, 3).To(DType.Float32);
        var w32 = Make.Positive([64], 0.9).To(DType.Float32);
        var x = x32.To(DType.BFloat16);
        var w = w32.To(DType.BFloat16);
        var xUp = x.To(DType.Float32);
        var normed = (xUp * (xUp.Square().Mean(-1, keepDim: true) + 1e-6).Rsqrt()).To(DType.BFloat16);
        var expected = w * normed;
        var actual = Functional.RmsNorm(x, w, 1e-6);
        Assert.Equal(DType.BFloat16, actual.DType);
        TensorAssert.Close(TensorAssert.Values(expected), actual, 0);
    }
}
