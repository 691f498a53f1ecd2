// Command appliance is counterdesk: the support desk in the box at the shop
// counter. Run "appliance help" for its subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/counterdesk/counterdesk/config"
)

// Exit codes. ExitConfig tells systemd not to restart a misconfigured
// appliance (the unit sets RestartPreventExitStatus=78).
const (
	ExitOK     = 0
	ExitError  = 1
	ExitUsage  = 2
	ExitConfig = 78 // EX_CONFIG from sysexits.h
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

const usage = `counterdesk: the support desk at the shop counter.

Usage:
  appliance run [--config FILE] [--data DIR] [--http ADDR]
                                     start the appliance
  appliance check-config FILE        report every problem in a config file
  appliance config default           print the full default config, commented
  appliance token create NAME --role admin|agent [--config FILE] [--data DIR]
                                     create an API token and print it once
  appliance token list|revoke NAME   list or revoke API tokens
  appliance user add NAME --role admin|agent [--config FILE] [--data DIR]
                                     add a staff user; the password is asked
                                     for, or read from standard input
  appliance user reset-password NAME set a new password and log the user out
  appliance user list                list the staff users
  appliance backup DIR [--config FILE] [--data DIR]
                                     copy the database and attachments to DIR
                                     (works while the appliance runs)
  appliance restore DIR [--config FILE] [--data DIR]
                                     replace the data with a backup (stop the
                                     appliance first)
  appliance doctor [--config FILE] [--data DIR]
                                     check the config, data folder, disk,
                                     modem, phone line and clock, and say
                                     what to do about each problem
  appliance version                  print the version

Every config key can also be set with COUNTERDESK_<SECTION>_<KEY>, for
example COUNTERDESK_HTTP_LISTEN=127.0.0.1:9000.
`

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr, environ)
	case "check-config":
		err = cmdCheckConfig(rest, stdout, environ)
	case "config":
		err = cmdConfig(rest, stdout)
	case "token":
		err = cmdToken(rest, stdout, environ)
	case "user":
		err = cmdUser(rest, os.Stdin, stdout, stderr, environ)
	case "backup":
		err = cmdBackup(rest, stdout, environ)
	case "restore":
		err = cmdRestore(rest, stdout, environ)
	case "doctor":
		err = cmdDoctor(rest, stdout, environ)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "counterdesk", Version())
		return ExitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(stderr, "appliance: unknown command %q\n\n%s", cmd, usage)
		return ExitUsage
	}
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "appliance %s: %v\n", cmd, err)
	var problems *config.Problems
	var ue usageError
	switch {
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		return ExitUsage
	case errors.As(err, &problems), errors.Is(err, errConfig):
		return ExitConfig
	}
	return ExitError
}

// usageError is a mistake on the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

// errConfig marks errors that no restart can fix (a data folder that cannot
// be opened, a port that is not ours to take).
var errConfig = errors.New("misconfigured")

// Version returns the version the binary was built as, or its VCS revision.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}

// common holds the flags every data-touching command takes.
type common struct {
	configPath string
	dataDir    string
	httpAddr   string
	sipAddr    string
}

func (c *common) register(fs *flag.FlagSet, withHTTP bool) {
	fs.StringVar(&c.configPath, "config", "", "config `FILE` (default: $COUNTERDESK_CONFIG, else built-in defaults)")
	fs.StringVar(&c.dataDir, "data", "", "data `DIR`, overriding store.data_dir")
	if withHTTP {
		fs.StringVar(&c.httpAddr, "http", "", "HTTP listen `ADDR`, overriding http.listen")
		fs.StringVar(&c.sipAddr, "sip", "", "SIP listen `ADDR` for UDP and TCP, overriding sip.listen")
	}
}

// load reads the config file and the environment and applies the flags.
func (c *common) load(environ []string) (config.Config, error) {
	if c.configPath == "" {
		c.configPath = lookupEnv(environ, config.EnvFile)
	}
	cfg, err := config.Load(c.configPath, environ)
	var problems *config.Problems
	if err != nil && !errors.As(err, &problems) {
		// A config file that cannot be read (missing, no permission) is
		// no more fixed by a restart than a wrong key.
		return cfg, fmt.Errorf("%w: %w", errConfig, err)
	}
	if err != nil {
		return cfg, err
	}
	if c.dataDir != "" {
		cfg.Store.DataDir = c.dataDir
	}
	if c.httpAddr != "" {
		cfg.HTTP.Listen = c.httpAddr
	}
	if c.sipAddr != "" {
		cfg.SIP.Listen = c.sipAddr
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// parseFlags parses args, allowing flags after positional arguments
// ("token create NAME --role admin").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
