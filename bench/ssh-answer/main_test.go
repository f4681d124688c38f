package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// The endpoint as the benchmark runs it: a client with the allowed key gets the answer after
// sending its stdin, and exit status 0; the host key it pins is the one written; another key is
// refused.
func TestAnswersEveryExecAndRefusesOtherKeys(t *testing.T) {
	dir := t.TempDir()
	signer := newSigner(t)
	answer := []byte("containerd-node-runtime containerd://2.2.9\nline two\n")
	addr := start(t, dir, signer, answer, "-hostkey-out", filepath.Join(dir, "hostkey"))
	hostText, err := os.ReadFile(filepath.Join(dir, "hostkey"))
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(hostText)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", addr, clientConfig(signer, hostKey))
	if err != nil {
		t.Fatalf("dial with the allowed key and the written host key: %v", err)
	}
	session, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	session.Stdin = bytes.NewReader(bytes.Repeat([]byte("#!/bin/bash\n"), 4000))
	got, err := session.Output("bash -s")
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	if !bytes.Equal(got, answer) {
		t.Fatalf("answer %q, want %q", got, answer)
	}
	client.Close()
	if _, err := ssh.Dial("tcp", addr, clientConfig(newSigner(t), hostKey)); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("another key: %v, want unable to authenticate", err)
	}
}

// With -hostkey the endpoint presents that key (a lab machine's own, to stand on its port).
func TestPresentsTheGivenHostKey(t *testing.T) {
	dir := t.TempDir()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(hostPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "host_key"), pem.EncodeToMemory(block))
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	signer := newSigner(t)
	addr := start(t, dir, signer, []byte("ok\n"), "-hostkey", filepath.Join(dir, "host_key"))
	client, err := ssh.Dial("tcp", addr, clientConfig(signer, hostSigner.PublicKey()))
	if err != nil {
		t.Fatalf("dial pinning the given host key: %v", err)
	}
	client.Close()
}

// start builds the endpoint into dir and runs it on a free port of 127.0.0.1 for `allowed`'s key
// with `answer` and the extra flags, until the test ends; returns its address once it listens.
func start(t *testing.T, dir string, allowed ssh.Signer, answer []byte, flags ...string) string {
	bin := filepath.Join(dir, "ssh-answer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	write(t, filepath.Join(dir, "key.pub"), ssh.MarshalAuthorizedKey(allowed.PublicKey()))
	write(t, filepath.Join(dir, "answer"), answer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"-listen", addr, "-authorized", filepath.Join(dir, "key.pub"), "-answer", filepath.Join(dir, "answer")}, flags...)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line := make([]byte, 10)
	if _, err := stdout.Read(line); err != nil || !strings.HasPrefix(string(line), "listening") {
		t.Fatalf("no listening line: %q %v", line, err)
	}
	return addr
}

func clientConfig(s ssh.Signer, hostKey ssh.PublicKey) *ssh.ClientConfig {
	return &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(s)}, HostKeyCallback: ssh.FixedHostKey(hostKey), Timeout: 10 * time.Second}
}

func newSigner(t *testing.T) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func write(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
