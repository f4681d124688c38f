package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Property helpers: values arrive as a resource.PropertyMap whose values may be wrapped as
// secrets (kept: the engine must get them back as secrets) or unknown (only at preview).

// plain unwraps secrets.
func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// optional reads an optional input of one kind: nil when absent or null.
func optional[T any](m resource.PropertyMap, key, kind string,
	is func(resource.PropertyValue) bool, get func(resource.PropertyValue) T,
) (*T, error) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || plain(v).IsNull() {
		return nil, nil
	}
	v = plain(v)
	if !is(v) {
		return nil, fmt.Errorf("%s: expected %s, got %s", key, kind, v.TypeString())
	}
	out := get(v)
	return &out, nil
}

func str(m resource.PropertyMap, key string) (*string, error) {
	return optional(m, key, "a string", resource.PropertyValue.IsString, resource.PropertyValue.StringValue)
}

func num(m resource.PropertyMap, key string) (*float64, error) {
	return optional(m, key, "a number", resource.PropertyValue.IsNumber, resource.PropertyValue.NumberValue)
}

func boolean(m resource.PropertyMap, key string) (*bool, error) {
	return optional(m, key, "a boolean", resource.PropertyValue.IsBool, resource.PropertyValue.BoolValue)
}

// strMap reads an optional map of strings (environment).
func strMap(m resource.PropertyMap, key string) (map[string]string, error) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || plain(v).IsNull() {
		return nil, nil
	}
	v = plain(v)
	if !v.IsObject() {
		return nil, fmt.Errorf("%s: expected a map of strings, got %s", key, v.TypeString())
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		e = plain(e)
		if !e.IsString() {
			return nil, fmt.Errorf("%s.%s: expected a string, got %s", key, k, e.TypeString())
		}
		out[string(k)] = e.StringValue()
	}
	return out, nil
}

// strList reads an optional list of strings (interpreter).
func strList(m resource.PropertyMap, key string) ([]string, error) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || plain(v).IsNull() {
		return nil, nil
	}
	v = plain(v)
	if !v.IsArray() {
		return nil, fmt.Errorf("%s: expected a list of strings, got %s", key, v.TypeString())
	}
	var out []string
	for i, e := range v.ArrayValue() {
		e = plain(e)
		if !e.IsString() {
			return nil, fmt.Errorf("%s[%d]: expected a string, got %s", key, i, e.TypeString())
		}
		out = append(out, e.StringValue())
	}
	return out, nil
}

// object reads an optional object input (connection).
func object(m resource.PropertyMap, key string) (resource.PropertyMap, error) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || plain(v).IsNull() {
		return nil, nil
	}
	v = plain(v)
	if !v.IsObject() {
		return nil, fmt.Errorf("%s: expected an object, got %s", key, v.TypeString())
	}
	return v.ObjectValue(), nil
}

// withOutputs is the state of a run: its inputs, with stdout and stderr added.
func withOutputs(inputs resource.PropertyMap, stdout, stderr resource.PropertyValue) resource.PropertyMap {
	out := inputs.Copy()
	out["stdout"] = stdout
	out["stderr"] = stderr
	return out
}

// unknown is the value of an output that is known only once the command has run.
func unknown() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}
