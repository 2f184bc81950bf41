package cli

import "container/list"

// recentIDs is a set of webhook-ids bounded to max entries: adding one
// more drops the least recently seen. It is not safe for concurrent use.
type recentIDs struct {
	max   int
	order *list.List // of string, most recent first
	index map[string]*list.Element
}

func newRecentIDs(size int) *recentIDs {
	return &recentIDs{max: size, order: list.New(), index: map[string]*list.Element{}}
}

// Contains reports whether id is in the set, and marks it as recently seen.
func (s *recentIDs) Contains(id string) bool {
	e, ok := s.index[id]
	if ok {
		s.order.MoveToFront(e)
	}
	return ok
}

// Add puts id in the set, dropping the least recently seen id if the set
// is full.
func (s *recentIDs) Add(id string) {
	if e, ok := s.index[id]; ok {
		s.order.MoveToFront(e)
		return
	}
	s.index[id] = s.order.PushFront(id)
	if s.order.Len() > s.max {
		oldest := s.order.Back()
		s.order.Remove(oldest)
		delete(s.index, oldest.Value.(string))
	}
}

// Len returns the number of ids in the set.
func (s *recentIDs) Len() int { return s.order.Len() }
