using Orleans;

namespace FuseChat.Grains.Storage;

/// <summary>Runs an options check when the silo validates its configuration.</summary>
internal sealed class NamedOptionsValidator(Action validate) : IConfigurationValidator
{
    public void ValidateConfiguration() => validate();
}
