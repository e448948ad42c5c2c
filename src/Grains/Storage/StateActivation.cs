using Orleans.Serialization.Serializers;

namespace FuseChat.Grains.Storage;

/// <summary>Creates the empty state of a grain that has none stored.</summary>
internal static class StateActivation
{
    // Orleans' activators also build [GenerateSerializer] types without a public parameterless constructor;
    // without one (tests, tools) fall back to reflection.
    public static T Create<T>(IActivatorProvider? activators) =>
        activators is not null ? activators.GetActivator<T>().Create() : Activator.CreateInstance<T>();
}
