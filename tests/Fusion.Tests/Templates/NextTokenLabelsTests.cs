using FuseChat.Fusion.Templates;

namespace FuseChat.Fusion.Tests.Templates;

public class NextTokenLabelsTests
{
    // "<s> user: hi  assistant: yo </s>" with the reply "yo </s>" trained.
    private static readonly int[] Ids = [1, 10, 11, 12, 20, 2];
    private static readonly bool[] Trained = [false, false, false, false, true, true];

    [Fact]
    public void EachPositionIsLabelledWithTheNextTokenWhenThatTokenIsTrained()
    {
        var labels = NextTokenLabels.For(Ids, Trained, Ids.Length);

        // Position 3 (the token before the reply) predicts "yo" (20); position 4 predicts </s> (2); the last
        // position predicts nothing.
        Assert.Equal([-100, -100, -100, 20, 2, -100], labels);
        Assert.Equal([3, 4], NextTokenLabels.Positions(Trained, Ids.Length));
        Assert.Equal(2, NextTokenLabels.Count(Trained, Ids.Length));
    }

    [Fact]
    public void ACutConversationLosesTheTrainedTokensBeyondTheCut()
    {
        // Cut to 5 tokens: </s> (token 5) is gone, so position 4 has no label and only position 3 is trained.
        Assert.Equal([-100, -100, -100, 20, -100], NextTokenLabels.For(Ids, Trained, 5));
        Assert.Equal([3], NextTokenLabels.Positions(Trained, 5));
        Assert.Equal(1, NextTokenLabels.Count(Trained, 5));
        Assert.False(NextTokenLabels.IsTrained(Trained, 5, 4));
    }

    [Fact]
    public void ATrainedFirstTokenLabelsNoPosition()
    {
        // No position predicts token 0.
        bool[] trained = [true, false, false];
        Assert.Equal(0, NextTokenLabels.Count(trained, 3));
        Assert.Empty(NextTokenLabels.Positions(trained, 3));
    }

    [Fact]
    public void MismatchedFlagsAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => NextTokenLabels.For(Ids, [true, false], Ids.Length));
        Assert.Contains("6 ids with 2 trained flags", error.Message);
        Assert.Throws<ArgumentException>(() => NextTokenLabels.For(Ids, Trained, Ids.Length + 1));
    }
}
