package config

import (
	"fmt"
	"regexp"
	"regexp/syntax"
)

// MaxPatternSize bounds a rule's regular expression, counted in the steps
// of the program it compiles to with every repetition written out: `\d{4}`
// is four steps, `(\d{4}){1000}` four thousand. Go accepts patterns whose
// programs hold millions of steps; one of those makes every request the
// appliance receives cost seconds, so a rule that large is refused.
const MaxPatternSize = 2000

// CompilePattern compiles a rule's regular expression, refusing one whose
// program would be larger than [MaxPatternSize].
func CompilePattern(pattern string) (*regexp.Regexp, error) {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	if patternSize(tree) > MaxPatternSize {
		return nil, fmt.Errorf("too large: with its repetitions written out it comes to more than %d steps; use + or * instead of large counts", MaxPatternSize)
	}
	return regexp.Compile(pattern)
}

// patternSize estimates the steps of the program re compiles to, saturating
// above MaxPatternSize so nested counts cannot overflow.
func patternSize(re *syntax.Regexp) int {
	const limit = MaxPatternSize + 1
	sum := func(subs []*syntax.Regexp) int {
		n := 0
		for _, s := range subs {
			n = min(n+patternSize(s), limit)
		}
		return n
	}
	switch re.Op {
	case syntax.OpLiteral:
		return min(len(re.Rune), limit)
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return min(patternSize(re.Sub[0])+2, limit)
	case syntax.OpRepeat:
		copies := re.Max
		if copies < 0 {
			copies = re.Min + 1
		}
		return min(max(copies, 1)*patternSize(re.Sub[0])+1, limit)
	case syntax.OpConcat, syntax.OpAlternate:
		return min(sum(re.Sub)+len(re.Sub), limit)
	}
	return 1
}
