package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// runLocal runs cmd on this machine through the interpreter (default /bin/sh -c), in `dir`
// (default the provider's working directory), with the provider's environment, then
// `environment`, then the previous outputs. A cancelled run is killed.
func (p *provider) runLocal(ctx context.Context, urn resource.URN, inputs resource.PropertyMap,
	cmd string, prev previous,
) (string, string, error) {
	opts, err := decodeRunOptions(inputs)
	if err != nil {
		return "", "", err
	}
	interp, err := strList(inputs, "interpreter")
	if err != nil {
		return "", "", err
	}
	if len(interp) == 0 {
		interp = []string{"/bin/sh", "-c"}
	}
	dir, err := str(inputs, "dir")
	if err != nil {
		return "", "", err
	}
	args := append(append([]string{}, interp...), cmd)
	//nolint:gosec // running the user's command is this provider's job
	c := exec.CommandContext(ctx, args[0], args[1:]...)
	if dir != nil {
		c.Dir = *dir
	} else if c.Dir, err = os.Getwd(); err != nil {
		return "", "", err
	}
	c.Env = os.Environ()
	for k, v := range opts.environment {
		c.Env = append(c.Env, k+"="+v)
	}
	if opts.addPrevious {
		for k, v := range prev.vars() {
			c.Env = append(c.Env, k+"="+v)
		}
	}
	if opts.stdin != nil && len(*opts.stdin) > 0 {
		c.Stdin = strings.NewReader(*opts.stdin)
	}
	out := newCapture(ctx, p.log, urn)
	c.Stdout, c.Stderr = out.writers(opts.logging)
	err = c.Run()
	stdout, stderr := out.finish()
	if err != nil {
		return "", "", fmt.Errorf("%w: running %q:\n%s", err, cmd, out.combined.String())
	}
	return stdout, stderr, nil
}
