package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// ControlSocket is the name of the running appliance's control socket in the
// data folder. Commands such as backup and token create reach the running
// appliance through it, since bbolt lets only one process open the
// database. Only the owner of the data folder may connect (mode 0600).
const ControlSocket = "control.sock"

// ops are the commands that need the database. The running appliance
// serves them on its control socket; when it is stopped the command line
// opens the database and calls them itself.
type ops struct {
	desk   *ticket.Desk
	tokens *auth.Tokens
}

type tokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

type tokenReply struct {
	Secret string       `json:"secret,omitempty"`
	Tokens []auth.Token `json:"tokens,omitempty"`
}

type backupRequest struct {
	Dir string `json:"dir"`
}

func (o ops) call(op string, req json.RawMessage) (any, error) {
	switch op {
	case "token-create":
		var r tokenRequest
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, err
		}
		role, err := auth.ParseRole(r.Role)
		if err != nil {
			return nil, err
		}
		secret, err := o.tokens.Create(r.Name, role)
		return tokenReply{Secret: secret}, err
	case "token-list":
		list, err := o.tokens.List()
		return tokenReply{Tokens: list}, err
	case "token-revoke":
		var r tokenRequest
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, err
		}
		return tokenReply{}, o.tokens.Revoke(r.Name)
	case "backup":
		var r backupRequest
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, err
		}
		if !filepath.IsAbs(r.Dir) {
			return nil, fmt.Errorf("backup folder %q is not an absolute path", r.Dir)
		}
		return o.desk.Backup(r.Dir)
	}
	return o.userCall(op, req)
}

// control serves ops on the control socket.
type control struct {
	srv  *http.Server
	path string
}

func listenControl(dataDir string, desk *ticket.Desk, tokens *auth.Tokens, log *slog.Logger) (*control, error) {
	path := filepath.Join(dataDir, ControlSocket)
	// We hold the database lock, so a socket file left here belongs to a
	// process that died.
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	o := ops{desk: desk, tokens: tokens}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{op}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		op := r.PathValue("op")
		res, err := o.call(op, body)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			log.Warn("control command failed", "op", op, "err", err)
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		log.Info("control command", "op", op)
		json.NewEncoder(w).Encode(res)
	})
	c := &control{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, path: path}
	go c.srv.Serve(ln)
	return c, nil
}

func (c *control) Close() error {
	err := c.srv.Close()
	os.Remove(c.path)
	return err
}

// callRunning sends op to the appliance running on dataDir. It returns
// errNotRunning when no appliance answers there.
func callRunning(dataDir, op string, req, resp any) error {
	path := filepath.Join(dataDir, ControlSocket)
	client := &http.Client{
		Timeout: 10 * time.Minute, // a backup of a large store takes a while
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	r, err := client.Post("http://appliance/"+op, "application/json", bytes.NewReader(body))
	if err != nil {
		var ne *net.OpError
		if errors.As(err, &ne) && ne.Op == "dial" {
			return errNotRunning
		}
		return fmt.Errorf("control socket: %w", err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if r.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("control socket: %s", r.Status)
	}
	return json.Unmarshal(data, resp)
}

// withOps runs op on the running appliance if there is one, else on the
// database opened here.
func withOps(c *common, environ []string, op string, req, resp any) error {
	cfg, err := c.load(environ)
	if err != nil {
		return err
	}
	dataDir, err := filepath.Abs(cfg.Store.DataDir)
	if err != nil {
		return err
	}
	err = callRunning(dataDir, op, req, resp)
	if !errors.Is(err, errNotRunning) {
		return err
	}
	desk, err := openDesk(dataDir, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer desk.Close()
	tokens, err := auth.NewTokens(desk.DB())
	if err != nil {
		return err
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return err
	}
	res, err := ops{desk: desk, tokens: tokens}.call(op, raw)
	if err != nil {
		return err
	}
	// Round-trip through JSON so both paths give the caller the same thing.
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, resp)
}
