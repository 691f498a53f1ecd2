package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/counterdesk/counterdesk/ui/auth"
	"golang.org/x/term"
)

type userRequest struct {
	Name     string `json:"name"`
	Role     string `json:"role,omitempty"`
	Password string `json:"password,omitempty"`
}

type userReply struct {
	Users []auth.User `json:"users,omitempty"`
}

// userCall runs the staff account operations of ops; the control socket
// and the stopped appliance reach them the same way.
func (o ops) userCall(op string, req json.RawMessage) (any, error) {
	switch op {
	case "user-add", "user-reset-password", "user-list":
	default:
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	users, err := auth.NewUsers(o.desk.DB(), auth.UsersOptions{})
	if err != nil {
		return nil, err
	}
	var r userRequest
	if op != "user-list" {
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, err
		}
	}
	switch op {
	case "user-add":
		role, err := auth.ParseRole(r.Role)
		if err != nil {
			return nil, err
		}
		_, err = users.Create(r.Name, role, r.Password)
		return userReply{}, err
	case "user-reset-password":
		return userReply{}, users.SetPassword(r.Name, r.Password)
	}
	list, err := users.List()
	return userReply{Users: list}, err
}

const userUsage = "usage: appliance user add NAME --role admin|agent | user reset-password NAME | user list"

func cmdUser(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) error {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	var c common
	c.register(fs, false)
	role := fs.String("role", "", "`ROLE` of the new user: admin or agent")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError(userUsage)
	}
	var reply userReply
	switch {
	case pos[0] == "add" && len(pos) == 2:
		if *role == "" {
			return usageError("user add needs --role admin or --role agent")
		}
		if _, err := auth.ParseRole(*role); err != nil {
			return usageError(err.Error())
		}
		pw, err := readPassword(stdin, stderr, pos[1])
		if err != nil {
			return err
		}
		if err := withOps(&c, environ, "user-add", userRequest{Name: pos[1], Role: *role, Password: pw}, &reply); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %q (%s) created\n", pos[1], *role)
		return nil
	case pos[0] == "reset-password" && len(pos) == 2:
		pw, err := readPassword(stdin, stderr, pos[1])
		if err != nil {
			return err
		}
		if err := withOps(&c, environ, "user-reset-password", userRequest{Name: pos[1], Password: pw}, &reply); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %q changed; the user's sessions are logged out\n", pos[1])
		return nil
	case pos[0] == "list" && len(pos) == 1:
		if err := withOps(&c, environ, "user-list", struct{}{}, &reply); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tPASSWORD SET")
		for _, u := range reply.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.CreatedAt.Local().Format(time.DateTime), u.PasswordAt.Local().Format(time.DateTime))
		}
		return tw.Flush()
	}
	return usageError(userUsage)
}

// readPassword asks for the password twice, without echo, on a terminal;
// otherwise it reads the first line of stdin, for scripts
// ("echo secret | appliance user add ...").
func readPassword(stdin io.Reader, stderr io.Writer, name string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Password for %s: ", name)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
