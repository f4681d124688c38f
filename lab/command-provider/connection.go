package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// The connection defaults the official provider fills in at Check (its schema's defaults).
var connectionDefaults = map[resource.PropertyKey]resource.PropertyValue{
	"user":           resource.NewStringProperty("root"),
	"port":           resource.NewNumberProperty(22),
	"dialErrorLimit": resource.NewNumberProperty(10),
	"perDialTimeout": resource.NewNumberProperty(15),
}

// connection is a decoded `connection` input.
type connection struct {
	Host               string
	Port               int
	User               string
	Password           *string
	PrivateKey         *string
	PrivateKeyPassword *string
	AgentSocketPath    *string
	// DialErrorLimit is how many failed dials are retried: 0 means one try, -1 retries until
	// cancelled.
	DialErrorLimit int
	// PerDialTimeout bounds the TCP connect of one dial, in seconds (0: no bound).
	PerDialTimeout int
	HostKey        *string
}

// checkConnection fills in the defaults of a `connection` value and lists what is wrong with it.
// The value keeps its secretness; unknown parts (at preview) are left as they are.
func checkConnection(v resource.PropertyValue) (resource.PropertyValue, []plugin.CheckFailure) {
	secret := v.IsSecret()
	inner := plain(v)
	if inner.ContainsUnknowns() && !inner.IsObject() {
		return v, nil
	}
	if !inner.IsObject() {
		return v, []plugin.CheckFailure{{Property: "connection", Reason: fmt.Sprintf("expected an object, got %s", inner.TypeString())}}
	}
	obj := inner.ObjectValue().Copy()
	var failures []plugin.CheckFailure
	if h, ok := obj["host"]; !ok || plain(h).IsNull() {
		failures = append(failures, plugin.CheckFailure{Property: "connection.host", Reason: "missing required property"})
	}
	if p, ok := obj["proxy"]; ok && !plain(p).IsNull() {
		// Nothing in this package connects through a bastion; say so rather than ignore it.
		failures = append(failures, plugin.CheckFailure{Property: "connection.proxy", Reason: notSupported})
	}
	for k, d := range connectionDefaults {
		if cur, ok := obj[k]; !ok || plain(cur).IsNull() {
			obj[k] = d
		}
	}
	out := resource.NewObjectProperty(obj)
	if secret {
		out = resource.MakeSecret(out)
	}
	return out, failures
}

// decodeConnection reads a checked `connection` (all known: called only to run a command).
func decodeConnection(m resource.PropertyMap) (*connection, error) {
	obj, err := object(m, "connection")
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("connection: missing required property")
	}
	c := &connection{User: "root", Port: 22, DialErrorLimit: 10, PerDialTimeout: 15}
	host, err := str(obj, "host")
	if err != nil || host == nil {
		return nil, fmt.Errorf("connection.host: missing required property")
	}
	c.Host = *host
	if u, err := str(obj, "user"); err != nil {
		return nil, fmt.Errorf("connection.%w", err)
	} else if u != nil {
		c.User = *u
	}
	for key, dst := range map[string]*int{"port": &c.Port, "dialErrorLimit": &c.DialErrorLimit, "perDialTimeout": &c.PerDialTimeout} {
		n, err := num(obj, key)
		if err != nil {
			return nil, fmt.Errorf("connection.%w", err)
		}
		if n != nil {
			*dst = int(*n)
		}
	}
	for key, dst := range map[string]**string{"password": &c.Password, "privateKey": &c.PrivateKey,
		"privateKeyPassword": &c.PrivateKeyPassword, "agentSocketPath": &c.AgentSocketPath, "hostKey": &c.HostKey} {
		s, err := str(obj, key)
		if err != nil {
			return nil, fmt.Errorf("connection.%w", err)
		}
		*dst = s
	}
	return c, nil
}
