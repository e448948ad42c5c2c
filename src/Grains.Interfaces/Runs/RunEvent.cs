namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>One entry of a run's event history.</summary>
/// <param name="Sequence">1-based, increasing; pass the last one seen to <see cref="IFusionRunGrain.GetEventsAsync"/>.</param>
/// <param name="Timestamp">When the run grain recorded it.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Stage">The stage concerned, if any.</param>
/// <param name="Message">A readable description (errors carry the exception's message).</param>
[GenerateSerializer]
[Alias("FuseChat.RunEvent")]
public sealed record RunEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset Timestamp,
    [property: Id(2)] RunEventKind Kind,
    [property: Id(3)] RunStage? Stage,
    [property: Id(4)] string Message);
