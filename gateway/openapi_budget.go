package gateway

import "github.com/rampartsec/rampart/validate"

// bodyBudget returns the process's budget of bodies buffered for
// validation, with the limit of the configuration being built. One budget
// for the process: requests of an old generation still in flight count
// against the same bytes as the new one's.
func (s *stores) bodyBudget(limit int64) *validate.BodyBudget {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bodies == nil {
		s.bodies = validate.NewBodyBudget(limit)
	}
	s.bodies.SetLimit(limit)
	return s.bodies
}
