package groupcommit

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestGroup(t *testing.T) {
	t.Run("concurrent calls share commits and each request is committed once", func(t *testing.T) {
		var g Group[int]
		var mu sync.Mutex
		seen := map[int]int{}
		var commits atomic.Int64
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := g.Do(i, func(batch []int) error {
					commits.Add(1)
					mu.Lock()
					for _, r := range batch {
						seen[r]++
					}
					mu.Unlock()
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if len(seen) != 200 {
			t.Fatalf("%d requests committed, want 200", len(seen))
		}
		for r, n := range seen {
			if n != 1 {
				t.Fatalf("request %d committed %d times", r, n)
			}
		}
		if c := commits.Load(); c < 1 || c > 200 {
			t.Errorf("%d commits", c)
		}
	})
	t.Run("every request of a failed commit gets its error", func(t *testing.T) {
		var g Group[string]
		boom := errors.New("disk full")
		if err := g.Do("a", func([]string) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if err := g.Do("b", func([]string) error { return nil }); err != nil {
			t.Fatalf("the next commit failed too: %v", err)
		}
	})
}
