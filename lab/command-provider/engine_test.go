package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Through the real engine: the stand-in built and installed as the `command` 1.2.1 plugin of a
// Pulumi home of the test's own, and a small program whose resources go through create, update,
// replace by trigger and delete against the test's sshd.

type commandResource struct {
	pulumi.CustomResourceState
	Stdout pulumi.StringOutput `pulumi:"stdout"`
}

type stage struct {
	text, trigger string
}

func program(s *sshd, dir string, st *stage) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		conn := pulumi.ToSecret(pulumi.Map{
			"host": pulumi.String("127.0.0.1"), "port": pulumi.Float64(float64(s.port)),
			"privateKey": pulumi.String(s.privateKey), "hostKey": pulumi.String(s.hostKey),
		})
		opts := []pulumi.ResourceOption{pulumi.Version(Version), pulumi.ReplaceOnChanges([]string{"triggers[*]"})}
		var step commandResource
		if err := ctx.RegisterResource(string(remoteCommand), "step", pulumi.Map{
			"connection": conn,
			"create":     pulumi.String("echo " + st.text + " > " + dir + "/marker; echo out-" + st.text),
			"delete":     pulumi.String("echo deleted >> " + dir + "/deleted"),
			"triggers":   pulumi.Array{pulumi.String(st.trigger)},
		}, &step, append(opts, pulumi.AdditionalSecretOutputs([]string{"connection"}))...); err != nil {
			return err
		}
		var copied pulumi.CustomResourceState
		if err := ctx.RegisterResource(string(copyToRemote), "copy", pulumi.Map{
			"connection": conn,
			"source":     pulumi.NewStringAsset("copied\n"),
			"remotePath": pulumi.String(dir + "/copied.txt"),
		}, &copied, opts...); err != nil {
			return err
		}
		var local commandResource
		if err := ctx.RegisterResource(string(localCommand), "local", pulumi.Map{
			"create": pulumi.String("echo local-" + st.text),
		}, &local, opts...); err != nil {
			return err
		}
		var ran struct {
			Stdout string `pulumi:"stdout"`
		}
		if err := ctx.Invoke(localRun, map[string]any{"command": "echo invoked"}, &ran, pulumi.Version(Version)); err != nil {
			return err
		}
		ctx.Export("step", step.Stdout)
		ctx.Export("local", local.Stdout)
		ctx.Export("invoked", pulumi.String(ran.Stdout))
		return nil
	}
}

func TestThroughTheEngine(t *testing.T) {
	pulumiCLI, err := exec.LookPath("pulumi")
	if err != nil {
		t.Fatal("no pulumi CLI on PATH: run `bash scripts/engine/build.sh` and `source scripts/engine/env.sh` first")
	}
	s := startSSHD(t)
	work := t.TempDir()
	bin := filepath.Join(work, "pulumi-resource-command")
	// -trimpath, as scripts/engine/build.sh builds it: under tests/run.sh (the same GOFLAGS), its compiled packages are reused.
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(work, "home")
	install := exec.Command(pulumiCLI, "plugin", "install", "resource", "command", Version, "-f", bin)
	install.Env = append(os.Environ(), "PULUMI_HOME="+home)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("plugin install: %v\n%s", err, out)
	}
	dir := filepath.Join(work, "node")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st := &stage{text: "v1", trigger: "t1"}
	ctx := context.Background()
	backend := "file://" + filepath.Join(work, "state")
	_ = os.MkdirAll(filepath.Join(work, "state"), 0o755)
	stack, err := auto.UpsertStackInlineSource(ctx, "test", "standin", program(s, dir, st),
		auto.WorkDir(work), auto.PulumiHome(home),
		auto.Project(workspace.Project{Name: "standin", Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: backend}}),
		auto.EnvVars(map[string]string{"PULUMI_CONFIG_PASSPHRASE": "test", "PULUMI_SKIP_UPDATE_CHECK": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	up := func(what string) auto.UpResult {
		t.Helper()
		var log strings.Builder
		res, err := stack.Up(ctx, optup.ProgressStreams(&log))
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, log.String())
		}
		return res
	}
	changes := func(res auto.UpResult) map[string]int { return *res.Summary.ResourceChanges }

	// Preview: nothing runs on the node.
	pre, err := stack.Preview(ctx, optpreview.Diff())
	if err != nil {
		t.Fatal(err)
	}
	if pre.ChangeSummary["create"] != 4 || read("marker") != "" || read("copied.txt") != "" {
		t.Fatalf("preview: %v, marker %q", pre.ChangeSummary, read("marker"))
	}

	res := up("create")
	if c := changes(res); c["create"] != 4 || read("marker") != "v1\n" || read("copied.txt") != "copied\n" {
		t.Fatalf("create: %v, marker %q", c, read("marker"))
	}
	if res.Outputs["step"].Value != "out-v1" || res.Outputs["local"].Value != "local-v1" || res.Outputs["invoked"].Value != "invoked" {
		t.Fatalf("outputs %v", res.Outputs)
	}
	// Secrets stay secrets: the checkpoint on disk holds the connection only as ciphertext.
	checkpoint, err := os.ReadFile(filepath.Join(work, "state", ".pulumi", "stacks", "standin", "test.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(checkpoint), "PRIVATE KEY") || !strings.Contains(string(checkpoint), "ciphertext") {
		t.Fatalf("the private key is not kept as a secret:\n%s", checkpoint)
	}
	if c := changes(up("no change")); c["same"] != 4 || len(c) != 1 {
		t.Fatalf("second up: %v", c)
	}

	st.text = "v2"
	if c := changes(up("update")); c["update"] != 2 || c["replace"] != 0 || read("marker") != "v2\n" || read("deleted") != "" {
		t.Fatalf("update: %v, marker %q, deleted %q", c, read("marker"), read("deleted"))
	}

	st.trigger = "t2"
	if c := changes(up("replace")); c["replace"] != 1 || read("deleted") != "deleted\n" || read("marker") != "v2\n" {
		t.Fatalf("replace: %v, deleted %q", c, read("deleted"))
	}

	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(&strings.Builder{})); err != nil {
		t.Fatal(err)
	}
	if read("deleted") != "deleted\ndeleted\n" || read("copied.txt") != "copied\n" {
		t.Fatalf("destroy: deleted %q, copied %q", read("deleted"), read("copied.txt"))
	}
}
