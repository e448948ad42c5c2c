using System.Runtime.CompilerServices;

// The alignment tests check the internal exactness-critical paths (bit-parallel edit distance, DTW bounds)
// against their classic counterparts.
[assembly: InternalsVisibleTo("FuseChat.Fusion.Tests")]
