namespace FuseChat.Torch;

/// <summary>How a loss reduces over its elements.</summary>
public enum Reduction
{
    /// <summary>One value per element.</summary>
    None = 0,
    /// <summary>Mean over the elements that count.</summary>
    Mean = 1,
    /// <summary>Sum over the elements.</summary>
    Sum = 2,
}

/// <summary>Neural-network functions (torch.nn.functional).</summary>
public static class Functional
{
    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    public static Tensor Softmax(Tensor x, long dim) => Tensor.Wrap(NativeMethods.fct_softmax(x.Handle, dim));

    /// <summary>log(softmax(x)) along <paramref name="dim"/>, computed stably.</summary>
    public static Tensor LogSoftmax(Tensor x, long dim) => Tensor.Wrap(NativeMethods.fct_log_softmax(x.Handle, dim));

    /// <summary>x Wᵀ + b.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null) =>
        Tensor.Wrap(NativeMethods.fct_linear(x.Handle, weight.Handle, Tensor.OptionalHandle(bias)));

    /// <summary>
    /// Rows of <paramref name="weight"/> at <paramref name="indices"/> (int64 or int32). The row
    /// <paramref name="paddingIndex"/>, when given, gets no gradient from the lookup (PyTorch's padding_idx).
    /// </summary>
    public static Tensor Embedding(Tensor weight, Tensor indices, long? paddingIndex = null) =>
        Tensor.Wrap(NativeMethods.fct_embedding(weight.Handle, indices.Handle, paddingIndex ?? -1));

    /// <summary>Zeroes elements with probability p when training (scaling the rest by 1/(1-p)).</summary>
    public static Tensor Dropout(Tensor x, double p, bool training) => Tensor.Wrap(NativeMethods.fct_dropout(x.Handle, p, training ? 1 : 0));

    /// <summary>Draws <paramref name="samples"/> indices per row from (unnormalised) probabilities.</summary>
    public static Tensor Multinomial(Tensor probabilities, long samples, bool replacement = false) =>
        Tensor.Wrap(NativeMethods.fct_multinomial(probabilities.Handle, samples, replacement ? 1 : 0));

    /// <summary>
    /// Cross entropy of logits [N, C] (or [N, C, d...]) against class indices [N]; targets equal to
    /// <paramref name="ignoreIndex"/> contribute nothing and are left out of the mean.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, long ignoreIndex = -100, Reduction reduction = Reduction.Mean,
        double labelSmoothing = 0) =>
        Tensor.Wrap(NativeMethods.fct_cross_entropy(logits.Handle, targets.Handle, ignoreIndex, (int)reduction, labelSmoothing));

    /// <summary>x / sqrt(mean(x², last dim) + eps) * weight (Llama's RMSNorm).</summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, double eps) => Tensor.Wrap(NativeMethods.fct_rms_norm(x.Handle, weight.Handle, eps));

    /// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
    public static Tensor SwiGlu(Tensor x, Tensor gate, Tensor up, Tensor down)
    {
        using var g = Linear(x, gate);
        using var a = g.Silu();
        using var u = Linear(x, up);
        using var h = a * u;
        return Linear(h, down);
    }

    /// <summary>
    /// softmax(q kᵀ · scale + mask) v over [batch, heads, length, head_dim]. <paramref name="mask"/> is
    /// boolean (true = may attend) or additive; <paramref name="isCausal"/> hides later positions.
    /// Fused kernel on libtorch 2.x, composed on 1.13.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? mask = null, bool isCausal = false, double? scale = null) =>
        Tensor.Wrap(NativeMethods.fct_sdpa(q.Handle, k.Handle, v.Handle, Tensor.OptionalHandle(mask), isCausal ? 1 : 0, scale ?? 0));

    /// <summary>
    /// Rotates neighbouring pairs (x[..., 2i], x[..., 2i + 1]) by the angles of <see cref="ApplyRotary"/>'s pair i
    /// (GLM's interleaved layout): cos and sin are the same [length, d] tables, whose first half is repeated pairwise,
    /// in the order of operations transformers' Glm4 apply_rotary_pos_emb uses.
    /// </summary>
    public static Tensor ApplyInterleavedRotary(Tensor x, Tensor cos, Tensor sin)
    {
        var d = x.Size(-1);
        using var scope = DisposeScope.Open();
        var pairs = x.Reshape([.. x.Shape[..^1], d / 2, 2]);
        var rotated = Tensor.Stack([-pairs.Select(-1, 1), pairs.Select(-1, 0)], -1).Reshape(x.Shape);
        var cosPairs = cos.Narrow(-1, 0, d / 2).RepeatInterleave(2, -1);
        var sinPairs = sin.Narrow(-1, 0, d / 2).RepeatInterleave(2, -1);
        return ((x * cosPairs) + (rotated * sinPairs)).MoveToOuterScope();
    }

    /// <summary>
    /// Rotates pairs (x[..., i], x[..., i + d/2]) by position-dependent angles (rotary embeddings,
    /// Hugging Face's "rotate_half" layout). cos and sin are [length, d] and broadcast over batch and heads.
    /// </summary>
    public static Tensor ApplyRotary(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.Size(-1) / 2;
        using var x1 = x.Narrow(-1, 0, half);
        using var x2 = x.Narrow(-1, half, half);
        using var negX2 = -x2;
        using var rotated = Tensor.Cat([negX2, x1], -1);
        using var a = x * cos;
        using var b = rotated * sin;
        return a + b;
    }
}
