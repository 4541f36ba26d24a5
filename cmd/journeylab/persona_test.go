package main

import (
	"strings"
	"testing"
)

func TestPersonaCommands(t *testing.T) {
	dir := t.TempDir()
	cond := `{"returns_last_year": {"$gte": 2}, "segment": {"$in": ["quality-seeker", "size-unsure"]}}`
	out, _, err := run(t, "persona", "create", "sarah", "--name", "Sarah", "--description", "Worried about sizes", "--condition", cond, "--data-dir", dir)
	if err != nil || !strings.Contains(out, `"version": 1`) {
		t.Fatalf("create: %v\n%s", err, out)
	}
	t.Run("a bad condition is refused with the path of the bad part", func(t *testing.T) {
		_, _, err := run(t, "persona", "create", "tom", "--condition", `{"age": {"$gtx": 1}}`, "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), "condition.age.$gtx") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("test tells whether attributes match", func(t *testing.T) {
		for attrs, want := range map[string]string{
			`{"returns_last_year": 3, "segment": "size-unsure"}`: "match",
			`{"returns_last_year": 1, "segment": "size-unsure"}`: "no match",
		} {
			out, _, err := run(t, "persona", "test", "sarah", "--attributes", attrs, "--data-dir", dir)
			if err != nil || strings.TrimSpace(out) != want {
				t.Fatalf("%s: got %q, %v; want %q", attrs, out, err, want)
			}
		}
	})
	t.Run("update changes only the given fields and is audited", func(t *testing.T) {
		out, _, err := run(t, "persona", "update", "sarah", "--condition", `{"returns_last_year": {"$gte": 3}}`, "--data-dir", dir)
		if err != nil || !strings.Contains(out, `"version": 2`) || !strings.Contains(out, `"description": "Worried about sizes"`) {
			t.Fatalf("update: %v\n%s", err, out)
		}
		out, _, err = run(t, "persona", "audit", "sarah", "--data-dir", dir)
		if err != nil || strings.Count(out, `"action"`) != 2 || !strings.Contains(out, `"actor": "cli"`) {
			t.Fatalf("audit: %v\n%s", err, out)
		}
	})
	t.Run("list and get show the persona", func(t *testing.T) {
		out, _, err := run(t, "persona", "list", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "sarah") || !strings.Contains(out, "Sarah") {
			t.Fatalf("list: %v\n%s", err, out)
		}
		out, _, err = run(t, "persona", "get", "sarah", "--data-dir", dir)
		if err != nil || !strings.Contains(out, `"used_by": []`) {
			t.Fatalf("get: %v\n%s", err, out)
		}
	})
	t.Run("delete removes it", func(t *testing.T) {
		if _, _, err := run(t, "persona", "delete", "sarah", "--data-dir", dir); err != nil {
			t.Fatal(err)
		}
		if _, _, err := run(t, "persona", "get", "sarah", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("get after delete: %v", err)
		}
	})
}

func TestPersonaCreatePrintsEveryProblem(t *testing.T) {
	_, _, err := run(t, "persona", "create", "tom", "--name", strings.Repeat("n", 201),
		"--condition", `{"age": {"$gtx": 1}, "country": {"$in": "DE", "$regex": 7}}`, "--data-dir", t.TempDir())
	want := `3 problems:
  name: at most 200 characters
  condition.age.$gtx: unknown operator "$gtx"
  condition.country.$regex: needs a string pattern, got a number`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want\n%s", err, want)
	}
}
