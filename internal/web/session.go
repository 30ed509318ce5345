package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"freehold/internal/auth"
	"freehold/internal/jmap"
	"freehold/internal/store"
)

// cookieName is the session cookie's name: with the __Host- prefix when
// Secure, so that the browser only accepts it Secure, host-only, Path=/.
func (s *Server) cookieName() string {
	if s.o.SecureCookies {
		return "__Host-freehold_session"
	}
	return "freehold_session"
}

// newToken returns a random 32-byte session token and the hash the store
// keeps.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token), nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Bearer asks for the token in the response instead of a cookie,
	// for clients that are not browsers.
	Bearer bool `json:"bearer"`
}

// maxLoginBody bounds a login request.
const maxLoginBody = 8 << 10

// serveLogin handles POST /login, with a JSON body {username, password}
// or a form (username, password). It answers 200 with
// {"accountId", "username"} and sets the session cookie, or 401.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if !s.sameSite(r) {
		jmap.WriteProblem(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	var req loginRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(w, r.Body, maxLoginBody)
	switch mt {
	case "application/json":
		b, err := io.ReadAll(body)
		if err != nil || json.Unmarshal(b, &req) != nil {
			jmap.WriteProblem(w, http.StatusBadRequest, "the body is not a login object")
			return
		}
	case "application/x-www-form-urlencoded":
		r.Body = body
		if err := r.ParseForm(); err != nil {
			jmap.WriteProblem(w, http.StatusBadRequest, "the form does not parse")
			return
		}
		req.Username, req.Password = r.PostForm.Get("username"), r.PostForm.Get("password")
	default:
		jmap.WriteProblem(w, http.StatusUnsupportedMediaType, "send JSON or a form")
		return
	}
	acct, err := s.o.Auth.Login(r.Context(), req.Username, req.Password)
	if err != nil {
		if !errors.Is(err, auth.ErrFailed) {
			s.log.Error("login", "remote", remoteIP(r), "err", err)
			jmap.WriteProblem(w, http.StatusInternalServerError, "internal error")
			return
		}
		s.log.Info("web login failed", "remote", remoteIP(r), "user", req.Username, "err", err)
		jmap.WriteProblem(w, http.StatusUnauthorized, "wrong address or password")
		return
	}
	token, hash, err := newToken()
	if err == nil {
		now := s.now()
		err = s.o.Store.CreateWebSession(r.Context(), store.WebSession{TokenHash: hash, Account: acct.ID,
			Created: now, Expires: now.Add(s.lifetime)})
	}
	if err != nil {
		s.log.Error("creating web session", "err", err)
		jmap.WriteProblem(w, http.StatusInternalServerError, "internal error")
		return
	}
	s.log.Info("web login", "remote", remoteIP(r), "account", acct.Address)
	resp := map[string]string{"accountId": jmap.AccountID(acct.ID), "username": acct.Address}
	if req.Bearer {
		resp["token"] = token
	} else {
		http.SetCookie(w, s.cookie(token, int(s.lifetime.Seconds())))
	}
	if mt == "application/x-www-form-urlencoded" && !req.Bearer {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Server) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.cookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.o.SecureCookies, SameSite: http.SameSiteStrictMode}
}

// serveLogout handles POST /logout: the session ends on every node.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !s.sameSite(r) {
		jmap.WriteProblem(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" {
		if err := s.o.Store.DeleteWebSession(r.Context(), tokenHash(c.Value)); err != nil {
			s.log.Error("deleting web session", "err", err)
			jmap.WriteProblem(w, http.StatusInternalServerError, "internal error")
			return
		}
	}
	http.SetCookie(w, s.cookie("", -1))
	w.WriteHeader(http.StatusNoContent)
}

// sameSite reports whether a state-changing request may use cookies: it
// carries X-Freehold: 1, or the browser says it comes from this origin.
func (s *Server) sameSite(r *http.Request) bool {
	if r.Header.Get("X-Freehold") == "1" {
		return true
	}
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" {
		return sfs == "same-origin"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	return false
}

// authenticate identifies the account of a JMAP request (jmap.Authenticate).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		switch strings.ToLower(scheme) {
		case "basic":
			user, pass, ok := r.BasicAuth()
			if ok {
				acct, err := s.o.Auth.Login(ctx, user, pass)
				if err == nil {
					return acct, true
				}
				if !errors.Is(err, auth.ErrFailed) {
					s.log.Error("basic auth", "err", err)
					jmap.WriteProblem(w, http.StatusInternalServerError, "internal error")
					return store.Account{}, false
				}
				s.log.Info("jmap basic auth failed", "remote", remoteIP(r), "user", user)
			}
		case "bearer":
			if acct, ok := s.sessionAccount(w, r, strings.TrimSpace(cred)); ok {
				return acct, true
			}
		}
		s.unauthorized(w, r)
		return store.Account{}, false
	}
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		s.unauthorized(w, r)
		return store.Account{}, false
	}
	// Cookies ride along with cross-site requests too (SameSite aside,
	// some browsers or proxies), so the request's origin is checked.
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
			jmap.WriteProblem(w, http.StatusForbidden, "cross-site request refused")
			return store.Account{}, false
		}
	} else if !s.sameSite(r) {
		jmap.WriteProblem(w, http.StatusForbidden, "cross-site request refused: send X-Freehold: 1")
		return store.Account{}, false
	}
	acct, ok := s.sessionAccount(w, r, c.Value)
	if !ok {
		s.unauthorized(w, r)
	}
	return acct, ok
}

// sessionAccount looks a session token up, extending the session when
// half its lifetime has passed.
func (s *Server) sessionAccount(w http.ResponseWriter, r *http.Request, token string) (store.Account, bool) {
	if token == "" || len(token) > 100 {
		return store.Account{}, false
	}
	ctx := r.Context()
	hash := tokenHash(token)
	ws, err := s.o.Store.WebSession(ctx, hash)
	now := s.now()
	if err != nil || !now.Before(ws.Expires) {
		return store.Account{}, false
	}
	acct, err := s.o.Store.Account(ctx, ws.Account)
	if err != nil {
		return store.Account{}, false
	}
	if ws.Expires.Sub(now) < s.lifetime/2 {
		if err := s.o.Store.RenewWebSession(ctx, hash, now.Add(s.lifetime)); err == nil && r.Header.Get("Authorization") == "" {
			http.SetCookie(w, s.cookie(token, int(s.lifetime.Seconds())))
		}
	}
	return acct, true
}

// unauthorized answers 401. The Basic challenge goes only to clients that
// are not browsers (no Sec-Fetch-Site, no X-Freehold): a browser would
// otherwise open its own login dialog over the webmail.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("X-Freehold") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="Freehold", charset="UTF-8"`)
	}
	jmap.WriteProblem(w, http.StatusUnauthorized, "authentication required")
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
