namespace FuseChat.Silo;

/// <summary>Endpoint metadata: the endpoint requires the API token.</summary>
internal sealed class ApiTokenRequiredMetadata
{
    public static readonly ApiTokenRequiredMetadata Instance = new();

    private ApiTokenRequiredMetadata()
    {
    }
}
