namespace FuseChat.Torch;

public sealed unsafe partial class Tensor
{
    // Codes of fct_binary / fct_binary_scalar and fct_unary in native/shim_ops.cpp.
    private enum BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, And, Or, Remainder }

    private enum UnaryOp
    {
        Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sin, Cos, Tanh, Sigmoid, Relu, Silu, Gelu, GeluTanh,
        Sign, Square, Reciprocal, Not, IsNan, IsInf, IsFinite, Floor, Ceil, Round, Log1p, Expm1,
    }

    private Tensor Binary(BinaryOp op, Tensor other) => Wrap(NativeMethods.fct_binary((int)op, Handle, other.Handle));
    private Tensor Binary(BinaryOp op, double other) => Wrap(NativeMethods.fct_binary_scalar((int)op, Handle, other));
    private Tensor Unary(UnaryOp op) => Wrap(NativeMethods.fct_unary((int)op, Handle));

    /// <summary>Element-wise sum (broadcasting).</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Binary(BinaryOp.Add, b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double b) => a.Binary(BinaryOp.Add, b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(double a, Tensor b) => b.Binary(BinaryOp.Add, a);
    /// <summary>Element-wise difference.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Binary(BinaryOp.Sub, b);
    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double b) => a.Binary(BinaryOp.Sub, b);
    /// <summary>Scalar minus tensor.</summary>
    public static Tensor operator -(double a, Tensor b) => Wrap(NativeMethods.fct_rsub_scalar(b.Handle, a));
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.Unary(UnaryOp.Neg);
    /// <summary>Element-wise product.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Binary(BinaryOp.Mul, b);
    /// <summary>Scales by a scalar.</summary>
    public static Tensor operator *(Tensor a, double b) => a.Binary(BinaryOp.Mul, b);
    /// <summary>Scales by a scalar.</summary>
    public static Tensor operator *(double a, Tensor b) => b.Binary(BinaryOp.Mul, a);
    /// <summary>Element-wise quotient (true division).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Binary(BinaryOp.Div, b);
    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double b) => a.Binary(BinaryOp.Div, b);
    /// <summary>Scalar divided by tensor.</summary>
    public static Tensor operator /(double a, Tensor b) => Wrap(NativeMethods.fct_rdiv_scalar(b.Handle, a));

    /// <summary>Element-wise power.</summary>
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, exponent);
    /// <summary>Element-wise power by a scalar exponent.</summary>
    public Tensor Pow(double exponent) => Binary(BinaryOp.Pow, exponent);
    /// <summary>Element-wise maximum.</summary>
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Maximum, other);
    /// <summary>Element-wise minimum.</summary>
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Minimum, other);
    /// <summary>Element-wise remainder with the sign of the divisor (Python's %).</summary>
    public Tensor Remainder(Tensor other) => Binary(BinaryOp.Remainder, other);
    /// <summary>Element-wise remainder by a scalar.</summary>
    public Tensor Remainder(double other) => Binary(BinaryOp.Remainder, other);

    /// <summary>Element-wise equality (bool).</summary>
    public Tensor Eq(Tensor other) => Binary(BinaryOp.Eq, other);
    /// <summary>Element-wise equality with a scalar (bool).</summary>
    public Tensor Eq(double other) => Binary(BinaryOp.Eq, other);
    /// <summary>Element-wise inequality (bool).</summary>
    public Tensor Ne(Tensor other) => Binary(BinaryOp.Ne, other);
    /// <summary>Element-wise inequality with a scalar (bool).</summary>
    public Tensor Ne(double other) => Binary(BinaryOp.Ne, other);
    /// <summary>Element-wise less-than (bool).</summary>
    public Tensor Lt(Tensor other) => Binary(BinaryOp.Lt, other);
    /// <summary>Element-wise less-than a scalar (bool).</summary>
    public Tensor Lt(double other) => Binary(BinaryOp.Lt, other);
    /// <summary>Element-wise less-or-equal (bool).</summary>
    public Tensor Le(Tensor other) => Binary(BinaryOp.Le, other);
    /// <summary>Element-wise less-or-equal a scalar (bool).</summary>
    public Tensor Le(double other) => Binary(BinaryOp.Le, other);
    /// <summary>Element-wise greater-than (bool).</summary>
    public Tensor Gt(Tensor other) => Binary(BinaryOp.Gt, other);
    /// <summary>Element-wise greater-than a scalar (bool).</summary>
    public Tensor Gt(double other) => Binary(BinaryOp.Gt, other);
    /// <summary>Element-wise greater-or-equal (bool).</summary>
    public Tensor Ge(Tensor other) => Binary(BinaryOp.Ge, other);
    /// <summary>Element-wise greater-or-equal a scalar (bool).</summary>
    public Tensor Ge(double other) => Binary(BinaryOp.Ge, other);
    /// <summary>Element-wise logical and.</summary>
    public Tensor LogicalAnd(Tensor other) => Binary(BinaryOp.And, other);
    /// <summary>Element-wise logical or.</summary>
    public Tensor LogicalOr(Tensor other) => Binary(BinaryOp.Or, other);
    /// <summary>Element-wise logical not.</summary>
    public Tensor LogicalNot() => Unary(UnaryOp.Not);

    /// <summary>e^x.</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp);
    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => Unary(UnaryOp.Log);
    /// <summary>log(1 + x).</summary>
    public Tensor Log1p() => Unary(UnaryOp.Log1p);
    /// <summary>e^x - 1.</summary>
    public Tensor Expm1() => Unary(UnaryOp.Expm1);
    /// <summary>Square root.</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    /// <summary>1 / sqrt(x).</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);
    /// <summary>Absolute value.</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs);
    /// <summary>Sine.</summary>
    public Tensor Sin() => Unary(UnaryOp.Sin);
    /// <summary>Cosine.</summary>
    public Tensor Cos() => Unary(UnaryOp.Cos);
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    /// <summary>Logistic sigmoid.</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => Unary(UnaryOp.Relu);
    /// <summary>x * sigmoid(x) (SwiGLU's gate activation).</summary>
    public Tensor Silu() => Unary(UnaryOp.Silu);
    /// <summary>GELU, exact (erf) or with the tanh approximation.</summary>
    public Tensor Gelu(bool tanhApproximation = false) => Unary(tanhApproximation ? UnaryOp.GeluTanh : UnaryOp.Gelu);
    /// <summary>-1, 0 or +1.</summary>
    public Tensor Sign() => Unary(UnaryOp.Sign);
    /// <summary>x².</summary>
    public Tensor Square() => Unary(UnaryOp.Square);
    /// <summary>1 / x.</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    /// <summary>True where NaN.</summary>
    public Tensor IsNan() => Unary(UnaryOp.IsNan);
    /// <summary>True where ±infinity.</summary>
    public Tensor IsInf() => Unary(UnaryOp.IsInf);
    /// <summary>True where finite.</summary>
    public Tensor IsFinite() => Unary(UnaryOp.IsFinite);
    /// <summary>Rounds down.</summary>
    public Tensor Floor() => Unary(UnaryOp.Floor);
    /// <summary>Rounds up.</summary>
    public Tensor Ceil() => Unary(UnaryOp.Ceil);
    /// <summary>Rounds half to even.</summary>
    public Tensor Round() => Unary(UnaryOp.Round);

    /// <summary>Limits values to [min, max]; a null bound is open.</summary>
    public Tensor Clamp(double? min = null, double? max = null) =>
        Wrap(NativeMethods.fct_clamp(Handle, min ?? 0, max ?? 0, min.HasValue ? 1 : 0, max.HasValue ? 1 : 0));

    // ---- matrix products ----

    /// <summary>Matrix product with numpy broadcasting rules (torch.matmul).</summary>
    public Tensor MatMul(Tensor other) => Wrap(NativeMethods.fct_matmul(Handle, other.Handle));

    /// <summary>Batched matrix product of [b, n, m] and [b, m, p].</summary>
    public Tensor Bmm(Tensor other) => Wrap(NativeMethods.fct_bmm(Handle, other.Handle));

    // ---- in place: no autograd history, for optimisers, weight loading and accumulators ----

    /// <summary>this += alpha * other, in place.</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1)
    {
        NativeMethods.Check(NativeMethods.fct_add_(Handle, other.Handle, alpha));
        return this;
    }

    /// <summary>this *= s, in place.</summary>
    public Tensor MulInPlace(double s)
    {
        NativeMethods.Check(NativeMethods.fct_mul_scalar_(Handle, s));
        return this;
    }

    /// <summary>Sets every element to <paramref name="value"/>, in place.</summary>
    public Tensor FillInPlace(double value)
    {
        NativeMethods.Check(NativeMethods.fct_fill_(Handle, value));
        return this;
    }

    /// <summary>Sets every element to zero, in place.</summary>
    public Tensor ZeroInPlace()
    {
        NativeMethods.Check(NativeMethods.fct_zero_(Handle));
        return this;
    }

    /// <summary>Copies <paramref name="source"/> (broadcast, converted) into this tensor's storage.</summary>
    public Tensor CopyFrom(Tensor source)
    {
        NativeMethods.Check(NativeMethods.fct_copy_(Handle, source.Handle));
        return this;
    }
}
