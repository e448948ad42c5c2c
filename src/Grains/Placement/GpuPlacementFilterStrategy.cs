using Orleans.Placement;

namespace FuseChat.Grains.Placement;

/// <summary>
/// The placement filter strategy behind <see cref="RequiresGpuAttribute"/>: candidate silos are
/// narrowed to those whose metadata says <c>gpu=true</c> by <see cref="GpuPlacementFilterDirector"/>.
/// </summary>
/// <remarks>
/// Orleans re-creates strategies on every silo from the grain's properties (keyed by this type's
/// name), hence the parameterless constructor and no state beyond the order.
/// </remarks>
public sealed class GpuPlacementFilterStrategy : PlacementFilterStrategy
{
    /// <summary>Creates the strategy with order 0, as Orleans does when it resolves it from the container.</summary>
    public GpuPlacementFilterStrategy()
        : this(0)
    {
    }

    /// <summary>Creates the strategy with the given order relative to other placement filters of the grain.</summary>
    /// <param name="order">Filters of one grain run in ascending order; orders must be distinct.</param>
    public GpuPlacementFilterStrategy(int order)
        : base(order)
    {
    }
}
