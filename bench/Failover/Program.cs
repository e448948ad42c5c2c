using System.Globalization;
using FuseChat.Bench.Failover;

// bench/run failover [--epochs=N] [--checkpoint-every=N] [--kill-at=N] [--work=DIR] [--per-silo-disks=true]
// Last line: failover: completed=yes|no identical=yes|no lost_steps=N; exit code 0 only when the scenario passed.
var settings = args.Select(a => a.Split('=', 2)).Where(p => p.Length == 2 && p[0].StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p[0][2..], p => p[1], StringComparer.Ordinal);
int? Int(string key) => settings.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : null;
var root = settings.GetValueOrDefault("repo") ?? Environment.CurrentDirectory;
var options = new FailoverOptions
{
    RepositoryRoot = root,
    ClientDll = settings.GetValueOrDefault("client") ?? Path.Combine(AppContext.BaseDirectory, "fusechat.dll"),
    WorkFolder = settings.GetValueOrDefault("work") ?? Path.Combine(root, ".artifacts", "bench", "failover-work"),
    Epochs = Int("epochs") ?? 12,
    CheckpointEvery = Int("checkpoint-every") ?? 20,
    KillAtStep = Int("kill-at"),
    PerSiloDisks = settings.TryGetValue("per-silo-disks", out var disks) && bool.Parse(disks),
    Say = line => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}"),
};
var result = await FailoverScenario.RunAsync(options);
if (!result.Passed) Console.WriteLine($"problem: {result.Detail}");
Console.WriteLine(result.Line);
return result.Passed ? 0 : 1;
