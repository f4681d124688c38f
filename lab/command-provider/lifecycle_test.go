package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

func TestCheckFillsInTheConnectionDefaultsAndKeepsItSecret(t *testing.T) {
	p := newProvider(&recorder{})
	conn := resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{
		"host": "10.0.0.1", "privateKey": "KEY", "port": 2222.0,
	})))
	resp, err := p.Check(context.Background(), plugin.CheckRequest{Type: remoteCommand, News: resource.PropertyMap{"connection": conn, "create": resource.NewStringProperty("x")}})
	if err != nil || len(resp.Failures) > 0 {
		t.Fatalf("%v %+v", err, resp.Failures)
	}
	got := resp.Properties["connection"]
	if !got.IsSecret() {
		t.Fatal("the connection came back not secret")
	}
	c := got.SecretValue().Element.ObjectValue()
	want := map[string]any{"host": "10.0.0.1", "privateKey": "KEY", "port": 2222.0, "user": "root", "dialErrorLimit": 10.0, "perDialTimeout": 15.0}
	if !resource.NewPropertyMapFromMap(want).DeepEquals(c) {
		t.Fatalf("connection %v", c)
	}
	resp, _ = p.Check(context.Background(), plugin.CheckRequest{Type: remoteCommand, News: resource.PropertyMap{
		"connection": resource.NewObjectProperty(resource.PropertyMap{"proxy": resource.NewObjectProperty(resource.PropertyMap{})}),
	}})
	var props []string
	for _, f := range resp.Failures {
		props = append(props, string(f.Property))
	}
	if strings.Join(props, ",") != "connection.host,connection.proxy" {
		t.Fatalf("failures %+v", resp.Failures)
	}
}

func TestDiffReplacesOnTriggersAndUpdatesOnAnythingElse(t *testing.T) {
	p := newProvider(&recorder{})
	base := func(create string, triggers ...any) resource.PropertyMap {
		m := resource.NewPropertyMapFromMap(map[string]any{"create": create, "triggers": triggers})
		m["connection"] = resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"host": "h"})))
		return m
	}
	diff := func(olds, news resource.PropertyMap) plugin.DiffResult {
		d, err := p.Diff(context.Background(), plugin.DiffRequest{OldInputs: olds, NewInputs: news})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := diff(base("a", "1"), base("a", "1")); d.Changes != plugin.DiffNone {
		t.Fatalf("no change: %+v", d)
	}
	d := diff(base("a", "1"), base("b", "1"))
	if d.Changes != plugin.DiffSome || d.DetailedDiff["create"].Kind != plugin.DiffUpdate || len(d.DetailedDiff) != 1 {
		t.Fatalf("create changed: %+v", d)
	}
	d = diff(base("a", "1"), base("a", "2"))
	if d.Changes != plugin.DiffSome || d.DetailedDiff["triggers[0]"].Kind != plugin.DiffUpdateReplace {
		t.Fatalf("triggers changed: %+v", d)
	}
	// The engine's own keys are not the resource's: no diff.
	withVersion := base("a", "1")
	withVersion["__defaults"] = resource.NewArrayProperty(nil)
	if d := diff(base("a", "1"), withVersion); d.Changes != plugin.DiffNone {
		t.Fatalf("internal key: %+v", d)
	}
}

func TestLocalCommandLifecycle(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	p := newProvider(&recorder{})
	inputs := resource.NewPropertyMapFromMap(map[string]any{
		"create":      `echo "create $CN_X" >> log; echo made`,
		"update":      `echo "update prev=$PULUMI_COMMAND_STDOUT" >> log; echo updated`,
		"delete":      `echo "delete prev=$PULUMI_COMMAND_STDOUT" >> log`,
		"dir":         dir,
		"environment": map[string]any{"CN_X": "x1"},
	})
	ctx := context.Background()
	// Preview: nothing runs, the outputs are unknown.
	pre, err := p.Create(ctx, plugin.CreateRequest{URN: testURN, Name: "l", Type: localCommand, Properties: inputs, Preview: true})
	if err != nil || !pre.Properties["stdout"].IsComputed() {
		t.Fatalf("preview: %v %v", err, pre.Properties)
	}
	if _, err := os.Stat(log); err == nil {
		t.Fatal("the command ran at preview")
	}
	created, err := p.Create(ctx, plugin.CreateRequest{URN: testURN, Name: "l", Type: localCommand, Properties: inputs})
	if err != nil || created.Properties["stdout"].StringValue() != "made" || !strings.HasPrefix(string(created.ID), "l") || len(created.ID) != 9 {
		t.Fatalf("create: %v %v %q", err, created.Properties, created.ID)
	}
	news := inputs.Copy()
	news["environment"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"CN_X": "x2"}))
	upd, err := p.Update(ctx, plugin.UpdateRequest{URN: testURN, Type: localCommand, OldInputs: inputs, OldOutputs: created.Properties, NewInputs: news})
	if err != nil || upd.Properties["stdout"].StringValue() != "updated" {
		t.Fatalf("update: %v %v", err, upd.Properties)
	}
	if _, err := p.Delete(ctx, plugin.DeleteRequest{URN: testURN, Type: localCommand, Outputs: upd.Properties}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	if string(b) != "create x1\nupdate prev=made\ndelete prev=updated\n" {
		t.Fatalf("log %q", b)
	}
	// A failure: the official provider's text, and no state.
	inputs["create"] = resource.NewStringProperty("echo oops; exit 4")
	_, err = p.Create(ctx, plugin.CreateRequest{URN: testURN, Name: "l", Type: localCommand, Properties: inputs})
	if err == nil || err.Error() != "exit status 4: running \"echo oops; exit 4\":\noops\n" {
		t.Fatalf("error %v", err)
	}
	// The interpreter gets the command as its last argument.
	inputs["create"] = resource.NewStringProperty("print('py' if False else 'bash')")
	inputs["interpreter"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("/bin/echo"), resource.NewStringProperty("-n")})
	out, _ := outputs(t, p, localCommand, inputs)
	if out != "print('py' if False else 'bash')" {
		t.Fatalf("interpreter: %q", out)
	}
}

func TestLocalRunInvoke(t *testing.T) {
	p := newProvider(&recorder{})
	resp, err := p.Invoke(context.Background(), plugin.InvokeRequest{Tok: localRun, Args: resource.NewPropertyMapFromMap(map[string]any{
		"command": `echo "$CN_Y"; echo e >&2`, "environment": map[string]any{"CN_Y": "y"},
	}), Preview: true})
	if err != nil || resp.Properties["stdout"].StringValue() != "y" || resp.Properties["stderr"].StringValue() != "e" {
		t.Fatalf("%v %v", err, resp.Properties)
	}
}

func TestCopyToRemoteOfAFileAndAStringAsset(t *testing.T) {
	s := startSSHD(t)
	p := newProvider(&recorder{})
	src := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(src, []byte("file-bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileAsset, err := resource.NewPathAsset(src)
	if err != nil {
		t.Fatal(err)
	}
	textAsset, err := resource.NewTextAsset("text-bytes\n")
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir() // the server is this machine: its paths are ours
	cases := []struct {
		name   string
		source resource.PropertyValue
		remote string
		lands  string
		want   string
	}{
		{"file into an existing directory", resource.NewAssetProperty(fileAsset), dest, filepath.Join(dest, "payload.bin"), "file-bytes"},
		{"file to a new path, parents made", resource.NewAssetProperty(fileAsset), filepath.Join(dest, "a/b/c.bin"), filepath.Join(dest, "a/b/c.bin"), "file-bytes"},
		{"string asset", resource.NewAssetProperty(textAsset), filepath.Join(dest, "t/x.txt"), filepath.Join(dest, "t/x.txt"), "text-bytes\n"},
	}
	for _, c := range cases {
		inputs := resource.PropertyMap{"connection": s.conn(map[string]any{"privateKey": s.privateKey}),
			"source": c.source, "remotePath": resource.NewStringProperty(c.remote)}
		resp, err := create(t, p, copyToRemote, inputs)
		if err != nil || len(resp.ID) != 8 {
			t.Fatalf("%s: %v (id %q)", c.name, err, resp.ID)
		}
		b, err := os.ReadFile(c.lands)
		if err != nil || string(b) != c.want {
			t.Fatalf("%s: %q %v", c.name, b, err)
		}
	}
	// Update copies again only when the source or the path changed.
	inputs := resource.PropertyMap{"connection": s.conn(map[string]any{"privateKey": s.privateKey}),
		"source": resource.NewAssetProperty(textAsset), "remotePath": resource.NewStringProperty(filepath.Join(dest, "t/x.txt"))}
	if err := os.WriteFile(filepath.Join(dest, "t/x.txt"), []byte("changed on the node"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Update(context.Background(), plugin.UpdateRequest{Type: copyToRemote, OldOutputs: inputs, NewInputs: inputs}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "t/x.txt")); string(b) != "changed on the node" {
		t.Fatalf("copied although nothing changed: %q", b)
	}
	news := inputs.Copy()
	news["remotePath"] = resource.NewStringProperty(filepath.Join(dest, "t/y.txt"))
	if _, err := p.Update(context.Background(), plugin.UpdateRequest{Type: copyToRemote, OldOutputs: inputs, NewInputs: news}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "t/y.txt")); string(b) != "text-bytes\n" {
		t.Fatalf("new path: %q", b)
	}
}
