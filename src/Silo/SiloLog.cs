using Microsoft.Extensions.Logging;

namespace FuseChat.Silo;

/// <summary>The silo host's log messages; none carries a secret.</summary>
internal static partial class SiloLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "FuseChat silo configured: mode {Mode}, cluster {ClusterId}, service {ServiceId}, silo port {SiloPort}, gateway port {GatewayPort}, API token configured {HasApiToken}")]
    public static partial void Configured(ILogger logger, SiloMode mode, string clusterId, string serviceId, int siloPort, int gatewayPort, bool hasApiToken);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information,
        Message = "Model workers of this silo compute on {Device} (libtorch {LibtorchVersion}; FuseChat:Gpu:Device)")]
    public static partial void ModelsOn(ILogger logger, string device, string libtorchVersion);
}
