using FuseChat.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Orleans.Runtime;

namespace FuseChat.Silo.Tests;

public sealed class SiloOptionsTests
{
    private static FuseChatSiloOptions Read(params (string Key, string Value)[] settings) =>
        SiloHost.ReadOptions(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());

    [Fact]
    public void Defaults_are_embedded_with_a_local_data_folder()
    {
        var options = Read();
        Assert.Equal(SiloMode.Embedded, options.Mode);
        Assert.Equal("./.fusechat-data", options.DataPath);
        Assert.Equal(11111, options.SiloPort);
        Assert.Equal(30000, options.GatewayPort);
    }

    [Fact]
    public void Pod_ip_and_name_fill_the_advertised_address_and_silo_name()
    {
        var options = Read(("FuseChat:Mode", "cluster"), ("FuseChat:Redis", "r:6379"), ("FuseChat:Storage:ConnectionString", "UseDevelopmentStorage=true"),
            ("FuseChat:ApiToken", "t"), ("POD_IP", "10.244.1.7"), ("POD_NAME", "fusechat-cpu-5d9f-abc"));
        Assert.Equal(SiloMode.Cluster, options.Mode);
        Assert.Equal("10.244.1.7", options.AdvertisedIP);
        Assert.Equal("fusechat-cpu-5d9f-abc", options.SiloName);
    }

    [Fact]
    public void Explicit_settings_win_over_the_pod_variables()
    {
        var options = Read(("FuseChat:AdvertisedIP", "10.0.0.9"), ("FuseChat:SiloName", "a"), ("POD_IP", "10.244.1.7"), ("POD_NAME", "b"));
        Assert.Equal("10.0.0.9", options.AdvertisedIP);
        Assert.Equal("a", options.SiloName);
    }

    [Fact]
    public void Cluster_mode_lists_every_missing_setting()
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => Read(("FuseChat:Mode", "Cluster")));
        Assert.Contains("FuseChat:ApiToken", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuseChat:Redis", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuseChat:Storage:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_metrics_series_retention_is_a_time_span_and_must_be_positive()
    {
        Assert.Equal(TimeSpan.FromMinutes(30), Read().MetricsSeriesRetention);
        Assert.Equal(TimeSpan.FromHours(2), Read(("FuseChat:MetricsSeriesRetention", "02:00:00")).MetricsSeriesRetention);
        var error = Assert.Throws<OrleansConfigurationException>(() => Read(("FuseChat:MetricsSeriesRetention", "-00:01:00")));
        Assert.Contains("FuseChat:MetricsSeriesRetention", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_advertised_ip_is_refused()
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => Read(("FuseChat:Mode", "Cluster"), ("FuseChat:Redis", "r:6379"),
            ("FuseChat:Storage:ConnectionString", "UseDevelopmentStorage=true"), ("FuseChat:ApiToken", "t"), ("POD_IP", "not-an-ip")));
        Assert.Contains("not-an-ip", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateBuilder_from_an_IConfiguration_applies_the_same_checks()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FuseChat:Mode"] = "Cluster",
            ["FuseChat:Redis"] = "127.0.0.1:1",
            ["FuseChat:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        }).Build();
        var error = Assert.Throws<OrleansConfigurationException>(() => SiloHost.CreateBuilder(configuration));
        Assert.Contains("FuseChat:ApiToken", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("FuseChat:Redis", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Artifacts_are_mirrored_by_default_in_cluster_mode_only()
    {
        var cluster = new[] { ("FuseChat:Mode", "cluster"), ("FuseChat:Redis", "r:6379"), ("FuseChat:Storage:ConnectionString", "UseDevelopmentStorage=true"), ("FuseChat:ApiToken", "t") };
        Assert.False(Read().Storage.MirrorsArtifacts(SiloMode.Embedded));
        var options = Read(cluster);
        Assert.True(options.Storage.MirrorsArtifacts(options.Mode));
        options = Read([.. cluster, ("FuseChat:Storage:MirrorArtifacts", "false")]);
        Assert.False(options.Storage.MirrorsArtifacts(options.Mode));
        options = Read(("FuseChat:Storage:MirrorArtifacts", "true"));
        Assert.True(options.Storage.MirrorsArtifacts(options.Mode));
    }

    [Fact]
    public void Artifact_retention_deletes_work_on_success_by_default_and_reads_its_names()
    {
        Assert.Equal(ArtifactRetention.DeleteWorkOnSuccess, Read().Storage.ArtifactRetention);
        Assert.Equal(ArtifactRetention.KeepAll, Read(("FuseChat:Storage:ArtifactRetention", "KeepAll")).Storage.ArtifactRetention);
        Assert.Equal(ArtifactRetention.DeleteWorkAlways, Read(("FuseChat:Storage:ArtifactRetention", "deleteworkalways")).Storage.ArtifactRetention);
        var error = Assert.Throws<OrleansConfigurationException>(() => Read(("FuseChat:Storage:ArtifactRetention", "7")));
        Assert.Contains("FuseChat:Storage:ArtifactRetention", error.Message, StringComparison.Ordinal);
        Assert.Contains("DeleteWorkOnSuccess", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mirroring_without_an_artifact_container_is_refused()
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => Read(("FuseChat:Mode", "cluster"), ("FuseChat:Redis", "r:6379"),
            ("FuseChat:Storage:ConnectionString", "UseDevelopmentStorage=true"), ("FuseChat:ApiToken", "t"), ("FuseChat:Storage:ArtifactContainer", " ")));
        Assert.Contains("FuseChat:Storage:MirrorArtifacts", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuseChat:Storage:ArtifactContainer", error.Message, StringComparison.Ordinal);
    }
}
