using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Runs;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>The fan-out behind the alignment shards and the merge ranges: never more units active than allowed.</summary>
public class WorkerFanOutTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void NeverMoreUnitsActiveThanAllowed(int parallel)
    {
        // Each unit reports Running on its first two start calls and Completed on the third (one per poll).
        const int count = 5;
        var calls = new int[count];
        var active = new HashSet<int>();
        var mostActive = 0;
        var gate = new object();
        var units = Enumerable.Range(0, count).Select(i => new WorkerFanOut.Unit($"unit {i}", () =>
        {
            lock (gate)
            {
                var state = ++calls[i] >= 3 ? RunState.Completed : RunState.Running;
                if (state == RunState.Completed)
                {
                    active.Remove(i);
                }
                else
                {
                    active.Add(i);
                    mostActive = Math.Max(mostActive, active.Count);
                }
                return Task.FromResult(new WorkStatus { State = state });
            }
        })).ToList();
        var reports = new List<int>();
        WorkerFanOut.Run(units, parallel, (done, _) => reports.Add(done), CancellationToken.None);
        Assert.All(calls, c => Assert.Equal(3, c));
        Assert.Equal(Math.Min(parallel, count), mostActive);
        Assert.Equal(count, reports[^1]);
    }
}
