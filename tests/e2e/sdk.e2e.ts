/**
 * End to end: SDKs of the provider plugin for other languages, made by the real CLI's
 * `pulumi package gen-sdk` from the installed plugin's schema. The Go SDK is compiled against the
 * Pulumi Go SDK the Go module proxy serves, with a small program using it (and a wrong one refused
 * by the compiler); the Python SDK is byte-compiled (no Pulumi Python SDK can be installed here to
 * run it). gen-sdk asks each language's host to generate: where the Go and Python hosts can't be
 * had, scripts/engine/build.sh builds a stand-in that runs the same code generators (lab/sdkgen).
 * .NET's generator is in neither: no .NET SDK is made here.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "./lab";

const ENGINE = path.join(process.env.CONTAINERD_NODE_CACHE ?? path.join(os.homedir(), ".cache", "containerd-node"), "engine");
const SDK_VERSION = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
/** The Go SDK's module path: the generator's default for a schema that names none. */
const GO_MODULE = "example.com/pulumi-containerd-node/sdk/go/containerd-node";

/** A Go program converting a fleet of two nodes, as a Go user would write it with the SDK. */
const MAIN_GO = (connection: string) => `package main

import (
	containerdnode "${GO_MODULE}"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		url, sha := "https://example.com/containerd-2.2.9-linux-amd64.tar.gz", "0cc009444ce1238949ef215de75aa598da19450f16d501580aaa9cf9224cffd8"
		mode := containerdnode.DockerModeDisable
		fleet, err := containerdnode.NewContainerdFleet(ctx, "fleet", &containerdnode.ContainerdFleetArgs{
			Nodes: []containerdnode.FleetNodeArgs{
				{Name: "node1", Connection: ${connection}},
			},
			Settings: containerdnode.FleetSettingsArgs{
				Containerd: containerdnode.ContainerdArgs{
					Version: "2.2.9",
					Source:  containerdnode.SourceArgs{Kind: containerdnode.SourceKindTarball, Url: &url, Sha256: &sha},
				},
				Docker: &containerdnode.DockerArgs{Mode: &mode},
			},
		})
		if err != nil {
			return err
		}
		ctx.Export("table", fleet.Table)
		ctx.Export("waves", fleet.Waves)
		return nil
	})
}
`;
const GOOD_CONNECTION = `containerdnode.NodeConnectionArgs{Host: pulumi.String("10.0.0.11"), PrivateKey: cfg.RequireSecret("sshKey")}`;
/** The port given as text: the SDK's types must refuse it. */
const BAD_CONNECTION = `containerdnode.NodeConnectionArgs{Host: pulumi.String("10.0.0.11"), Port: "22"}`;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; out: string } {
    const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env });
    return { status: r.status, out: r.stdout + r.stderr };
}

describe("e2e: SDKs of the provider plugin (pulumi package gen-sdk)", function () {
    this.timeout(10 * 60 * 1000);
    let work: string;
    const genSdk = (language: string) => {
        const env = { ...process.env, PATH: `${path.join(ENGINE, "sdkgen", "bin")}:${process.env.PATH}` };
        const r = run("pulumi", ["package", "gen-sdk", path.join(REPO, "provider", "schema.json"), "--language", language, "--out", path.join(work, "sdk")], work, env);
        assert.strictEqual(r.status, 0, r.out);
        return path.join(work, "sdk", language);
    };
    before(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-sdk-"));
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    it("Go: the SDK compiles against the served Pulumi Go SDK, and a program using it type-checks; a mistyped one does not", () => {
        const sdk = path.join(genSdk("go"), "containerdnode");
        for (const f of ["containerdNode.go", "containerdFleet.go", "pulumiTypes.go", "pulumiEnums.go"]) {
            assert.ok(fs.existsSync(path.join(sdk, f)), `${f} generated`);
        }
        // Every input's doc comment is the SDK's too.
        assert.match(fs.readFileSync(path.join(sdk, "pulumiTypes.go"), "utf8"), /\/\/ The node's public host key \(`ssh-ed25519 AAAA…`\), pinned/);
        fs.writeFileSync(path.join(sdk, "go.mod"), `module ${GO_MODULE}\n\ngo 1.25\n\nrequire github.com/pulumi/pulumi/sdk/v3 v${SDK_VERSION}\n`);
        const prog = path.join(work, "prog");
        fs.mkdirSync(prog);
        fs.writeFileSync(path.join(prog, "go.mod"), `module example.com/fleet\n\ngo 1.25\n\nrequire (\n\t${GO_MODULE} v0.0.0\n\tgithub.com/pulumi/pulumi/sdk/v3 v${SDK_VERSION}\n)\n\nreplace ${GO_MODULE} => ${sdk}\n`);
        fs.writeFileSync(path.join(prog, "main.go"), MAIN_GO(GOOD_CONNECTION));
        // -trimpath and the set-up's GOFLAGS (scripts/go-env.sh), as scripts/engine/build.sh builds the
        // CLI: its compiled Pulumi SDK packages are reused.
        const GOFLAGS = /^export GOFLAGS="([^"]*)"$/m.exec(fs.readFileSync(path.join(REPO, "scripts", "go-env.sh"), "utf8"))![1];
        const env = { ...process.env, GOFLAGS, CGO_ENABLED: "0" };
        const built = run("go", ["build", "-trimpath", "-o", path.join(work, "fleet"), "."], prog, env);
        assert.strictEqual(built.status, 0, `go build failed:\n${built.out}`);
        assert.ok(fs.existsSync(path.join(work, "fleet")));
        // It used the served SDK at the version the package's @pulumi/pulumi has.
        assert.match(execFileSync("go", ["list", "-m", "github.com/pulumi/pulumi/sdk/v3"], { cwd: prog, encoding: "utf8", env }), new RegExp(`v${SDK_VERSION.replace(/\./g, "\\.")}`));

        fs.writeFileSync(path.join(prog, "main.go"), MAIN_GO(BAD_CONNECTION));
        const bad = run("go", ["vet", "."], prog, env);
        assert.notStrictEqual(bad.status, 0, "go vet accepted a port given as text");
        assert.match(bad.out, /cannot use "22" \(untyped string constant\) as \*int value/);
    });

    it("Python: the SDK is generated with both components and byte-compiles", () => {
        const sdk = genSdk("python");
        const pkg = path.join(sdk, "pulumi_containerd_node");
        for (const f of ["containerd_node.py", "containerd_fleet.py", "_inputs.py", "outputs.py", "_enums.py"]) {
            assert.ok(fs.existsSync(path.join(pkg, f)), `${f} generated`);
        }
        assert.match(fs.readFileSync(path.join(pkg, "containerd_fleet.py"), "utf8"), /class ContainerdFleet\(pulumi\.ComponentResource\)/);
        const compiled = run("python3", ["-m", "compileall", "-q", pkg], sdk);
        assert.strictEqual(compiled.status, 0, compiled.out);
    });
});
