using Orleans.Placement;

namespace FuseChat.Grains.Placement;

/// <summary>
/// Places activations of the marked grain class only on silos whose metadata says <c>gpu=true</c>
/// (see <see cref="GpuPlacementSiloBuilderExtensions.UseFuseChatGpuPlacement"/>). Without such a
/// silo, activation fails (<see cref="GpuPlacement.IsNoGpuSiloError"/>) unless
/// <see cref="GpuSiloOptions.AllowCpuFallback"/> is set.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RequiresGpuAttribute : PlacementFilterAttribute
{
    /// <summary>Marks the grain class with the GPU filter at order 0.</summary>
    public RequiresGpuAttribute()
        : this(0)
    {
    }

    /// <summary>Marks the grain class with the GPU filter at the given order.</summary>
    /// <param name="order">Order among the grain's placement filters; must be distinct from the others'.</param>
    public RequiresGpuAttribute(int order)
        : base(new GpuPlacementFilterStrategy(order))
    {
    }

    /// <summary>Order among the grain's placement filters.</summary>
    public int Order => PlacementFilterStrategy.Order;
}
