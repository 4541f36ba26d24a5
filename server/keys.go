package server

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"journeylab/auth"
	"journeylab/experiment"
	"journeylab/jsonbody"
)

// registerKeys mounts API-key management (admin scope):
//
//	GET  /v1/keys              list keys (never their secrets)
//	POST /v1/keys              {"name","scope"} -> the new key, its token shown once
//	POST /v1/keys/:id/revoke   revoke; idempotent
//
// Creations and revocations are logged with the actor; a revocation also
// stores who revoked the key (revoked_by).
func (s *Server) registerKeys(r fiber.Router) {
	admin := s.Require(auth.ScopeAdmin)
	r.Get("/keys", admin, s.listKeys)
	r.Post("/keys", admin, s.createKey)
	r.Post("/keys/:id/revoke", admin, s.revokeKey)
}

func (s *Server) listKeys(c *fiber.Ctx) error {
	ks, err := s.opts.Keys.ListKeys(c.UserContext())
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []auth.Key{}
	}
	return c.JSON(fiber.Map{"keys": ks})
}

func (s *Server) createKey(c *fiber.Ctx) error {
	var req struct {
		Name  string `json:"name"`
		Scope string `json:"scope"`
	}
	if err := jsonbody.Decode(c.Body(), &req); err != nil {
		return err
	}
	scope, err := auth.ParseScope(req.Scope)
	if err != nil {
		return &experiment.ValidationError{Field: "scope", Message: err.Error()}
	}
	if len(req.Name) > 200 {
		return &experiment.ValidationError{Field: "name", Message: "at most 200 bytes"}
	}
	k, token, err := auth.Generate(req.Name, scope, s.opts.Now())
	if err != nil {
		return err
	}
	if err := s.opts.Keys.CreateKey(c.UserContext(), k); err != nil {
		return err
	}
	s.log.Info("api key created", "key_id", k.ID, "scope", k.Scope, "name", k.Name, "actor", actorOf(c))
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"key": k, "token": token})
}

func (s *Server) revokeKey(c *fiber.Ctx) error {
	// A copy: Fiber's params alias the request buffer, which is reused
	// after the response, and the id goes on to the store and the log.
	id := strings.Clone(c.Params("id"))
	k, err := s.opts.Verifier.Revoke(c.UserContext(), id, s.opts.Now(), actorOf(c))
	if errors.Is(err, auth.ErrUnknownKey) {
		return &Error{Status: fiber.StatusNotFound, Code: "not_found", Message: "no API key with id " + id}
	}
	if err != nil {
		return err
	}
	s.log.Info("api key revoked", "key_id", k.ID, "revoked_by", k.RevokedBy, "revoked_at", k.RevokedAt, "actor", actorOf(c))
	return c.JSON(fiber.Map{"key": k})
}

func actorOf(c *fiber.Ctx) string {
	a, _ := c.Locals(ActorLocal).(string)
	return a
}
