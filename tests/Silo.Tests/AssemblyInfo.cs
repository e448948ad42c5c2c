// Hosts run one at a time: every host's OpenTelemetry provider listens to every meter named "FuseChat" in the
// process, so two live hosts would export each other's series (and promtool would see duplicates).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
