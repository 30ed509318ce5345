package jmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"freehold/internal/store"
)

// method is one entry of the method table.
type method struct {
	capability string
	fn         func(ctx context.Context, c *call) (any, error)
}

// apiRequest is the state shared by the method calls of one request.
type apiRequest struct {
	acct      store.Account
	using     map[string]bool
	created   map[string]string // creation id → server id (RFC 8620 §5.3)
	responses []Invocation
}

// call is one method call being processed.
type call struct {
	s     *Server
	req   *apiRequest
	name  string
	args  json.RawMessage
	extra []Invocation // implicit responses, appended after this one
}

// acct returns the authenticated account.
func (c *call) acct() store.Account { return c.req.acct }

// decode unmarshals the call's arguments into v.
func (c *call) decode(v any) error {
	if err := json.Unmarshal(c.args, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalidArgs("%s has the wrong type", te.Field)
		}
		return invalidArgs("the arguments do not parse: %v", err)
	}
	return nil
}

// checkAccount verifies that accountId names the authenticated account
// (RFC 8620 §3.6.2 accountNotFound).
func (c *call) checkAccount(id string) error {
	if id == "" {
		return invalidArgs("accountId is required")
	}
	if id != accountIDString(c.req.acct.ID) {
		return methodErr(errAccountNotFound, "no such account")
	}
	return nil
}

// addResponse appends an implicit response after the current one (such as
// the Email/set that EmailSubmission/set onSuccessUpdateEmail causes).
func (c *call) addResponse(name string, args any) error {
	b, err := json.Marshal(args)
	if err != nil {
		return err
	}
	c.extra = append(c.extra, Invocation{Name: name, Args: b})
	return nil
}

// resolveID maps a "#creationId" reference to the id it was created with;
// other ids are returned unchanged. ok is false for an unknown creation id.
func (c *call) resolveID(id string) (string, bool) {
	if !strings.HasPrefix(id, "#") {
		return id, true
	}
	v, ok := c.req.created[id[1:]]
	return v, ok
}

// serveAPI handles POST /jmap/api (RFC 8620 §3).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, acct store.Account) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		writeProblem(w, problem{Type: probNotJSON, Status: http.StatusBadRequest,
			Detail: "the request must have Content-Type application/json"})
		return
	}
	if !s.acquire(s.apiBusy, acct.ID, s.limits.MaxConcurrentRequests) {
		writeProblem(w, problem{Type: probLimit, Status: http.StatusTooManyRequests,
			Limit: "maxConcurrentRequests", Detail: "too many concurrent requests"})
		return
	}
	defer s.release(s.apiBusy, acct.ID)
	body, err := io.ReadAll(io.LimitReader(r.Body, s.limits.MaxSizeRequest+1))
	if err != nil {
		writeProblem(w, problem{Type: probNotJSON, Status: http.StatusBadRequest,
			Detail: "the request body could not be read"})
		return
	}
	if int64(len(body)) > s.limits.MaxSizeRequest {
		writeProblem(w, problem{Type: probLimit, Status: http.StatusBadRequest,
			Limit: "maxSizeRequest", Detail: "the request is larger than maxSizeRequest"})
		return
	}
	resp, err := s.Execute(r.Context(), acct, body)
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			writeProblem(w, re.p)
			return
		}
		s.log.Error("jmap request", "account", acct.Address, "err", err)
		WriteProblem(w, http.StatusInternalServerError, "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, resp)
}

// Execute runs a request body for acct and returns the response. Its
// error is a request-level error (RFC 8620 §3.6.1).
func (s *Server) Execute(ctx context.Context, acct store.Account, body []byte) (*Response, error) {
	req, err := ParseRequest(body)
	if err != nil {
		return nil, err
	}
	known := capabilityNames()
	ar := &apiRequest{acct: acct, using: map[string]bool{}, created: map[string]string{}}
	for _, u := range req.Using {
		if !known[u] {
			return nil, &requestError{problem{Type: probUnknownCapability, Status: http.StatusBadRequest,
				Detail: fmt.Sprintf("unknown capability %q", u)}}
		}
		ar.using[u] = true
	}
	if len(req.MethodCalls) > s.limits.MaxCallsInRequest {
		return nil, &requestError{problem{Type: probLimit, Status: http.StatusBadRequest,
			Limit: "maxCallsInRequest", Detail: "too many method calls"}}
	}
	for k, v := range req.CreatedIDs {
		ar.created[k] = v
	}
	for _, inv := range req.MethodCalls {
		s.invoke(ctx, ar, inv)
	}
	resp := &Response{MethodResponses: ar.responses, SessionState: sessionState(acct)}
	if resp.MethodResponses == nil {
		resp.MethodResponses = []Invocation{}
	}
	if req.CreatedIDs != nil {
		resp.CreatedIDs = ar.created
	}
	return resp, nil
}

// invoke runs one method call and appends its response(s) (RFC 8620 §3.6).
func (s *Server) invoke(ctx context.Context, ar *apiRequest, inv Invocation) {
	respond := func(name string, args any) {
		b, err := json.Marshal(args)
		if err != nil {
			s.log.Error("jmap marshal response", "method", inv.Name, "err", err)
			b, _ = json.Marshal(&MethodError{Type: errServerFail})
			name = "error"
		}
		ar.responses = append(ar.responses, Invocation{Name: name, Args: b, CallID: inv.CallID})
	}
	m, ok := s.methods[inv.Name]
	if !ok || !ar.using[m.capability] {
		respond("error", &MethodError{Type: errUnknownMethod})
		return
	}
	args, merr := resolveReferences(inv.Args, ar.responses)
	if merr != nil {
		respond("error", merr)
		return
	}
	c := &call{s: s, req: ar, name: inv.Name, args: args}
	res, err := s.runMethod(ctx, m, c)
	if err != nil {
		var me *MethodError
		if !errors.As(err, &me) {
			s.log.Error("jmap method failed", "method", inv.Name, "account", ar.acct.Address, "err", err)
			me = &MethodError{Type: errServerFail}
		}
		respond("error", me)
		return
	}
	respond(inv.Name, res)
	for _, x := range c.extra {
		ar.responses = append(ar.responses, Invocation{Name: x.Name, Args: x.Args, CallID: inv.CallID})
	}
}

// runMethod calls a method, turning a panic into serverFail: bad input
// must never take the server down (the panic is logged with its stack).
func (s *Server) runMethod(ctx context.Context, m method, c *call) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("jmap method panic", "method", c.name, "panic", p, "stack", string(debug.Stack()))
			res, err = nil, &MethodError{Type: errServerFail}
		}
	}()
	return m.fn(ctx, c)
}

// resultReference is RFC 8620 §3.7's ResultReference.
type resultReference struct {
	ResultOf string `json:"resultOf"`
	Name     string `json:"name"`
	Path     string `json:"path"`
}

// resolveReferences replaces every "#name" argument by the value its
// ResultReference points at (RFC 8620 §3.7).
func resolveReferences(args json.RawMessage, prev []Invocation) (json.RawMessage, *MethodError) {
	if !bytes.Contains(args, []byte(`"#`)) {
		return args, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(args, &m); err != nil {
		return nil, invalidArgs("the arguments are not an object")
	}
	changed := false
	for k, v := range m {
		if !strings.HasPrefix(k, "#") {
			continue
		}
		plain := k[1:]
		if _, dup := m[plain]; dup {
			return nil, invalidArgs("both %s and #%s are given", plain, plain)
		}
		var ref resultReference
		if err := json.Unmarshal(v, &ref); err != nil || ref.ResultOf == "" || ref.Name == "" {
			return nil, methodErr(errInvalidResultReference, "%s is not a ResultReference", k)
		}
		val, err := evalReference(ref, prev)
		if err != nil {
			return nil, methodErr(errInvalidResultReference, "%s: %v", k, err)
		}
		b, err := json.Marshal(val)
		if err != nil {
			return nil, methodErr(errInvalidResultReference, "%s: %v", k, err)
		}
		delete(m, k)
		m[plain] = b
		changed = true
	}
	if !changed {
		return args, nil
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, invalidArgs("the arguments do not encode")
	}
	return out, nil
}

func evalReference(ref resultReference, prev []Invocation) (any, error) {
	for _, p := range prev {
		if p.CallID != ref.ResultOf {
			continue
		}
		if p.Name != ref.Name {
			return nil, fmt.Errorf("call %q answered %s, not %s", ref.ResultOf, p.Name, ref.Name)
		}
		dec := json.NewDecoder(bytes.NewReader(p.Args))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		return evalPointer(v, ref.Path)
	}
	return nil, fmt.Errorf("no response with call id %q", ref.ResultOf)
}

// evalPointer evaluates a JSON Pointer (RFC 6901) with JMAP's extension
// (RFC 8620 §3.7): "*" on an array maps the rest of the path over its
// items, flattening results that are arrays.
func evalPointer(v any, path string) (any, error) {
	if path == "" {
		return v, nil
	}
	if path[0] != '/' {
		return nil, fmt.Errorf("path %q does not start with /", path)
	}
	return walkPointer(v, strings.Split(path[1:], "/"))
}

func walkPointer(v any, toks []string) (any, error) {
	for i, tok := range toks {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch cur := v.(type) {
		case map[string]any:
			next, ok := cur[tok]
			if !ok {
				return nil, fmt.Errorf("no property %q", tok)
			}
			v = next
		case []any:
			if tok == "*" {
				out := []any{}
				for _, item := range cur {
					r, err := walkPointer(item, toks[i+1:])
					if err != nil {
						return nil, err
					}
					if arr, ok := r.([]any); ok {
						out = append(out, arr...)
					} else {
						out = append(out, r)
					}
				}
				return out, nil
			}
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(cur) || (len(tok) > 1 && tok[0] == '0') {
				return nil, fmt.Errorf("bad array index %q", tok)
			}
			v = cur[n]
		default:
			return nil, fmt.Errorf("cannot descend into a scalar at %q", tok)
		}
	}
	return v, nil
}
