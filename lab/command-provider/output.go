package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// loggingMode is the `logging` input: which streams go to the engine while the command runs
// (both are captured as outputs either way).
type loggingMode struct{ stdout, stderr bool }

func parseLogging(s *string) (loggingMode, error) {
	if s == nil {
		return loggingMode{true, true}, nil
	}
	switch *s {
	case "stdout":
		return loggingMode{true, false}, nil
	case "stderr":
		return loggingMode{false, true}, nil
	case "stdoutAndStderr":
		return loggingMode{true, true}, nil
	case "none":
		return loggingMode{false, false}, nil
	default:
		return loggingMode{}, fmt.Errorf("logging: expected one of stdout, stderr, stdoutAndStderr, none, got %q", *s)
	}
}

// capture collects a command's stdout and stderr apart, both together for the error text, and
// streams the lines of the logged streams to the engine as they come.
type capture struct {
	stdout, stderr bytes.Buffer
	combined       lockedBuffer
	lines          *io.PipeWriter
	done           chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newCapture(ctx context.Context, log logger, urn resource.URN) *capture {
	r, w := io.Pipe()
	c := &capture{lines: w, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		scanner := bufio.NewScanner(r)
		scanner.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for scanner.Scan() {
			log.status(ctx, urn, scanner.Text())
		}
		// A line too long to scan: keep draining so the command is never blocked on its output.
		_, _ = io.Copy(io.Discard, r)
	}()
	return c
}

// writers are what the command's stdout and stderr are connected to. The pipe is shared and
// synchronous, so a line reaches the engine before the next write of either stream.
func (c *capture) writers(mode loggingMode) (stdout, stderr io.Writer) {
	outs := []io.Writer{&c.stdout, &c.combined}
	errs := []io.Writer{&c.stderr, &c.combined}
	if mode.stdout {
		outs = append(outs, c.lines)
	}
	if mode.stderr {
		errs = append(errs, c.lines)
	}
	return io.MultiWriter(outs...), io.MultiWriter(errs...)
}

// finish waits for the last line to be posted; returns the outputs, one trailing newline dropped.
func (c *capture) finish() (stdout, stderr string) {
	_ = c.lines.Close()
	<-c.done
	return strings.TrimSuffix(c.stdout.String(), "\n"), strings.TrimSuffix(c.stderr.String(), "\n")
}
