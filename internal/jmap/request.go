package jmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Request is a JMAP request object (RFC 8620 §3.3).
type Request struct {
	Using       []string
	MethodCalls []Invocation
	// CreatedIDs is nil when the request did not carry createdIds.
	CreatedIDs map[string]string
}

// Invocation is one method call or response (RFC 8620 §3.2): a
// three-element array [name, arguments, callId].
type Invocation struct {
	Name   string
	Args   json.RawMessage
	CallID string
}

// MarshalJSON writes the three-element array form.
func (inv Invocation) MarshalJSON() ([]byte, error) {
	args := inv.Args
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	return json.Marshal([]any{inv.Name, args, inv.CallID})
}

// Response is a JMAP response object (RFC 8620 §3.4).
type Response struct {
	MethodResponses []Invocation      `json:"methodResponses"`
	CreatedIDs      map[string]string `json:"createdIds,omitempty"`
	SessionState    string            `json:"sessionState"`
}

// requestError is a request-level failure, answered with a problem.
type requestError struct{ p problem }

func (e *requestError) Error() string { return e.p.Type + ": " + e.p.Detail }

func notRequest(format string, args ...any) *requestError {
	return &requestError{problem{Type: probNotRequest, Status: http.StatusBadRequest,
		Detail: fmt.Sprintf(format, args...)}}
}

// ParseRequest parses a request body. Its error is a request-level error
// (notJSON or notRequest, RFC 8620 §3.6.1); it never panics.
func ParseRequest(body []byte) (*Request, error) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, &requestError{problem{Type: probNotJSON, Status: http.StatusBadRequest,
			Detail: "the request body is not valid I-JSON"}}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, notRequest("the request is not a JSON object")
	}
	req := &Request{}
	u, ok := raw["using"]
	if !ok || isNull(u) {
		return nil, notRequest("using is missing")
	}
	if err := json.Unmarshal(u, &req.Using); err != nil || req.Using == nil {
		return nil, notRequest("using is not an array of strings")
	}
	mc, ok := raw["methodCalls"]
	if !ok || isNull(mc) {
		return nil, notRequest("methodCalls is missing")
	}
	var calls []json.RawMessage
	if err := json.Unmarshal(mc, &calls); err != nil || calls == nil {
		return nil, notRequest("methodCalls is not an array")
	}
	for i, c := range calls {
		inv, err := parseInvocation(c)
		if err != nil {
			return nil, notRequest("methodCalls[%d]: %v", i, err)
		}
		req.MethodCalls = append(req.MethodCalls, inv)
	}
	if c, ok := raw["createdIds"]; ok && !isNull(c) {
		if err := json.Unmarshal(c, &req.CreatedIDs); err != nil {
			return nil, notRequest("createdIds is not a map of strings")
		}
		if req.CreatedIDs == nil {
			req.CreatedIDs = map[string]string{}
		}
	}
	return req, nil
}

func parseInvocation(b json.RawMessage) (Invocation, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return Invocation{}, fmt.Errorf("not an array")
	}
	if len(parts) != 3 {
		return Invocation{}, fmt.Errorf("has %d elements, not 3", len(parts))
	}
	var inv Invocation
	if err := json.Unmarshal(parts[0], &inv.Name); err != nil || isNull(parts[0]) {
		return Invocation{}, fmt.Errorf("method name is not a string")
	}
	if t := bytes.TrimSpace(parts[1]); len(t) == 0 || t[0] != '{' {
		return Invocation{}, fmt.Errorf("arguments are not an object")
	}
	inv.Args = parts[1]
	if err := json.Unmarshal(parts[2], &inv.CallID); err != nil || isNull(parts[2]) {
		return Invocation{}, fmt.Errorf("call id is not a string")
	}
	return inv, nil
}

func isNull(b json.RawMessage) bool {
	return string(bytes.TrimSpace(b)) == "null"
}
