package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// previous is what the last run of a resource printed, for PULUMI_COMMAND_STDOUT/STDERR.
type previous struct{ stdout, stderr string }

func previousOf(state resource.PropertyMap) previous {
	var p previous
	if s, _ := str(state, "stdout"); s != nil {
		p.stdout = *s
	}
	if s, _ := str(state, "stderr"); s != nil {
		p.stderr = *s
	}
	return p
}

// vars are the PULUMI_COMMAND_* variables of a run: only from non-empty previous outputs, so
// never on the first create.
func (p previous) vars() map[string]string {
	v := map[string]string{}
	if p.stdout != "" {
		v["PULUMI_COMMAND_STDOUT"] = p.stdout
	}
	if p.stderr != "" {
		v["PULUMI_COMMAND_STDERR"] = p.stderr
	}
	return v
}

// runOptions are the inputs both kinds of Command share beyond the command text.
type runOptions struct {
	stdin       *string
	logging     loggingMode
	environment map[string]string
	// addPrevious: the previous run's outputs go into the environment (unset means true).
	addPrevious bool
}

func decodeRunOptions(inputs resource.PropertyMap) (runOptions, error) {
	var o runOptions
	var err error
	if o.stdin, err = str(inputs, "stdin"); err != nil {
		return o, err
	}
	lg, err := str(inputs, "logging")
	if err != nil {
		return o, err
	}
	if o.logging, err = parseLogging(lg); err != nil {
		return o, err
	}
	if o.environment, err = strMap(inputs, "environment"); err != nil {
		return o, err
	}
	add, err := boolean(inputs, "addPreviousOutputInEnv")
	if err != nil {
		return o, err
	}
	o.addPrevious = add == nil || *add
	return o, nil
}

// runRemote runs cmd over SSH with one exec request and no PTY, as the official provider does.
func (p *provider) runRemote(ctx context.Context, urn resource.URN, inputs resource.PropertyMap,
	cmd string, prev previous,
) (string, string, error) {
	conn, err := decodeConnection(inputs)
	if err != nil {
		return "", "", err
	}
	opts, err := decodeRunOptions(inputs)
	if err != nil {
		return "", "", err
	}
	client, err := conn.dial(ctx, p.log, urn)
	if err != nil {
		return "", "", err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return "", "", err
	}
	defer session.Close()

	for k, v := range opts.environment {
		if err := session.Setenv(k, v); err != nil {
			return "", "", fmt.Errorf("could not set environment variable %q: %w", k, err)
		}
	}
	if opts.addPrevious {
		// Optimistic, as in the official provider: a server that refuses them still runs the command.
		for k, v := range prev.vars() {
			_ = session.Setenv(k, v)
		}
	}
	if opts.stdin != nil && len(*opts.stdin) > 0 {
		session.Stdin = strings.NewReader(*opts.stdin)
	}
	out := newCapture(ctx, p.log, urn)
	session.Stdout, session.Stderr = out.writers(opts.logging)
	err = session.Run(cmd)
	stdout, stderr := out.finish()
	if err != nil {
		return "", "", fmt.Errorf("%w: running %q:\n%s", err, cmd, out.combined.String())
	}
	return stdout, stderr, nil
}
