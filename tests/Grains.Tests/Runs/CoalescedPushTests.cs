using FuseChat.Grains.Runs;

namespace FuseChat.Grains.Tests.Runs;

public sealed class CoalescedPushTests
{
    [Fact]
    public async Task RequestsDuringAPushFoldIntoOneMoreAfterIt()
    {
        var started = new List<TaskCompletionSource>();
        var pushes = new CoalescedPush(_ =>
        {
            var push = new TaskCompletionSource();
            started.Add(push);
            return push.Task;
        });

        pushes.Request(CancellationToken.None);
        pushes.Request(CancellationToken.None);
        pushes.Request(CancellationToken.None);
        Assert.Single(started);

        await pushes.PollAsync(CancellationToken.None); // still running: nothing new starts
        Assert.Single(started);
        started[0].SetResult();
        await pushes.PollAsync(CancellationToken.None);
        Assert.Equal(2, started.Count);

        started[1].SetResult();
        await pushes.DrainAsync(CancellationToken.None);
        Assert.Equal(2, started.Count);
    }

    [Fact]
    public async Task AFailedPushSurfacesAtThePollAfterItAndDrainWaitsForTheFoldedOne()
    {
        var calls = 0;
        var pushes = new CoalescedPush(_ => ++calls == 1 ? Task.FromException(new IOException("store down")) : Task.CompletedTask);

        pushes.Request(CancellationToken.None);
        var e = await Assert.ThrowsAsync<IOException>(() => pushes.PollAsync(CancellationToken.None));
        Assert.Equal("store down", e.Message);

        var gate = new TaskCompletionSource();
        var second = new CoalescedPush(_ => gate.Task);
        second.Request(CancellationToken.None);
        second.Request(CancellationToken.None);
        var drain = second.DrainAsync(CancellationToken.None);
        Assert.False(drain.IsCompleted);
        gate.SetResult();
        await drain;
    }
}
