package api

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
	"github.com/journeylab/journeylab/server"
)

// Revoker revokes a key and forgets it at once on this instance
// (*auth.Verifier).
type Revoker interface {
	Revoke(ctx context.Context, id string, at time.Time, actor string) (auth.Key, error)
}

// Keys serves API-key management (admin scope).
type Keys struct {
	keys   auth.KeyStore
	revoke Revoker
	now    func() time.Time
	log    *slog.Logger
}

// NewKeys returns the key handlers; revocations go through r so that the
// answering instance stops accepting the key at once.
func NewKeys(keys auth.KeyStore, r Revoker, now func() time.Time, log *slog.Logger) *Keys {
	return &Keys{keys: keys, revoke: r, now: now, log: log}
}

// Register mounts, with the admin scope check:
//
//	GET  /v1/keys              list keys (never their secrets)
//	POST /v1/keys              {"name","scope"} -> the new key, its token shown once
//	POST /v1/keys/:id/revoke   revoke; idempotent
//
// Creations and revocations are logged with the actor; a revocation also
// stores who revoked the key (revoked_by).
func (h *Keys) Register(r fiber.Router, admin fiber.Handler) {
	r.Get("/keys", admin, h.list)
	r.Post("/keys", admin, h.create)
	r.Post("/keys/:id/revoke", admin, h.revokeKey)
}

func (h *Keys) list(c *fiber.Ctx) error {
	ks, err := h.keys.ListKeys(c.UserContext())
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []auth.Key{}
	}
	return c.JSON(fiber.Map{"keys": ks})
}

// maxKeyName bounds a key's name.
const maxKeyName = 200

func (h *Keys) create(c *fiber.Ctx) error {
	var req struct {
		Name  string `json:"name"`
		Scope string `json:"scope"`
	}
	if err := jsonbody.Decode(c.Body(), &req); err != nil {
		return err
	}
	var problems experiment.ValidationErrors
	scope, err := auth.ParseScope(req.Scope)
	if err != nil {
		problems = append(problems, invalid("scope", "%v", err))
	}
	if len(req.Name) > maxKeyName {
		problems = append(problems, invalid("name", "at most %d bytes", maxKeyName))
	}
	if len(problems) > 0 {
		return problems
	}
	k, token, err := auth.Generate(req.Name, scope, h.now())
	if err != nil {
		return err
	}
	if err := h.keys.CreateKey(c.UserContext(), k); err != nil {
		return err
	}
	h.log.Info("api key created", "key_id", k.ID, "scope", k.Scope, "name", k.Name, "actor", actor(c))
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"key": k, "token": token})
}

func (h *Keys) revokeKey(c *fiber.Ctx) error {
	// A copy: Fiber's params alias the request buffer, which is reused
	// after the response, and the id goes on to the store and the log.
	id := strings.Clone(c.Params("id"))
	k, err := h.revoke.Revoke(c.UserContext(), id, h.now(), actor(c))
	if errors.Is(err, auth.ErrUnknownKey) {
		return &server.Error{Status: fiber.StatusNotFound, Code: "not_found", Message: "no API key with id " + id}
	}
	if err != nil {
		return err
	}
	h.log.Info("api key revoked", "key_id", k.ID, "revoked_by", k.RevokedBy, "revoked_at", k.RevokedAt, "actor", actor(c))
	return c.JSON(fiber.Map{"key": k})
}
