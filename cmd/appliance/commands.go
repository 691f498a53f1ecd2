package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ticket"

	// The Pi may have no zoneinfo files; the shop's time zone must still load.
	_ "time/tzdata"
)

func cmdCheckConfig(args []string, stdout io.Writer, environ []string) error {
	if len(args) != 1 {
		return usageError("usage: appliance check-config FILE")
	}
	_, err := config.Load(args[0], environ)
	var problems *config.Problems
	if errors.As(err, &problems) {
		problems.File = args[0]
		fmt.Fprintln(stdout, problems.Error())
		return fmt.Errorf("%w: %s: %d problem(s)", errConfig, args[0], len(problems.List))
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return nil
}

func cmdConfig(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "default" {
		return usageError("usage: appliance config default")
	}
	_, err := stdout.Write(config.Example())
	return err
}

func cmdToken(args []string, stdout io.Writer, environ []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	var c common
	c.register(fs, false)
	role := fs.String("role", "", "`ROLE` of the new token: admin or agent")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("usage: appliance token create NAME --role admin|agent | token list | token revoke NAME")
	}
	var reply tokenReply
	switch {
	case pos[0] == "create" && len(pos) == 2:
		if *role == "" {
			return usageError("token create needs --role admin or --role agent")
		}
		if err := withOps(&c, environ, "token-create", tokenRequest{Name: pos[1], Role: *role}, &reply); err != nil {
			return err
		}
		fmt.Fprintln(stdout, reply.Secret)
		fmt.Fprintf(os.Stderr, "token %q (%s) created; it is shown only this once. Send it as \"Authorization: Bearer <token>\".\n", pos[1], *role)
		return nil
	case pos[0] == "list" && len(pos) == 1:
		if err := withOps(&c, environ, "token-list", struct{}{}, &reply); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
		for _, t := range reply.Tokens {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Format(time.DateTime))
		}
		return tw.Flush()
	case pos[0] == "revoke" && len(pos) == 2:
		if err := withOps(&c, environ, "token-revoke", tokenRequest{Name: pos[1]}, &reply); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %q revoked\n", pos[1])
		return nil
	}
	return usageError("usage: appliance token create NAME --role admin|agent | token list | token revoke NAME")
}

// dirArgs parses the flags of a command that takes one folder, such as
// backup and restore.
func dirArgs(name string, args []string) (common, string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var c common
	c.register(fs, false)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return c, "", err
	}
	if len(pos) != 1 {
		return c, "", usageError("usage: appliance " + name + " DIR")
	}
	return c, pos[0], nil
}

func cmdBackup(args []string, stdout io.Writer, environ []string) error {
	c, dir, err := dirArgs("backup", args)
	if err != nil {
		return err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	var m ticket.Manifest
	if err := withOps(&c, environ, "backup", backupRequest{Dir: dir}, &m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: %d tickets, %d bytes of database, %d attachments\n", dir, m.Tickets, m.DBBytes, m.Attachments)
	return nil
}

func cmdRestore(args []string, stdout io.Writer, environ []string) error {
	c, dir, err := dirArgs("restore", args)
	if err != nil {
		return err
	}
	cfg, err := c.load(environ)
	if err != nil {
		return err
	}
	m, err := ticket.Restore(dir, cfg.Store.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %d tickets and %d attachments from the backup of %s into %s\n",
		m.Tickets, m.Attachments, m.CreatedAt.Format(time.DateTime), cfg.Store.DataDir)
	return nil
}
