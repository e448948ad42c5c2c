using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Runs;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// Every work record a run plan makes, in its worker state, survives the silo's grain-state serializer: a worker
/// reactivated on another silo must read back exactly what was written.
/// </summary>
public sealed class WorkRecordStorageTests(RunClusterFixture fixture) : IClassFixture<RunClusterFixture>
{
    [Fact]
    public void EveryWorkRecordOfAPlanIsReadBackAsWritten()
    {
        var (folder, spec) = fixture.NewRun("storage");
        var validation = RunSpecValidator.Validate(spec, folder);
        Assert.True(validation.IsValid, string.Join("\n", validation.Problems));
        var plan = new RunPlan("storage", validation.Spec!);
        var serializer = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainStorageSerializer>();

        void RoundTrip<T>(T work) where T : class
        {
            var state = new WorkerState<T> { Work = work, Status = new WorkStatus { State = RunState.Running, Detail = "step 3/9", Silo = "S127.0.0.1:1:2" } };
            var written = serializer.Serialize(state);
            var read = serializer.Deserialize<WorkerState<T>>(written);
            Assert.Equal(written.ToString(), serializer.Serialize(read).ToString());
        }

        RoundTrip(plan.Representation("pivot"));
        RoundTrip(plan.Alignment("llama3"));
        RoundTrip(new AlignmentShardWork { Alignment = plan.Alignment("qwen3"), Phase = AlignmentPhase.Align, Shard = 1 });
        RoundTrip(plan.Fusion("llama3"));
        RoundTrip(plan.Merge());
        RoundTrip(plan.Evaluation());
    }
}
