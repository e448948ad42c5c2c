namespace FuseChat.Torch.Nn;

/// <summary>A lookup table of [count, dim] vectors.</summary>
public sealed class Embedding : Module
{
    /// <summary>
    /// Creates the table with entries drawn from Normal(0, <paramref name="std"/>); the row
    /// <paramref name="paddingIndex"/>, when given, is not trained through lookups (PyTorch's padding_idx, which
    /// Hugging Face models set to the config's pad_token_id).
    /// </summary>
    public Embedding(long count, long dim, double std = 0.02, DType dtype = DType.Float32, Device? device = null, long? paddingIndex = null)
    {
        if (paddingIndex is { } p && (p < 0 || p >= count))
            throw new ArgumentOutOfRangeException(nameof(paddingIndex), p, $"the padding index must be a row of the {count}-row table");
        Weight = RegisterParameter("weight", Init.Normal([count, dim], std, dtype, device));
        PaddingIndex = paddingIndex;
    }

    /// <summary>[count, dim].</summary>
    public Tensor Weight { get; }

    /// <summary>The row lookups do not train, or null.</summary>
    public long? PaddingIndex { get; }

    /// <summary>Looks up the rows of <paramref name="ids"/>.</summary>
    public Tensor Forward(Tensor ids) => Functional.Embedding(Weight, ids, PaddingIndex);
}
