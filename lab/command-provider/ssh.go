package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// clientConfig is the SSH client configuration of a connection. A pinned host key is checked
// during the key exchange, before any authentication: a host that doesn't hold it never sees a
// credential.
func (c *connection) clientConfig() (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{
		User:    c.User,
		Timeout: time.Duration(c.PerDialTimeout) * time.Second,
	}
	if c.HostKey != nil {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.HostKey))
		if err != nil {
			// golang.org/x/crypto after v0.48 (the official provider's) appends why the last line
			// failed to parse; the message is kept as the official provider gives it.
			msg, _, _ := strings.Cut(err.Error(), "; last parsing error")
			return nil, fmt.Errorf("failed to parse host key: %s", msg)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(key)
		// Only the pinned key's algorithm: a server must not be let to offer another key.
		cfg.HostKeyAlgorithms = []string{key.Type()}
	} else {
		//nolint:gosec // the official provider accepts any host key when none is pinned
		cfg.HostKeyCallback = ssh.InsecureIgnoreHostKey()
	}
	if c.PrivateKey != nil {
		var signer ssh.Signer
		var err error
		if c.PrivateKeyPassword != nil {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*c.PrivateKey), []byte(*c.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*c.PrivateKey))
		}
		if err != nil {
			return nil, err
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.Password != nil {
		pw := *c.Password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	sock := c.AgentSocketPath
	if sock == nil {
		if env := os.Getenv("SSH_AUTH_SOCK"); env != "" {
			sock = &env
		}
	}
	if sock != nil {
		conn, err := net.Dial("unix", *sock)
		if err != nil {
			return nil, err
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return cfg, nil
}

// dial connects and authenticates, retrying every failed attempt (each a full dial) up to
// DialErrorLimit times, with the official provider's backoff and status messages.
func (c *connection) dial(ctx context.Context, log logger, urn resource.URN) (*ssh.Client, error) {
	cfg, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	endpoint := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	limit := "inf"
	if c.DialErrorLimit != -1 {
		limit = strconv.Itoa(c.DialErrorLimit)
	}
	ok, data, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			client, err := ssh.Dial("tcp", endpoint, cfg)
			if err == nil {
				return true, client, nil
			}
			dials := try + 1
			if c.DialErrorLimit > -1 && dials > c.DialErrorLimit {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, err)
			}
			log.status(ctx, urn, fmt.Sprintf("Dial %d/%s failed: retrying", dials, limit))
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return data.(*ssh.Client), nil
	}
	if err == nil {
		err = ctx.Err()
	}
	return nil, err
}
