package imapsearch

type node struct{}

var sortKeyNames = map[string]SortKey{}

func compile(c Criteria, o MatchOptions) (*Matcher, error)                 { return &Matcher{}, nil }
func (m *Matcher) match(c *Candidate) (bool, error)                        { return false, nil }
func sortCandidates(c []Candidate, k []SortCriterion)                      {}
func threadReferences(c []Candidate) []*ThreadNode                         { return nil }
func threadOrderedSubject(c []Candidate) []*ThreadNode                     { return nil }
func appendThreads(dst []byte, r []*ThreadNode, n func(int) uint32) []byte { return dst }
func baseSubject(s string) string                                          { return s }
