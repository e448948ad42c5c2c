namespace FuseChat.Client.Demo;

/// <summary>A small built-in text for the demo: short, repetitive enough for a tiny model to learn quickly.</summary>
internal static class DemoCorpus
{
    public const string Text = """
        Knowledge fusion takes several chat models and makes one. Each source model has learned something
        the others have not: one writes code, one solves problems step by step, one follows instructions well.
        The pivot model reads the same conversations as every source. The sources speak with different
        tokenizers, so their tokens are aligned to the pivot's tokens first. Then the pivot learns from each
        source in turn, and each lesson gives one target model. The targets share one shape, so they can be
        merged in parameter space: select the parameters that changed the most, calculate a weight for each
        target, erase the updates that disagree in sign, and add what remains to the pivot.
        A cluster does this work in stages. Representations come first, then alignment, then training, then
        the merge. Every stage writes checkpoints, so a lost machine costs minutes, not days. Operators watch
        the progress on their dashboards, and engineers follow a run from their terminal.
        The small model in this demo reads this text one byte at a time and learns to continue it. Its loss
        falls as it learns which letter follows which, then which word follows which.
        """;
}
