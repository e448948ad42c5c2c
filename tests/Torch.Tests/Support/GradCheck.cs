namespace FuseChat.Torch.Tests.Support;

/// <summary>
/// Compares autograd gradients with central finite differences in float64. The function maps the
/// inputs to a scalar; <see cref="Project"/> turns a non-scalar output into one with irregular weights
/// (a plain sum would hide errors, e.g. softmax sums to 1 whatever its input).
/// </summary>
internal static class GradCheck
{
    private const double Step = 1e-6;
    private const double Tolerance = 1e-6;

    /// <summary>Sum of y times fixed irregular weights: a scalar that depends on every element of y.</summary>
    public static Tensor Project(Tensor y)
    {
        var n = checked((int)y.NumberOfElements);
        var w = new double[n];
        for (var i = 0; i < n; i++) w[i] = 0.4 + 0.6 * Math.Sin(1.3 * i + 0.7);
        using var weights = Tensor.From<double>(w, y.Shape);
        using var product = y * weights;
        return product.Sum();
    }

    /// <summary>Checks the gradient of f with respect to every input (all float64).</summary>
    public static void CheckAll(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        using var scope = DisposeScope.Open();
        foreach (var x in inputs) Assert.Equal(DType.Float64, x.DType);

        var data = inputs.Select(x => x.ToArray<double>()).ToArray();
        var shapes = inputs.Select(x => x.Shape).ToArray();

        // Analytic gradients.
        var leaves = inputs.Select(x => x.Detach().RequiresGradient()).ToArray();
        var y = f(leaves);
        Assert.Equal(0, y.Dim);
        y.Backward();
        var analytic = leaves.Select(l => l.Grad is { } g ? g.ToArray<double>() : new double[l.NumberOfElements]).ToArray();

        // Numeric gradients, one element at a time.
        double Evaluate(int which, int index, double delta)
        {
            using var inner = DisposeScope.Open();
            using var noGrad = NoGradScope.Enter();
            var args = new Tensor[inputs.Length];
            for (var k = 0; k < inputs.Length; k++)
            {
                if (k != which) { args[k] = Tensor.From<double>(data[k], shapes[k]); continue; }
                var copy = (double[])data[k].Clone();
                copy[index] += delta;
                args[k] = Tensor.From<double>(copy, shapes[k]);
            }
            return f(args).ToDouble();
        }

        for (var k = 0; k < inputs.Length; k++)
        {
            for (var i = 0; i < data[k].Length; i++)
            {
                var numeric = (Evaluate(k, i, Step) - Evaluate(k, i, -Step)) / (2 * Step);
                var a = analytic[k][i];
                Assert.True(Math.Abs(a - numeric) <= Tolerance * (1 + Math.Abs(numeric)),
                    $"input {k} element {i}: autograd {a:R}, finite difference {numeric:R}");
            }
        }
    }

    /// <summary>Checks a one-input function.</summary>
    public static void Check(Func<Tensor, Tensor> f, Tensor input) => CheckAll(xs => f(xs[0]), input);
}
