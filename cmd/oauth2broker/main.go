package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; args exclude the program name. It returns the
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return exitOK
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		go func() {
			<-ctx.Done()
			stop() // a second signal during the graceful shutdown kills at once
		}()
		return exitCode(stderr, "serve", serve(ctx, args[1:], stderr, nil))
	case "dev":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return exitCode(stderr, "dev", devCmd(ctx, args[1:], stdout, stderr, nil))
	case "bench":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return exitCode(stderr, "bench", benchCmd(ctx, args[1:], stdout, stderr))
	case "migrate":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return exitCode(stderr, "migrate", migrateCmd(ctx, args[1:], stdout, stderr))
	}
	a := newApp(stdout, stderr, os.Stdin)
	if args[0] == "backup" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return exitCode(stderr, "backup", backupCmd(ctx, a, args[1:]))
	}
	if args[0] == "providers" {
		return exitCode(stderr, "providers", providersCmd(a, args[1:]))
	}
	cmd, rest, err := findCommand(args)
	if err != nil {
		fmt.Fprintf(stderr, "oauth2broker: %v\n\n", err)
		printUsage(stderr)
		return exitUsage
	}
	return exitCode(stderr, cmd.path, cmd.run(a, rest))
}

// usageError is a mistake on the command line; it exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode prints err, if any, and maps it to an exit code.
func exitCode(stderr io.Writer, what string, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "oauth2broker %s: %v (see oauth2broker %s -h)\n", what, err, what)
		return exitUsage
	}
	fmt.Fprintf(stderr, "oauth2broker %s: %v\n", what, err)
	return exitError
}
