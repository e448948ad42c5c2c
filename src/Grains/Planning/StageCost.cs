namespace FuseChat.Grains.Planning;

/// <summary>One stage's share of a run's cost.</summary>
/// <param name="Stage">representations, alignment, fusion, merge or evaluation.</param>
/// <param name="What">Which model or source, and the stage's settings.</param>
/// <param name="Flops">Floating-point operations (0 for the CPU stages).</param>
/// <param name="DeviceBytes">A training step's state that must fit on one device, before activations; null for other stages.</param>
/// <param name="DiskBytes">About the bytes the stage writes.</param>
/// <param name="ActivationBytes">About a training step's activations on the longest conversation; null for other stages.</param>
public sealed record StageCost(string Stage, string What, double Flops, long? DeviceBytes, long DiskBytes, long? ActivationBytes = null);
