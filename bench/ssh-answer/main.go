// Command ssh-answer is the scale benchmark's answering SSH endpoint: a real SSH server (key
// exchange, host key, public-key authentication) that answers every `exec` with the same
// recorded output, after reading the client's standard input to its end. It stands in for the
// nodes' side of a fleet's facts reads, so that what a preview with the reads costs the program
// and the engine can be measured apart from the cost of each read on the nodes (an OpenSSH
// login and the reader's run, which on a real fleet happen on the nodes, and in the lab on the
// same cores as the program).
//
//	ssh-answer -listen 127.0.0.1:PORT -authorized KEY.pub -answer STDOUT_FILE [-hostkey KEY] [-hostkey-out FILE]
//
// Prints "listening" once it accepts connections. Its host key is -hostkey (an OpenSSH private
// key: a lab machine's own, to stand on that machine's port in its place) or one made at start
// (ed25519), written to -hostkey-out in authorized_keys form, for the clients to pin.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2299", "address to listen on")
	authorized := flag.String("authorized", "", "the one public key (authorized_keys form) allowed to log in")
	answerFile := flag.String("answer", "", "what every exec prints on its stdout")
	hostKeyFile := flag.String("hostkey", "", "the host key (an OpenSSH private key); default: one made at start")
	hostKeyOut := flag.String("hostkey-out", "", "where to write the host key's public half")
	flag.Parse()

	allowedText, err := os.ReadFile(*authorized)
	if err != nil {
		log.Fatal(err)
	}
	allowed, _, _, _, err := ssh.ParseAuthorizedKey(allowedText)
	if err != nil {
		log.Fatalf("%s: %v", *authorized, err)
	}
	answer, err := os.ReadFile(*answerFile)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := hostKey(*hostKeyFile)
	if err != nil {
		log.Fatal(err)
	}
	if *hostKeyOut != "" {
		if err := os.WriteFile(*hostKeyOut, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), allowed.Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("key not allowed")
		},
	}
	config.AddHostKey(signer)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening")
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(conn, config, answer)
	}
}

// hostKey reads the host key from file, or makes an ed25519 one when file is "".
func hostKey(file string) (ssh.Signer, error) {
	if file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return ssh.ParsePrivateKey(pem)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

// serve runs one connection: each session's exec reads its stdin to the end, prints the answer
// and exits 0.
func serve(conn net.Conn, config *ssh.ServerConfig, answer []byte) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range requests {
				if req.Type != "exec" {
					_ = req.Reply(false, nil)
					continue
				}
				_ = req.Reply(true, nil)
				_, _ = io.Copy(io.Discard, ch)
				_, _ = ch.Write(answer)
				status := make([]byte, 4)
				binary.BigEndian.PutUint32(status, 0)
				_, _ = ch.SendRequest("exit-status", false, status)
				return
			}
		}()
	}
}
