using System.Globalization;
using System.Text;

namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// A backtracking matcher for the regex subset that tokenizer.json Split patterns use, over Unicode code points as
/// Oniguruma (Hugging Face's engine) matches them. .NET's Regex works on UTF-16 units, so \p{L}, \p{N}, \p{M} and
/// the like never match an astral-plane letter, digit or mark (a surrogate pair): a pattern such as Mistral's Tekken
/// split then cuts such text differently from Hugging Face. Alternatives are tried in order and quantifiers are
/// greedy unless marked lazy (or possessive), as in Oniguruma, so leftmost matches are the same.
/// </summary>
/// <remarks>
/// Supported: literals and escapes (\r \n \t \f \v \e \0 \xHH \x{H..} \uHHHH, escaped punctuation), . (not \n),
/// \s \S \d \D \w \W \h \H, \p{..} and \P{..} with general categories and their one-letter groups, classes with
/// ranges and negation, groups (capturing, (?:..), (?i:..), (?i) at the start), lookahead (?=..) (?!..), anchors
/// \A \z (not ^ and $, which are line anchors in Oniguruma's Ruby syntax), and the quantifiers ? * + {n} {n,} {n,m} with lazy and possessive forms. Anything else raises
/// <see cref="NotSupportedException"/> at parse time, so that the caller can keep .NET's regex.
/// </remarks>
internal sealed class CodePointRegex
{
    private readonly Node root;

    private CodePointRegex(Node root) => this.root = root;

    /// <summary>Parses <paramref name="pattern"/>; throws <see cref="NotSupportedException"/> for constructs outside the subset.</summary>
    public static CodePointRegex Parse(string pattern) => new(new Parser(pattern).ParseAll());

    /// <summary>Appends (start, end) in UTF-16 units of every non-empty, non-overlapping match, left to right.</summary>
    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
    {
        var points = new List<int>(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length;)
        {
            offsets.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                points.Add(char.ConvertToUtf32(text[i], text[i + 1]));
                i += 2;
            }
            else
            {
                // A lone surrogate is matched as U+FFFD, the character Rust would see.
                points.Add(char.IsSurrogate(text[i]) ? 0xFFFD : text[i]);
                i++;
            }
        }

        offsets.Add(text.Length);
        var input = points.ToArray();
        for (var start = 0; start < input.Length;)
        {
            var end = -1;
            if (root.Match(input, start, j =>
                {
                    end = j;
                    return true;
                }) && end > start)
            {
                matches.Add((offsets[start], offsets[end]));
                start = end;
            }
            else
            {
                start++;
            }
        }
    }

    /// <summary>A pattern node: matches at <c>i</c> and calls the continuation with each end it can reach, in priority order.</summary>
    private abstract class Node
    {
        public abstract bool Match(int[] s, int i, Func<int, bool> next);
    }

    private sealed class Sequence(Node[] items) : Node
    {
        public override bool Match(int[] s, int i, Func<int, bool> next) => From(0, s, i, next);

        private bool From(int index, int[] s, int i, Func<int, bool> next) =>
            index == items.Length ? next(i) : items[index].Match(s, i, j => From(index + 1, s, j, next));
    }

    private sealed class Alternation(Node[] choices) : Node
    {
        public override bool Match(int[] s, int i, Func<int, bool> next)
        {
            foreach (var choice in choices)
            {
                if (choice.Match(s, i, next)) return true;
            }

            return false;
        }
    }

    /// <summary>One code point out of a set.</summary>
    private sealed class CharSet(Func<int, bool> contains) : Node
    {
        public bool Contains(int c) => contains(c);

        public override bool Match(int[] s, int i, Func<int, bool> next) => i < s.Length && contains(s[i]) && next(i + 1);
    }

    private sealed class Repeat(Node child, int min, int max, bool lazy, bool possessive) : Node
    {
        public override bool Match(int[] s, int i, Func<int, bool> next)
        {
            // A set repeated is the common case (\p{L}+, [^\s]*): scanned without recursion, so that long runs cannot
            // exhaust the stack, then backed off one code point at a time.
            if (child is CharSet set)
            {
                var end = i;
                while (end - i < max && end < s.Length && set.Contains(s[end])) end++;
                var count = end - i;
                if (count < min) return false;
                if (possessive) return next(end);
                if (lazy)
                {
                    for (var k = min; k <= count; k++)
                    {
                        if (next(i + k)) return true;
                    }

                    return false;
                }

                for (var k = count; k >= min; k--)
                {
                    if (next(i + k)) return true;
                }

                return false;
            }

            if (possessive)
            {
                var end = i;
                for (var count = 0; count < max; count++)
                {
                    var reached = -1;
                    if (!child.Match(s, end, j =>
                        {
                            reached = j;
                            return true;
                        }) || reached == end)
                    {
                        if (count < min) return false;
                        break;
                    }

                    end = reached;
                }

                return next(end);
            }

            return From(0, s, i, next);
        }

        private bool From(int count, int[] s, int i, Func<int, bool> next)
        {
            if (lazy && count >= min && next(i)) return true;
            // An iteration that consumes nothing ends the repetition (as in Oniguruma), or it would never stop.
            if (count < max && child.Match(s, i, j => j != i && From(count + 1, s, j, next))) return true;
            return !lazy && count >= min && next(i);
        }
    }

    private sealed class Lookahead(Node child, bool negative) : Node
    {
        public override bool Match(int[] s, int i, Func<int, bool> next) => child.Match(s, i, _ => true) != negative && next(i);
    }

    private sealed class Anchor(bool start) : Node
    {
        public override bool Match(int[] s, int i, Func<int, bool> next) => (start ? i == 0 : i == s.Length) && next(i);
    }

    private sealed class Parser(string pattern)
    {
        private int at;
        private bool ignoreCase;

        public Node ParseAll()
        {
            if (pattern.StartsWith("(?i)", StringComparison.Ordinal))
            {
                ignoreCase = true;
                at = 4;
            }

            var node = Alternatives();
            if (at < pattern.Length) throw Unsupported($"unbalanced ')' at {at}");
            return node;
        }

        private Node Alternatives()
        {
            var choices = new List<Node> { Sequence() };
            while (at < pattern.Length && pattern[at] == '|')
            {
                at++;
                choices.Add(Sequence());
            }

            return choices.Count == 1 ? choices[0] : new Alternation([.. choices]);
        }

        private Node Sequence()
        {
            var items = new List<Node>();
            while (at < pattern.Length && pattern[at] is not ('|' or ')'))
            {
                items.Add(Quantified(Atom()));
            }

            return items.Count == 1 ? items[0] : new Sequence([.. items]);
        }

        private Node Quantified(Node atom)
        {
            if (at >= pattern.Length) return atom;
            int min, max;
            switch (pattern[at])
            {
                case '?': (min, max) = (0, 1); at++; break;
                case '*': (min, max) = (0, int.MaxValue); at++; break;
                case '+': (min, max) = (1, int.MaxValue); at++; break;
                case '{' when Bounds() is { } bounds: (min, max) = bounds; break;
                default: return atom;
            }

            var lazy = at < pattern.Length && pattern[at] == '?';
            var possessive = !lazy && at < pattern.Length && pattern[at] == '+';
            if (lazy || possessive) at++;
            if (atom is Anchor or Lookahead) throw Unsupported("a quantified assertion");
            return new Repeat(atom, min, max, lazy, possessive);
        }

        /// <summary>{n}, {n,} or {n,m} at the cursor (consumed), or null when the brace is a literal.</summary>
        private (int, int)? Bounds()
        {
            var close = pattern.IndexOf('}', at);
            if (close < 0) return null;
            var parts = pattern[(at + 1)..close].Split(',');
            if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var min)) return null;
            var max = min;
            if (parts.Length == 2 && !(parts[1].Length == 0 ? (max = int.MaxValue) > 0 : int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out max)))
            {
                return null;
            }

            at = close + 1;
            return (min, max);
        }

        private Node Atom()
        {
            var c = pattern[at++];
            switch (c)
            {
                case '(':
                    return Group();
                case '[':
                    return Class();
                case '.':
                    return new CharSet(x => x != '\n');
                case '^' or '$':
                    // Oniguruma's (Ruby syntax) line anchors differ from .NET's; such patterns keep .NET's regex.
                    throw Unsupported($"the line anchor '{c}'");
                case '\\':
                    return Escape(inClass: false) switch
                    {
                        Func<int, bool> set => new CharSet(set),
                        Node node => node,
                        int point => Literal(point),
                        _ => throw Unsupported("an escape"),
                    };
                case '*' or '+' or '?':
                    throw Unsupported($"a quantifier without an atom at {at - 1}");
                default:
                    return Literal(c);
            }
        }

        private Node Group()
        {
            var saved = ignoreCase;
            Node inner;
            if (pattern.AsSpan(at).StartsWith("?:"))
            {
                at += 2;
                inner = Alternatives();
            }
            else if (pattern.AsSpan(at).StartsWith("?i:"))
            {
                at += 3;
                ignoreCase = true;
                inner = Alternatives();
            }
            else if (pattern.AsSpan(at).StartsWith("?=") || pattern.AsSpan(at).StartsWith("?!"))
            {
                var negative = pattern[at + 1] == '!';
                at += 2;
                inner = new Lookahead(Alternatives(), negative);
            }
            else if (at < pattern.Length && pattern[at] == '?')
            {
                throw Unsupported($"the group '(?{(at + 1 < pattern.Length ? pattern[at + 1] : ' ')}' at {at - 1}");
            }
            else
            {
                inner = Alternatives();
            }

            ignoreCase = saved;
            if (at >= pattern.Length || pattern[at] != ')') throw Unsupported("an unclosed group");
            at++;
            return inner;
        }

        private Node Literal(int c)
        {
            if (!ignoreCase) return new CharSet(x => x == c);
            var folded = Fold(c);
            return new CharSet(x => Fold(x) == folded);
        }

        /// <summary>Simple case folding, with Oniguruma's folds of U+017F (long s) to s and U+212A (Kelvin) to k.</summary>
        private static int Fold(int c) => c switch
        {
            0x017F => 's',
            0x212A => 'k',
            _ => Rune.IsValid(c) ? Rune.ToLowerInvariant(new Rune(c)).Value : c,
        };

        private Node Class()
        {
            var negated = at < pattern.Length && pattern[at] == '^';
            if (negated) at++;
            var parts = new List<Func<int, bool>>();
            var first = true;
            while (at < pattern.Length && (pattern[at] != ']' || first))
            {
                first = false;
                if (pattern[at] == '[') throw Unsupported("a nested class");
                int low;
                if (pattern[at] == '\\')
                {
                    at++;
                    var escaped = Escape(inClass: true);
                    if (escaped is Func<int, bool> set)
                    {
                        parts.Add(set);
                        continue;
                    }

                    low = (int)escaped!;
                }
                else
                {
                    low = ReadCodePoint();
                }

                if (at + 1 < pattern.Length && pattern[at] == '-' && pattern[at + 1] != ']')
                {
                    at++;
                    int high;
                    if (pattern[at] == '\\')
                    {
                        at++;
                        high = Escape(inClass: true) is int h ? h : throw Unsupported("a range ending in a class");
                    }
                    else
                    {
                        high = ReadCodePoint();
                    }

                    var (from, to) = (low, high);
                    parts.Add(ignoreCase ? x => (x >= from && x <= to) || (Fold(x) >= from && Fold(x) <= to) : x => x >= from && x <= to);
                }
                else
                {
                    var single = low;
                    parts.Add(ignoreCase ? x => Fold(x) == Fold(single) : x => x == single);
                }
            }

            if (at >= pattern.Length) throw Unsupported("an unclosed class");
            at++;
            var all = parts.ToArray();
            return new CharSet(negated ? x => !Any(all, x) : x => Any(all, x));
        }

        private static bool Any(Func<int, bool>[] parts, int c)
        {
            foreach (var part in parts)
            {
                if (part(c)) return true;
            }

            return false;
        }

        private int ReadCodePoint()
        {
            var c = pattern[at];
            if (char.IsHighSurrogate(c) && at + 1 < pattern.Length && char.IsLowSurrogate(pattern[at + 1]))
            {
                at += 2;
                return char.ConvertToUtf32(c, pattern[at - 1]);
            }

            at++;
            return c;
        }

        /// <summary>After a backslash: a set (Func), a code point (int) or, outside classes, an anchor (Node).</summary>
        private object? Escape(bool inClass)
        {
            if (at >= pattern.Length) throw Unsupported("a trailing backslash");
            var c = pattern[at++];
            switch (c)
            {
                case 'r': return (int)'\r';
                case 'n': return (int)'\n';
                case 't': return (int)'\t';
                case 'f': return (int)'\f';
                case 'v': return (int)'\v';
                case 'e': return 0x1B;
                case '0': return 0;
                case 's': return (Func<int, bool>)IsSpace;
                case 'S': return (Func<int, bool>)(x => !IsSpace(x));
                case 'd': return (Func<int, bool>)(x => Category(x) == UnicodeCategory.DecimalDigitNumber);
                case 'D': return (Func<int, bool>)(x => Category(x) != UnicodeCategory.DecimalDigitNumber);
                case 'w': return (Func<int, bool>)IsWord;
                case 'W': return (Func<int, bool>)(x => !IsWord(x));
                case 'h': return (Func<int, bool>)IsHex;
                case 'H': return (Func<int, bool>)(x => !IsHex(x));
                case 'p' or 'P':
                    var property = Property();
                    return c == 'p' ? property : (Func<int, bool>)(x => !property(x));
                case 'x':
                    return Hex();
                case 'u':
                    return HexDigits(4);
                case 'A' when !inClass:
                    return new Anchor(start: true);
                case 'z' when !inClass:
                    return new Anchor(start: false);
                default:
                    if (char.IsAsciiLetterOrDigit(c)) throw Unsupported($"the escape '\\{c}'");
                    return (int)c;
            }
        }

        private int Hex()
        {
            if (at < pattern.Length && pattern[at] == '{')
            {
                var close = pattern.IndexOf('}', at);
                if (close < 0) throw Unsupported("an unclosed \\x{");
                var digits = pattern[(at + 1)..close];
                at = close + 1;
                return int.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }

            return HexDigits(2);
        }

        private int HexDigits(int count)
        {
            if (at + count > pattern.Length) throw Unsupported("a short hex escape");
            var value = int.Parse(pattern.AsSpan(at, count), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            at += count;
            return value;
        }

        private Func<int, bool> Property()
        {
            string name;
            if (at < pattern.Length && pattern[at] == '{')
            {
                var close = pattern.IndexOf('}', at);
                if (close < 0) throw Unsupported("an unclosed \\p{");
                name = pattern[(at + 1)..close];
                at = close + 1;
            }
            else if (at < pattern.Length)
            {
                name = pattern[at++].ToString();
            }
            else
            {
                throw Unsupported("a trailing \\p");
            }

            var negate = name.StartsWith('^');
            if (negate) name = name[1..];
            var categories = CategoriesOf(name) ?? throw Unsupported($"the property \\p{{{name}}}");
            return negate ? x => !categories.Contains(Category(x)) : x => categories.Contains(Category(x));
        }

        private static HashSet<UnicodeCategory>? CategoriesOf(string name) => name switch
        {
            "L" or "Letter" => [UnicodeCategory.UppercaseLetter, UnicodeCategory.LowercaseLetter, UnicodeCategory.TitlecaseLetter, UnicodeCategory.ModifierLetter, UnicodeCategory.OtherLetter],
            "Lu" => [UnicodeCategory.UppercaseLetter],
            "Ll" => [UnicodeCategory.LowercaseLetter],
            "Lt" => [UnicodeCategory.TitlecaseLetter],
            "Lm" => [UnicodeCategory.ModifierLetter],
            "Lo" => [UnicodeCategory.OtherLetter],
            "M" or "Mark" => [UnicodeCategory.NonSpacingMark, UnicodeCategory.SpacingCombiningMark, UnicodeCategory.EnclosingMark],
            "Mn" => [UnicodeCategory.NonSpacingMark],
            "Mc" => [UnicodeCategory.SpacingCombiningMark],
            "Me" => [UnicodeCategory.EnclosingMark],
            "N" or "Number" => [UnicodeCategory.DecimalDigitNumber, UnicodeCategory.LetterNumber, UnicodeCategory.OtherNumber],
            "Nd" => [UnicodeCategory.DecimalDigitNumber],
            "Nl" => [UnicodeCategory.LetterNumber],
            "No" => [UnicodeCategory.OtherNumber],
            "P" or "Punctuation" => [UnicodeCategory.ConnectorPunctuation, UnicodeCategory.DashPunctuation, UnicodeCategory.OpenPunctuation,
                UnicodeCategory.ClosePunctuation, UnicodeCategory.InitialQuotePunctuation, UnicodeCategory.FinalQuotePunctuation, UnicodeCategory.OtherPunctuation],
            "Pc" => [UnicodeCategory.ConnectorPunctuation],
            "Pd" => [UnicodeCategory.DashPunctuation],
            "Ps" => [UnicodeCategory.OpenPunctuation],
            "Pe" => [UnicodeCategory.ClosePunctuation],
            "Pi" => [UnicodeCategory.InitialQuotePunctuation],
            "Pf" => [UnicodeCategory.FinalQuotePunctuation],
            "Po" => [UnicodeCategory.OtherPunctuation],
            "S" or "Symbol" => [UnicodeCategory.MathSymbol, UnicodeCategory.CurrencySymbol, UnicodeCategory.ModifierSymbol, UnicodeCategory.OtherSymbol],
            "Sm" => [UnicodeCategory.MathSymbol],
            "Sc" => [UnicodeCategory.CurrencySymbol],
            "Sk" => [UnicodeCategory.ModifierSymbol],
            "So" => [UnicodeCategory.OtherSymbol],
            "Z" or "Separator" => [UnicodeCategory.SpaceSeparator, UnicodeCategory.LineSeparator, UnicodeCategory.ParagraphSeparator],
            "Zs" => [UnicodeCategory.SpaceSeparator],
            "Zl" => [UnicodeCategory.LineSeparator],
            "Zp" => [UnicodeCategory.ParagraphSeparator],
            "C" or "Other" => [UnicodeCategory.Control, UnicodeCategory.Format, UnicodeCategory.Surrogate, UnicodeCategory.PrivateUse, UnicodeCategory.OtherNotAssigned],
            "Cc" => [UnicodeCategory.Control],
            "Cf" => [UnicodeCategory.Format],
            "Co" => [UnicodeCategory.PrivateUse],
            "Cn" => [UnicodeCategory.OtherNotAssigned],
            _ => null,
        };

        private static UnicodeCategory Category(int c) =>
            Rune.IsValid(c) ? Rune.GetUnicodeCategory(new Rune(c)) : UnicodeCategory.Surrogate;

        private static bool IsSpace(int c) => Rune.IsValid(c) && Rune.IsWhiteSpace(new Rune(c));

        private static bool IsWord(int c) => Category(c) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation;

        private static bool IsHex(int c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f') or (>= 'A' and <= 'F');

        private NotSupportedException Unsupported(string what) => new($"The pre-tokenizer pattern uses {what}, which FuseChat's code-point matcher does not support: {pattern}");
    }
}
