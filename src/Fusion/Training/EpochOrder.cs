namespace FuseChat.Fusion.Training;

/// <summary>
/// The order in which a batch source serves its items in one epoch: shuffled by a fixed generator seeded
/// from (seed, epoch) — not HashCode, which is randomised per process — so that the order survives a restart.
/// The last epoch's order is kept: batches are asked for one at a time, and reshuffling per batch would make an
/// epoch quadratic in its length.
/// </summary>
internal sealed class EpochOrder(int count, int? seed)
{
    private readonly Lock gate = new();
    private (int Epoch, int[] Order)? last;

    /// <summary>The item served at position <paramref name="index"/> of <paramref name="epoch"/>.</summary>
    public int this[int epoch, int index]
    {
        get
        {
            if (seed is null) return index;
            lock (gate)
            {
                if (last is not { } cached || cached.Epoch != epoch)
                {
                    var order = Enumerable.Range(0, count).ToArray();
                    new Random(unchecked(seed.Value * 1_000_003 + epoch) & int.MaxValue).Shuffle(order);
                    last = cached = (epoch, order);
                }
                return cached.Order[index];
            }
        }
    }
}
