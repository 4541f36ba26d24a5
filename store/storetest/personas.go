package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

// testPersonas covers persona CRUD: conditional writes, audit entries under
// the persona's audit key, config version bumps, and conditions with "$"
// keys and dots kept as data.
func testPersonas(t *testing.T, s Backend) {
	ctx := context.Background()
	cond := assign.Condition(`{"$or":[{"returns.last_year":{"$gte":2}},{"segment":{"$in":["size-unsure"]}}],"$where":"x"}`)
	p := &experiment.Persona{Key: "sarah", Name: "Sarah", Description: "Worried about sizes", Condition: cond, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	audit := func(action string, v int64) experiment.AuditEntry {
		return experiment.AuditEntry{ExperimentKey: experiment.PersonaAuditKey("sarah"), Actor: "pm", Action: action, At: t0, Version: v}
	}
	v0, err := s.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePersona(ctx, p, audit("create", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePersona(ctx, p, audit("create", 1)); !errors.Is(err, experiment.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetPersona(ctx, "sarah")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Condition) != string(cond) || got.Description != p.Description || !got.CreatedAt.Equal(t0) {
		t.Fatalf("read back %+v (condition %s)", got, got.Condition)
	}
	next := *got
	next.Version, next.Name = 2, "Sarah (returns)"
	if err := s.UpdatePersona(ctx, &next, 1, audit("update", 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePersona(ctx, &next, 1, audit("update", 2)); !errors.Is(err, experiment.ErrVersionConflict) {
		t.Fatalf("stale update: %v, want ErrVersionConflict", err)
	}
	missing := next
	missing.Key = "nobody"
	if err := s.UpdatePersona(ctx, &missing, 2, audit("update", 3)); !errors.Is(err, experiment.ErrNotFound) {
		t.Fatalf("update of a missing persona: %v, want ErrNotFound", err)
	}
	if err := s.CreatePersona(ctx, &experiment.Persona{Key: "anna", Condition: assign.Condition(`{"a":1}`), Version: 1},
		experiment.AuditEntry{ExperimentKey: experiment.PersonaAuditKey("anna"), Action: "create", At: t0, Version: 1}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListPersonas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Key != "anna" || list[1].Name != "Sarah (returns)" || list[1].Version != 2 {
		t.Fatalf("list %+v", list)
	}
	if err := s.DeletePersona(ctx, "sarah", 1, audit("delete", 3)); !errors.Is(err, experiment.ErrVersionConflict) {
		t.Fatalf("stale delete: %v, want ErrVersionConflict", err)
	}
	if err := s.DeletePersona(ctx, "sarah", 2, audit("delete", 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPersona(ctx, "sarah"); !errors.Is(err, experiment.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	entries, err := s.ListAudit(ctx, experiment.PersonaAuditKey("sarah"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].Action != "create" || entries[2].Action != "delete" {
		t.Fatalf("audit %+v", entries)
	}
	v1, err := s.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1-v0 != 4 {
		t.Fatalf("config version moved by %d over 4 persona writes", v1-v0)
	}
}
