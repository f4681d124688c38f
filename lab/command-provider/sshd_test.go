package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
)

// A real OpenSSH server on 127.0.0.1, started by the test that needs it, with a host key and a
// client key of its own, key and password login, and AcceptEnv for CN_TEST_*.

const passwordUser = "cnode-sshtest"

type sshd struct {
	port       int
	hostKey    string // authorized_keys line of the server's host key
	privateKey string // PEM of a key the server accepts (any user)
	keyFile    string
	password   string // of passwordUser
	dir        string
	log        *lockedBuffer
}

func newKey(t *testing.T) (pemText string, authorized string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ensurePasswordUser makes the local user the password tests log in as, with a new random
// password each run. The tests run as root (as CI does): they start sshd and make a user.
func ensurePasswordUser(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("these tests start sshd and make the user %s: run them as root", passwordUser)
	}
	if err := exec.Command("id", passwordUser).Run(); err != nil {
		if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", passwordUser).CombinedOutput(); err != nil {
			t.Fatalf("useradd: %v: %s", err, out)
		}
	}
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	pw := hex.EncodeToString(b)
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(passwordUser + ":" + pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("usermod", "--lock", passwordUser).Run() })
	return pw
}

func startSSHD(t *testing.T) *sshd {
	t.Helper()
	bin, err := exec.LookPath("sshd")
	if err != nil {
		bin = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no sshd (Debian's openssh-server; lab/install-deps.sh installs it): %v", err)
	}
	s := &sshd{dir: t.TempDir(), port: freePort(t), password: ensurePasswordUser(t), log: &lockedBuffer{}}
	hostPEM, hostPub := newKey(t)
	s.hostKey = hostPub
	clientPEM, clientPub := newKey(t)
	s.privateKey = clientPEM
	s.keyFile = filepath.Join(s.dir, "id_ed25519")
	write := func(name, text string) string {
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("id_ed25519", clientPEM)
	cfg := write("sshd_config", fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AllowUsers root %s
AcceptEnv CN_TEST_*
PidFile none
LogLevel VERBOSE
Subsystem sftp internal-sftp
`, s.port, write("host_ed25519", hostPEM), write("authorized_keys", clientPub+"\n"), passwordUser))
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %d: %v\n%s", s.port, err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// conn is a connection input to this server (as the SDK sends it: one secret object).
func (s *sshd) conn(fields map[string]any) resource.PropertyValue {
	m := map[string]any{"host": "127.0.0.1", "port": float64(s.port), "hostKey": s.hostKey}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(m)))
}

// recorder is a logger that keeps what the provider posted, with when.
type recorder struct {
	mu    sync.Mutex
	lines []logged
}

type logged struct {
	urn resource.URN
	msg string
	at  time.Time
}

func (r *recorder) status(_ context.Context, urn resource.URN, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, logged{urn, msg, time.Now()})
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.lines {
		out = append(out, l.msg)
	}
	return out
}

func TestMain(m *testing.M) {
	// The agent is found through SSH_AUTH_SOCK when no agentSocketPath is given: only the agent
	// test sets one.
	os.Unsetenv("SSH_AUTH_SOCK")
	os.Exit(m.Run())
}
