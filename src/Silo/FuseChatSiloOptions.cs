using System.Net;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Telemetry;
using Orleans.Runtime;

namespace FuseChat.Silo;

/// <summary>
/// Settings of the silo host, bound from the configuration section <see cref="SectionName"/> (appsettings.json,
/// environment variables FUSECHAT__..., command line --FuseChat:...). docs/configuration.md lists them.
/// </summary>
public sealed class FuseChatSiloOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FuseChat";

    /// <summary>The default data folder of <see cref="SiloMode.Embedded"/>.</summary>
    public const string DefaultDataPath = "./.fusechat-data";

    /// <summary>Embedded (default) or Cluster.</summary>
    public SiloMode Mode { get; set; } = SiloMode.Embedded;

    /// <summary>The folder of grain state and artifacts in <see cref="SiloMode.Embedded"/>.</summary>
    public string DataPath { get; set; } = DefaultDataPath;

    /// <summary>The Redis connection string (StackExchange.Redis format) of <see cref="SiloMode.Cluster"/>. Secret: never logged.</summary>
    public string? Redis { get; set; }

    /// <summary>Blob storage of <see cref="SiloMode.Cluster"/>.</summary>
    public SiloStorageOptions Storage { get; set; } = new();

    /// <summary>
    /// The bearer token that protected endpoints (dashboard, endpoints that change things) require. Required in
    /// <see cref="SiloMode.Cluster"/>; without it an embedded silo accepts loopback callers only there. Secret: never logged.
    /// </summary>
    public string? ApiToken { get; set; }

    /// <summary>The Orleans cluster id: silos with the same id form one cluster.</summary>
    public string ClusterId { get; set; } = "fusechat";

    /// <summary>The Orleans service id: stays the same across deployments, as it keys grain state and reminders.</summary>
    public string ServiceId { get; set; } = "fusechat";

    /// <summary>The silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos reach this one at (Cluster mode); defaults to POD_IP, then to the host name's address.</summary>
    public string? AdvertisedIP { get; set; }

    /// <summary>The silo's name (Cluster mode); defaults to POD_NAME, then to Orleans' default.</summary>
    public string? SiloName { get; set; }

    /// <summary>
    /// Intra-op threads of libtorch in this process (all workers share them); null keeps libtorch's default (the
    /// number of cores). Pin it when silos on different machines must give bit-identical results.
    /// </summary>
    public int? TorchThreads { get; set; }

    /// <summary>
    /// Deterministic libtorch algorithms: a training resumed on another silo after a failure then ends with the
    /// same weights as an undisturbed one (on CPU, with the same <see cref="TorchThreads"/>). Slower on GPU.
    /// </summary>
    public bool Deterministic { get; set; }

    /// <summary>
    /// How long /metrics keeps exporting the per-run series (state, stage progress, tokens/s, loss) of a run that is not
    /// running on this silo after their last update, so that a long-lived silo does not export every past run forever.
    /// </summary>
    public TimeSpan MetricsSeriesRetention { get; set; } = FuseChatMetrics.DefaultSeriesRetention;

    /// <summary>Throws an <see cref="OrleansConfigurationException"/> that says which setting to fix.</summary>
    public void Validate()
    {
        if (TorchThreads is < 1)
        {
            throw new OrleansConfigurationException($"FuseChat:TorchThreads ({TorchThreads}) must be at least 1, or unset for libtorch's default.");
        }

        if (MetricsSeriesRetention <= TimeSpan.Zero)
        {
            throw new OrleansConfigurationException($"FuseChat:MetricsSeriesRetention ({MetricsSeriesRetention}) must be a positive time span, such as 00:30:00.");
        }

        if (SiloPort is <= 0 or > 65535 || GatewayPort is <= 0 or > 65535)
        {
            throw new OrleansConfigurationException($"FuseChat:SiloPort ({SiloPort}) and FuseChat:GatewayPort ({GatewayPort}) must be ports from 1 to 65535.");
        }

        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
        {
            throw new OrleansConfigurationException("FuseChat:ClusterId and FuseChat:ServiceId must not be empty.");
        }

        if (!Enum.IsDefined(Storage.ArtifactRetention))
        {
            throw new OrleansConfigurationException($"FuseChat:Storage:ArtifactRetention ({(int)Storage.ArtifactRetention}) must be one of {string.Join(", ", Enum.GetNames<ArtifactRetention>())}.");
        }

        if (Mode == SiloMode.Embedded)
        {
            if (string.IsNullOrWhiteSpace(DataPath))
            {
                throw new OrleansConfigurationException("FuseChat:DataPath must name a folder in Embedded mode.");
            }

            return;
        }

        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(ApiToken))
        {
            missing.Add("FuseChat:ApiToken (environment FUSECHAT__APITOKEN): the bearer token that protects the dashboard and the endpoints that change things");
        }

        if (string.IsNullOrWhiteSpace(Redis))
        {
            missing.Add("FuseChat:Redis (environment FUSECHAT__REDIS): the Redis connection string for membership and reminders");
        }

        if (string.IsNullOrWhiteSpace(Storage.ConnectionString))
        {
            missing.Add("FuseChat:Storage:ConnectionString (environment FUSECHAT__STORAGE__CONNECTIONSTRING): the Azure Storage connection string for grain state and artifacts");
        }

        if (missing.Count > 0)
        {
            throw new OrleansConfigurationException("Cluster mode needs these settings: " + string.Join("; ", missing) + ".");
        }

        if (Storage.MirrorsArtifacts(Mode) && string.IsNullOrWhiteSpace(Storage.ArtifactContainer))
        {
            throw new OrleansConfigurationException("FuseChat:Storage:MirrorArtifacts is on, so FuseChat:Storage:ArtifactContainer must name the container that holds the runs' artifacts (or set MirrorArtifacts to false where all silos share one volume).");
        }

        if (AdvertisedIP is not null && !IPAddress.TryParse(AdvertisedIP, out _))
        {
            throw new OrleansConfigurationException($"FuseChat:AdvertisedIP (or POD_IP) '{AdvertisedIP}' is not an IP address.");
        }
    }
}
