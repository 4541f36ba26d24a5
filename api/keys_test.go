package api_test

import (
	"testing"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/config"
)

func TestKeysAreCreatedListedAndRevokedByAdmins(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.DevMode = false })
	admin := newKey(t, a, auth.ScopeAdmin)
	adminID, _, _ := auth.Split(admin)
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	body := `{"unit_id":"u-1","touchpoint":"checkout"}`

	created := must(t, a, 201, "POST", "/v1/keys", `{"name":"web-shop","scope":"sdk"}`, bearer(admin)...)
	token, _ := created.body["token"].(string)
	id, _, err := auth.Split(token)
	if err != nil {
		t.Fatalf("created token %q: %v", token, err)
	}
	must(t, a, 200, "POST", "/v1/assign", body, bearer(token)...)

	t.Run("only admins manage keys", func(t *testing.T) {
		for _, sc := range []auth.Scope{auth.ScopeSDK, auth.ScopeRead} {
			tok := newKey(t, a, sc)
			must(t, a, 403, "GET", "/v1/keys", "", bearer(tok)...)
			must(t, a, 403, "POST", "/v1/keys/"+id+"/revoke", "", bearer(tok)...)
		}
	})
	t.Run("a bad scope or a repeated field is refused with the field", func(t *testing.T) {
		for in, field := range map[string]string{`{"name":"x","scope":"root"}`: "scope", `{"name":"x","scope":"sdk","scope":"admin"}`: "scope"} {
			r := must(t, a, 400, "POST", "/v1/keys", in, bearer(admin)...)
			if e, _ := r.body["error"].(map[string]any); e["field"] != field {
				t.Fatalf("%s: %s", in, r.raw)
			}
		}
	})
	t.Run("a revoked key stops working at once and the revocation names the actor", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/v1/keys/"+id+"/revoke", "", bearer(admin)...)
		k, _ := r.body["key"].(map[string]any)
		if k["revoked_by"] != "key:"+adminID || k["revoked_at"] == nil {
			t.Fatalf("revoke: %s", r.raw)
		}
		must(t, a, 401, "POST", "/v1/assign", body, bearer(token)...)
		list := must(t, a, 200, "GET", "/v1/keys", "", bearer(admin)...)
		keys, _ := list.body["keys"].([]any)
		found := false
		for _, raw := range keys {
			k, _ := raw.(map[string]any)
			found = found || (k["id"] == id && k["revoked_by"] == "key:"+adminID)
		}
		if !found {
			t.Fatalf("list after revoke: %s", list.raw)
		}
	})
	t.Run("revoking again keeps the first revocation", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/v1/keys/"+id+"/revoke", "", bearer(admin)...)
		if k, _ := r.body["key"].(map[string]any); k["revoked_by"] != "key:"+adminID {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("revoking an unknown key is 404", func(t *testing.T) {
		must(t, a, 404, "POST", "/v1/keys/000000000000/revoke", "", bearer(admin)...)
	})
}
