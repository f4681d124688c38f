package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

const testURN = resource.URN("urn:pulumi:test::proj::command:remote:Command::step")

// create runs a resource through Check and Create as the engine does at `pulumi up`.
func create(t *testing.T, p *provider, typ tokens.Type, inputs resource.PropertyMap) (plugin.CreateResponse, error) {
	t.Helper()
	checked, err := p.Check(context.Background(), plugin.CheckRequest{URN: testURN, Name: "step", Type: typ, News: inputs})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked.Failures) > 0 {
		t.Fatalf("check failures: %+v", checked.Failures)
	}
	return p.Create(context.Background(), plugin.CreateRequest{URN: testURN, Name: "step", Type: typ, Properties: checked.Properties})
}

func remote(conn resource.PropertyValue, cmd string, extra map[string]any) resource.PropertyMap {
	m := resource.NewPropertyMapFromMap(extra)
	m["connection"] = conn
	m["create"] = resource.NewStringProperty(cmd)
	return m
}

// outputs creates and returns stdout and stderr; a failure fails the test.
func outputs(t *testing.T, p *provider, typ tokens.Type, inputs resource.PropertyMap) (string, string) {
	t.Helper()
	resp, err := create(t, p, typ, inputs)
	if err != nil {
		t.Fatalf("create failed: %v", err)
	}
	return resp.Properties["stdout"].StringValue(), resp.Properties["stderr"].StringValue()
}

func TestKeyAuthCapturesStdoutAndStderrDroppingOneTrailingNewline(t *testing.T) {
	s := startSSHD(t)
	p := newProvider(&recorder{})
	out, errOut := outputs(t, p, remoteCommand, remote(s.conn(map[string]any{"privateKey": s.privateKey}),
		`printf 'out\n\n'; printf 'err\n' >&2; id -un`, nil))
	if out != "out\n\nroot" || errOut != "err" {
		t.Fatalf("stdout %q, stderr %q", out, errOut)
	}
	out, _ = outputs(t, p, remoteCommand, remote(s.conn(map[string]any{"privateKey": s.privateKey}),
		`printf 'a\n\n'`, nil))
	if out != "a\n" {
		t.Fatalf("only one trailing newline is dropped: got %q", out)
	}
}

func TestPasswordAuth(t *testing.T) {
	s := startSSHD(t)
	p := newProvider(&recorder{})
	out, _ := outputs(t, p, remoteCommand, remote(s.conn(map[string]any{"user": passwordUser, "password": s.password}),
		`id -un`, nil))
	if out != passwordUser {
		t.Fatalf("logged in as %q", out)
	}
	_, err := create(t, p, remoteCommand, remote(s.conn(map[string]any{"user": passwordUser, "password": "wrong", "dialErrorLimit": 0.0}),
		`id -un`, nil))
	if err == nil || !strings.Contains(err.Error(), "after 0 failed attempts: ssh: handshake failed: ssh: unable to authenticate") {
		t.Fatalf("a wrong password: %v", err)
	}
}

func TestAgentAuth(t *testing.T) {
	s := startSSHD(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("ssh-agent (Debian's openssh-client): %v", err)
	}
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	add := exec.Command("ssh-add", s.keyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	p := newProvider(&recorder{})
	out, _ := outputs(t, p, remoteCommand, remote(s.conn(map[string]any{"agentSocketPath": sock}), `echo via-agent`, nil))
	if out != "via-agent" {
		t.Fatalf("stdout %q", out)
	}
	// No key, no password, no agent: refused.
	_, err := create(t, p, remoteCommand, remote(s.conn(map[string]any{"dialErrorLimit": 0.0}), `echo no`, nil))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("no credentials: %v", err)
	}
}

func TestHostKeyMismatchIsRefusedBeforeAnyCredentialIsSent(t *testing.T) {
	s := startSSHD(t)
	_, otherKey := newKey(t)
	marker := filepath.Join(t.TempDir(), "ran")
	rec := &recorder{}
	p := newProvider(rec)
	before := strings.Count(s.log.String(), "\n")
	_, err := create(t, p, remoteCommand, remote(s.conn(map[string]any{
		"user": passwordUser, "password": s.password, "hostKey": otherKey, "dialErrorLimit": 1.0,
	}), "touch "+marker, nil))
	if err == nil || err.Error() != "after 1 failed attempts: ssh: handshake failed: ssh: host key mismatch" {
		t.Fatalf("error %v", err)
	}
	if _, statErr := os.Stat(marker); statErr == nil {
		t.Fatal("the command ran on a host whose key did not match")
	}
	// The server saw two connections and no authentication attempt on either.
	lines := strings.Split(s.log.String(), "\n")[before:]
	for _, l := range lines {
		if strings.Contains(l, "password") || strings.Contains(l, "Accepted") || strings.Contains(l, "Failed") {
			t.Fatalf("the server saw an authentication: %q\n%s", l, strings.Join(lines, "\n"))
		}
	}
	if got := rec.messages(); len(got) != 1 || got[0] != "Dial 1/1 failed: retrying" {
		t.Fatalf("status messages %q", got)
	}
	// A pinned key that is not a key at all fails at once.
	_, err = create(t, p, remoteCommand, remote(s.conn(map[string]any{"privateKey": s.privateKey, "hostKey": "not a key"}), "true", nil))
	if err == nil || err.Error() != "failed to parse host key: ssh: no key found" {
		t.Fatalf("malformed host key: %v", err)
	}
}

func TestExitCodeAndItsErrorText(t *testing.T) {
	s := startSSHD(t)
	p := newProvider(&recorder{})
	cmd := `echo partial; sleep 0.2; echo broken >&2; exit 3`
	_, err := create(t, p, remoteCommand, remote(s.conn(map[string]any{"privateKey": s.privateKey}), cmd, nil))
	want := "Process exited with status 3: running \"" + cmd + "\":\npartial\nbroken\n"
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestEnvironmentAndStdin(t *testing.T) {
	s := startSSHD(t)
	p := newProvider(&recorder{})
	key := map[string]any{"privateKey": s.privateKey}
	out, _ := outputs(t, p, remoteCommand, remote(s.conn(key), `echo "$CN_TEST_A"; cat`, map[string]any{
		"environment": map[string]any{"CN_TEST_A": "from-env"},
		"stdin":       "from-stdin\n",
	}))
	if out != "from-env\nfrom-stdin" {
		t.Fatalf("stdout %q", out)
	}
	// A variable the server does not accept fails the run, as with the official provider.
	_, err := create(t, p, remoteCommand, remote(s.conn(key), `true`, map[string]any{"environment": map[string]any{"OTHER": "x"}}))
	if err == nil || err.Error() != `could not set environment variable "OTHER": ssh: setenv failed` {
		t.Fatalf("error %v", err)
	}
}

func TestOutputIsStreamedLineByLineWhileTheCommandRuns(t *testing.T) {
	s := startSSHD(t)
	rec := &recorder{}
	p := newProvider(rec)
	outputs(t, p, remoteCommand, remote(s.conn(map[string]any{"privateKey": s.privateKey}),
		`echo one; sleep 1; echo two >&2; sleep 1; echo three`, nil))
	done := time.Now()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.lines) != 3 || rec.lines[0].msg != "one" || rec.lines[1].msg != "two" || rec.lines[2].msg != "three" {
		t.Fatalf("lines %+v", rec.lines)
	}
	if done.Sub(rec.lines[0].at) < 1500*time.Millisecond {
		t.Fatalf("the first line reached the engine %v before the end: not streamed", done.Sub(rec.lines[0].at))
	}
	if rec.lines[0].urn != testURN {
		t.Fatalf("posted on %q", rec.lines[0].urn)
	}
	// logging: none posts nothing and still captures.
	rec.lines = nil
	rec.mu.Unlock()
	out, _ := outputs(t, p, remoteCommand, remote(s.conn(map[string]any{"privateKey": s.privateKey}),
		`echo quiet`, map[string]any{"logging": "none"}))
	rec.mu.Lock()
	if out != "quiet" || len(rec.lines) != 0 {
		t.Fatalf("logging none: stdout %q, posted %+v", out, rec.lines)
	}
}

func TestDialRetriesFollowDialErrorLimit(t *testing.T) {
	port := freePort(t) // nothing listens there
	rec := &recorder{}
	p := newProvider(rec)
	conn := resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{
		"host": "127.0.0.1", "port": float64(port), "password": "x", "dialErrorLimit": 2.0,
	})))
	start := time.Now()
	_, err := create(t, p, remoteCommand, remote(conn, "true", nil))
	if err == nil || !strings.HasPrefix(err.Error(), "after 2 failed attempts: dial tcp 127.0.0.1:") ||
		!strings.HasSuffix(err.Error(), "connect: connection refused") {
		t.Fatalf("error %v", err)
	}
	if got := strings.Join(rec.messages(), "|"); got != "Dial 1/2 failed: retrying|Dial 2/2 failed: retrying" {
		t.Fatalf("status messages %q", got)
	}
	// Backoff from 100 ms, x1.5: two waits of about 0.1 and 0.15 s.
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Fatalf("three dials took %v", d)
	}
}
