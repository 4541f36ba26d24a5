package serving

// storedAttributes flattens the request attributes kept with an exposure:
// those Options.StoredAttributes allows, all when it is nil. Targeting
// still sees every attribute of the request; only what is stored shrinks.
func (s *Service) storedAttributes(attrs map[string]any) map[string]string {
	flat := flattenAttributes(attrs)
	if s.opts.StoredAttributes == nil {
		return flat
	}
	for k := range flat {
		if !s.opts.StoredAttributes(k) {
			delete(flat, k)
		}
	}
	if len(flat) == 0 {
		return nil
	}
	return flat
}
