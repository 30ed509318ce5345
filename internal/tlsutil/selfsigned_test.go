package tlsutil

import (
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfSignedHandshake(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := WriteSelfSigned(cf, kf, []string{"mail.example.test"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := WriteSelfSigned(cf, kf, []string{"x"}, time.Now()); err == nil {
		t.Error("overwrote an existing certificate")
	}
	srv, err := Load(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	leaf := srv.Certificates[0]
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.ConnectionState().PeerCertificates[0].Raw; string(got) != string(leaf.Certificate[0]) {
		t.Error("served certificate differs from the loaded one")
	}
	if names := c.ConnectionState().PeerCertificates[0].DNSNames; len(names) != 1 || names[0] != "mail.example.test" {
		t.Errorf("DNSNames = %v", names)
	}
}
