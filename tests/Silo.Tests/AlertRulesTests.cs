using System.Text.RegularExpressions;
using FuseChat.Silo.Tests.Support;
using FuseChat.Testing.Support;

namespace FuseChat.Silo.Tests;

/// <summary>k8s/monitoring/fusechat-alerts.yaml: valid rules, alerts that fire when they should, on series the silo exports.</summary>
public sealed partial class AlertRulesTests
{
    private static readonly string Folder = RepositoryRoot.Combine("k8s", "monitoring");

    [Fact]
    public async Task The_rules_pass_promtool_check_and_their_unit_tests()
    {
        var (checkExit, checkOutput) = await Promtool.RunInAsync(Folder, "check", "rules", "fusechat-alerts.yaml");
        Assert.True(checkExit == 0, $"promtool check rules (exit {checkExit}):\n{checkOutput}");
        Assert.Contains("SUCCESS: 3 rules found", checkOutput, StringComparison.Ordinal);

        // The unit tests feed series in and expect each alert to fire, or not, at given times (fusechat-alerts.test.yaml).
        var (testExit, testOutput) = await Promtool.RunInAsync(Folder, "test", "rules", "fusechat-alerts.test.yaml");
        Assert.True(testExit == 0, $"promtool test rules (exit {testExit}):\n{testOutput}");
    }

    [Fact]
    public void Every_series_the_rules_use_is_one_the_silo_exports()
    {
        // A renamed instrument would leave an alert that never fires: the names must be in docs/metrics.md's table,
        // which EmbeddedSiloTests checks against a real scrape.
        var rules = File.ReadAllText(Path.Combine(Folder, "fusechat-alerts.yaml"));
        var documented = File.ReadAllText(RepositoryRoot.Combine("docs", "metrics.md"));
        var used = SeriesName().Matches(rules).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.Contains($"| `{name}` |", documented, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\bfusechat_[a-z_]+\b")]
    private static partial Regex SeriesName();
}
