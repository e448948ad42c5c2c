namespace FuseChat.Fusion.Templates;

/// <summary>Collects segments, merging neighbours of the same kind so segment lists stay short.</summary>
internal sealed class SegmentBuilder
{
    private readonly List<ChatSegment> _segments = [];

    public SegmentBuilder Bos(string? bos)
    {
        if (!string.IsNullOrEmpty(bos))
        {
            _segments.Add(new ChatSegment(bos, Trained: false, IsBos: true));
        }

        return this;
    }

    public SegmentBuilder Prompt(string text) => Add(text, trained: false);

    public SegmentBuilder Reply(string text) => Add(text, trained: true);

    public IReadOnlyList<ChatSegment> Build() => [.. _segments];

    private SegmentBuilder Add(string text, bool trained)
    {
        if (text.Length == 0)
        {
            return this;
        }

        if (_segments.Count > 0 && _segments[^1] is { IsBos: false } last && last.Trained == trained)
        {
            _segments[^1] = last with { Text = last.Text + text };
        }
        else
        {
            _segments.Add(new ChatSegment(text, trained));
        }

        return this;
    }
}
