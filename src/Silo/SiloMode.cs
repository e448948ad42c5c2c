namespace FuseChat.Silo;

/// <summary>How the silo finds its peers and keeps its state.</summary>
public enum SiloMode
{
    /// <summary>One process, no servers: localhost clustering, grain state, artifacts and reminders in a local folder.</summary>
    Embedded,

    /// <summary>A cluster: Redis membership and reminders, grain state and artifacts in Azure Blob Storage.</summary>
    Cluster,
}
