package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/gofiber/fiber/v2"
)

// The error codes of the API. They are stable: clients may switch on them.
const (
	codeBadRequest       = "bad_request"            // 400
	codeUnauthorized     = "unauthorized"           // 401
	codeForbidden        = "forbidden"              // 403
	codeNotFound         = "not_found"              // 404
	codeMethodNotAllowed = "method_not_allowed"     // 405
	codeTimeout          = "timeout"                // 408
	codeConflict         = "conflict"               // 409
	codeTooLarge         = "too_large"              // 413, 431
	codeUnsupportedMedia = "unsupported_media_type" // 415
	codeRangeNotSatisf   = "range_not_satisfiable"  // 416
	codeInvalid          = "invalid"                // 422
	codeUnavailable      = "unavailable"            // 503
	codeInternal         = "internal"               // 500
)

// apiError is an error answer: an HTTP status, a stable code, a message
// for people and, for input errors, the field at fault.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   string
	Err     error // the cause, if any
}

func (e *apiError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *apiError) Unwrap() error { return e.Err }

// errorBody is the JSON of an error answer:
// {"error":{"code":"not_found","message":"ticket #1042: not found"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Status: fiber.StatusBadRequest, Code: codeBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{Status: fiber.StatusNotFound, Code: codeNotFound, Message: fmt.Sprintf(format, args...)}
}

// asBadRequest turns a Desk input error about a query parameter into a
// 400: a wrong query is a bad request, not a rejected entity.
func asBadRequest(err error) error {
	var fe *ticket.FieldError
	if errors.As(err, &fe) && errors.Is(fe, ticket.ErrInvalid) {
		return &apiError{Status: fiber.StatusBadRequest, Code: codeBadRequest, Field: fe.Field, Message: fe.Error(), Err: err}
	}
	return err
}

// classify maps any error a handler returns, or fiber raises, to its
// answer.
func (s *Server) classify(c *fiber.Ctx, err error) *apiError {
	var (
		ae  *apiError
		pe  *pageError
		fe  *fiber.Error
		te  *ticket.TransitionError
		fld *ticket.FieldError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &pe):
		return &apiError{Status: pe.Status, Code: codeOf(pe.Status), Message: pe.Message, Err: err}
	case errors.As(err, &fe):
		return s.fromFiber(c, fe)
	case errors.As(err, &te):
		return &apiError{Status: fiber.StatusConflict, Code: codeConflict, Message: te.Error(), Err: err}
	case errors.Is(err, ticket.ErrMerged):
		return &apiError{Status: fiber.StatusConflict, Code: codeConflict, Message: err.Error(), Err: err}
	case errors.Is(err, ticket.ErrNotFound), errors.Is(err, ticket.ErrDeleted):
		return &apiError{Status: fiber.StatusNotFound, Code: codeNotFound, Message: err.Error(), Err: err}
	case errors.As(err, &fld):
		if errors.Is(fld, ticket.ErrTooLarge) {
			return &apiError{Status: fiber.StatusRequestEntityTooLarge, Code: codeTooLarge, Field: fld.Field, Message: fld.Error(), Err: err}
		}
		return &apiError{Status: fiber.StatusUnprocessableEntity, Code: codeInvalid, Field: fld.Field, Message: fld.Error(), Err: err}
	case errors.Is(err, ticket.ErrTooLarge):
		return &apiError{Status: fiber.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: err.Error(), Err: err}
	case errors.Is(err, ticket.ErrUnknownStatus):
		return &apiError{Status: fiber.StatusUnprocessableEntity, Code: codeInvalid, Field: "status", Message: err.Error(), Err: err}
	case errors.Is(err, ticket.ErrUnknownPriority):
		return &apiError{Status: fiber.StatusUnprocessableEntity, Code: codeInvalid, Field: "priority", Message: err.Error(), Err: err}
	case errors.Is(err, ticket.ErrUnknownChannel):
		return &apiError{Status: fiber.StatusUnprocessableEntity, Code: codeInvalid, Field: "channel", Message: err.Error(), Err: err}
	case errors.Is(err, ticket.ErrInvalid):
		return &apiError{Status: fiber.StatusUnprocessableEntity, Code: codeInvalid, Message: err.Error(), Err: err}
	case errors.Is(err, ticket.ErrDiskFull):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: codeUnavailable,
			Message: "the box's disk is nearly full, so attachments are refused; nothing was stored (send it without the attachment, or free some space)", Err: err}
	case errors.Is(err, ticket.ErrOutboxFull):
		c.Set(fiber.HeaderRetryAfter, "60")
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: codeUnavailable, Message: "the outbox is full; try again later", Err: err}
	case errors.Is(err, ticket.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: codeUnavailable, Message: "the server is shutting down; try again later", Err: err}
	}
	return &apiError{Status: fiber.StatusInternalServerError, Code: codeInternal, Message: "internal error", Err: err}
}

// fromFiber maps the errors fiber and fasthttp raise themselves: no route,
// wrong method, body over the limit, slow client.
func (s *Server) fromFiber(c *fiber.Ctx, fe *fiber.Error) *apiError {
	e := &apiError{Status: fe.Code, Message: fe.Message, Err: fe}
	switch fe.Code {
	case fiber.StatusBadRequest:
		e.Code = codeBadRequest
	case fiber.StatusNotFound:
		e.Code, e.Message = codeNotFound, "no such endpoint: "+c.Method()+" "+c.Path()
	case fiber.StatusMethodNotAllowed:
		e.Code, e.Message = codeMethodNotAllowed, "method "+c.Method()+" is not allowed on "+c.Path()
	case fiber.StatusRequestTimeout:
		e.Code, e.Message = codeTimeout, "the request took too long to arrive"
	case fiber.StatusRequestEntityTooLarge:
		e.Code, e.Message = codeTooLarge, "the request body is over the limit of "+strconv.Itoa(s.opts.MaxBodyBytes)+" bytes"
	case fiber.StatusRequestHeaderFieldsTooLarge:
		e.Code, e.Message = codeTooLarge, "the request headers are too large"
	case fiber.StatusUnsupportedMediaType:
		e.Code = codeUnsupportedMedia
	default:
		if fe.Code < 500 {
			e.Code = codeBadRequest
			if e.Message == "" {
				e.Message = http.StatusText(fe.Code)
			}
		} else {
			e.Code, e.Message = codeInternal, "internal error"
		}
	}
	return e
}

// handleError is the one error answer of the server: the fiber
// ErrorHandler and the end of every request's chain. Every error becomes
// JSON; internal details go to the log only.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	e := s.classify(c, err)
	switch {
	case e.Status >= 500 && e.Code == codeInternal:
		s.log.Error("http: internal error", "method", c.Method(), "path", c.Path(), "err", err)
	case e.Status >= 500:
		s.log.Warn("http: unavailable", "method", c.Method(), "path", c.Path(), "err", err)
	case e.Status == fiber.StatusRequestEntityTooLarge || e.Status == fiber.StatusRequestHeaderFieldsTooLarge:
		// A limit was reached: say so (invariant 7: limits are visible).
		s.log.Warn("http: request over a limit", "method", c.Method(), "path", c.Path(), "status", e.Status, "detail", e.Message)
	}
	if s.pages != nil && wantsHTML(c) {
		return s.renderError(c, e)
	}
	// Headers set before the error still stand; the body goes.
	setSecurityHeaders(c)
	c.Response().ResetBody()
	return c.Status(e.Status).JSON(errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}

// codeOf is the API error code of an HTTP status.
func codeOf(status int) string {
	switch status {
	case fiber.StatusUnauthorized:
		return codeUnauthorized
	case fiber.StatusForbidden:
		return codeForbidden
	case fiber.StatusNotFound:
		return codeNotFound
	case fiber.StatusConflict:
		return codeConflict
	case fiber.StatusRequestEntityTooLarge:
		return codeTooLarge
	case fiber.StatusUnprocessableEntity:
		return codeInvalid
	case fiber.StatusServiceUnavailable:
		return codeUnavailable
	}
	if status >= 500 {
		return codeInternal
	}
	return codeBadRequest
}
