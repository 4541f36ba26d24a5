package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
	"github.com/journeylab/journeylab/server"
	"github.com/journeylab/journeylab/serving"
)

// OFREP reasons (OpenFeature resolution reasons) as journeylab uses them.
const (
	// ReasonSplit: the unit is in the experiment and got its variant from
	// the deterministic hash split (or stays on the variant it was first
	// exposed to).
	ReasonSplit = "SPLIT"
	// ReasonTargetingMatch: a QA override forces the unit's variant.
	ReasonTargetingMatch = "TARGETING_MATCH"
	// ReasonDefault: the experiment runs but the unit is not in it
	// (coverage, targeting, layer range or holdout); no value is sent, so
	// the client uses its code default.
	ReasonDefault = "DEFAULT"
	// ReasonDisabled: the experiment exists but is not running (draft,
	// paused, stopped, archived); no value is sent.
	ReasonDisabled = "DISABLED"
)

// OFREP error codes (OpenFeature error codes).
const (
	CodeParseError          = "PARSE_ERROR"
	CodeTargetingKeyMissing = "TARGETING_KEY_MISSING"
	CodeInvalidContext      = "INVALID_CONTEXT"
	CodeFlagNotFound        = "FLAG_NOT_FOUND"
	CodeGeneral             = "GENERAL"
)

// Evaluator is the serving runtime as OFREP uses it; *serving.Service
// implements it.
type Evaluator interface {
	Flag(key string) (serving.Flag, bool)
	Flags() []serving.Flag
	Evaluate(unitID, touchpoint string, attrs map[string]any, dst []assign.Assignment) []assign.Assignment
	EvaluateFlag(key, unitID string, attrs map[string]any, expose bool) (assign.Assignment, bool)
}

// ExperimentGetter tells a paused or stopped experiment (DISABLED) from an
// unknown key (FLAG_NOT_FOUND); it is only asked about keys that are not
// running, so the evaluation of running flags never reads the store.
type ExperimentGetter interface {
	GetExperiment(ctx context.Context, key string) (*experiment.Experiment, error)
}

// OFREPHandlers serve the OpenFeature Remote Evaluation Protocol: an
// experiment is a flag, its variant key the variant, its payload the value.
type OFREPHandlers struct {
	eval Evaluator
	exps ExperimentGetter
	log  *slog.Logger
}

// NewOFREP returns the OFREP handlers.
func NewOFREP(eval Evaluator, exps ExperimentGetter, log *slog.Logger) *OFREPHandlers {
	if log == nil {
		log = slog.Default()
	}
	return &OFREPHandlers{eval: eval, exps: exps, log: log}
}

// Register mounts the routes on r (the /ofrep/v1 router); sdk is the scope
// check.
func (h *OFREPHandlers) Register(r fiber.Router, sdk fiber.Handler) {
	r.Post("/evaluate/flags/:key", sdk, h.single)
	r.Post("/evaluate/flags", sdk, h.bulk)
}

// evaluation is one flag's answer: a success (Reason set) or a failure
// (ErrorCode set).
type evaluation struct {
	Key          string          `json:"key"`
	Value        json.RawMessage `json:"value,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	Variant      string          `json:"variant,omitempty"`
	ErrorCode    string          `json:"errorCode,omitempty"`
	ErrorDetails string          `json:"errorDetails,omitempty"`
	Metadata     *flagMetadata   `json:"metadata,omitempty"`
}

// flagMetadata places the flag in the journey.
type flagMetadata struct {
	Experiment string `json:"experiment"`
	Stage      string `json:"stage,omitempty"`
	Touchpoint string `json:"touchpoint,omitempty"`
	Layer      string `json:"layer,omitempty"`
}

// bulkFailure is the answer to a bulk request that failed as a whole.
type bulkFailure struct {
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails,omitempty"`
}

// generalError is the body of a 500.
type generalError struct {
	ErrorDetails string `json:"errorDetails"`
}

// parseRequest reads the body into a serving.Context, or returns the OFREP
// error code and details.
func parseRequest(body []byte) (serving.Context, string, string) {
	ctx, err := serving.ParseEvaluationRequest(body)
	var ve *experiment.ValidationError
	var je *jsonbody.Error
	switch {
	case err == nil:
		return ctx, "", ""
	case errors.Is(err, serving.ErrTargetingKeyMissing):
		return serving.Context{}, CodeTargetingKeyMissing, err.Error()
	case errors.As(err, &ve):
		return serving.Context{}, CodeInvalidContext, ve.Field + ": " + ve.Message
	case errors.As(err, &je) && je.Field == "":
		return serving.Context{}, CodeParseError, je.Message
	case errors.As(err, &je):
		return serving.Context{}, CodeInvalidContext, je.Field + ": " + je.Message
	}
	return serving.Context{}, CodeGeneral, err.Error()
}

// single serves POST /ofrep/v1/evaluate/flags/{key}. It records an
// exposure only when the request carries the expose header set to true.
func (h *OFREPHandlers) single(c *fiber.Ctx) error {
	key := c.Params("key")
	if k, err := url.PathUnescape(key); err == nil {
		key = k
	}
	ctx, code, details := parseRequest(c.Body())
	if code != "" {
		return c.Status(fiber.StatusBadRequest).JSON(evaluation{Key: key, ErrorCode: code, ErrorDetails: details})
	}
	// Compared, not parsed: strconv.ParseBool allocates an error for the
	// usual absent header.
	expose := strings.EqualFold(c.Get(server.ExposeHeader), "true")
	f, running := h.eval.Flag(key)
	if !running {
		return h.notRunning(c, key)
	}
	a, in := h.eval.EvaluateFlag(key, ctx.Unit, ctx.Attributes, expose)
	return c.JSON(result(f, a, in))
}

// notRunning answers for a key no running experiment has: DISABLED when the
// experiment exists, else FLAG_NOT_FOUND.
func (h *OFREPHandlers) notRunning(c *fiber.Ctx, key string) error {
	e, err := h.exps.GetExperiment(c.UserContext(), key)
	switch {
	case errors.Is(err, experiment.ErrNotFound):
		return c.Status(fiber.StatusNotFound).JSON(evaluation{Key: key, ErrorCode: CodeFlagNotFound,
			ErrorDetails: fmt.Sprintf("no experiment has the key %q", key)})
	case err != nil:
		h.log.Error("ofrep: reading an experiment failed", "key", key, "error", err)
		return c.Status(fiber.StatusInternalServerError).JSON(generalError{ErrorDetails: "the store could not be read; retry shortly"})
	}
	return c.JSON(evaluation{Key: key, Reason: ReasonDisabled,
		Metadata: &flagMetadata{Experiment: e.Key, Stage: string(e.Stage), Touchpoint: e.Touchpoint, Layer: e.Layer}})
}

// result turns an assignment (or its absence) into a success.
func result(f serving.Flag, a assign.Assignment, in bool) evaluation {
	ev := evaluation{Key: f.Key, Metadata: &flagMetadata{Experiment: f.Key, Stage: f.Stage, Touchpoint: f.Touchpoint, Layer: f.Layer}}
	if !in {
		ev.Reason = ReasonDefault
		return ev
	}
	ev.Reason, ev.Variant, ev.Value = ReasonSplit, a.Variant, a.Payload
	if a.Forced {
		ev.Reason = ReasonTargetingMatch
	}
	if len(ev.Value) == 0 && !f.Payloads {
		// In an experiment without payloads a variant is worth its key, so
		// a client can branch on a string flag. Where other variants carry
		// a payload, one without stands for what the code does by default:
		// no value, so the client's default (of the payloads' type) applies.
		ev.Value, _ = json.Marshal(a.Variant)
	}
	return ev
}

// bulkBuffers pools the assignment slice of bulk evaluations.
var bulkBuffers = sync.Pool{New: func() any { s := make([]assign.Assignment, 0, 16); return &s }}

// bulk serves POST /ofrep/v1/evaluate/flags: every running experiment (of
// the context's touchpoint, when it names one) evaluated for the unit,
// never recorded as an exposure. The ETag is a hash of the answer, so an
// If-None-Match that matches means this unit's flags have not changed.
func (h *OFREPHandlers) bulk(c *fiber.Ctx) error {
	ctx, code, details := parseRequest(c.Body())
	if code != "" {
		return c.Status(fiber.StatusBadRequest).JSON(bulkFailure{ErrorCode: code, ErrorDetails: details})
	}
	bufp := bulkBuffers.Get().(*[]assign.Assignment)
	as := h.eval.Evaluate(ctx.Unit, ctx.Touchpoint, ctx.Attributes, (*bufp)[:0])
	byKey := make(map[string]int, len(as))
	for i := range as {
		if !as[i].Holdout && !as[i].Baseline {
			byKey[as[i].Experiment] = i
		}
	}
	flags := make([]evaluation, 0, len(byKey))
	for _, f := range h.eval.Flags() {
		if ctx.Touchpoint != "" && f.Touchpoint != ctx.Touchpoint {
			continue
		}
		i, in := byKey[f.Key]
		var a assign.Assignment
		if in {
			a = as[i]
		}
		flags = append(flags, result(f, a, in))
	}
	body, err := json.Marshal(struct {
		Flags []evaluation `json:"flags"`
	}{flags})
	clear(as)
	*bufp = as[:0]
	bulkBuffers.Put(bufp)
	if err != nil {
		return fmt.Errorf("encode bulk evaluation: %w", err)
	}
	c.Set(fiber.HeaderETag, `"`+strconv.FormatUint(xxhash.Sum64(body), 16)+`"`)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if c.Fresh() {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}
