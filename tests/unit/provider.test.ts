import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { resolveSpec } from "../../components/spec";
import { ContainerdFleetInputs, ContainerdNodeInputs } from "../../provider/args";
import { countOrPercent, fleetArgs, nodeArgs } from "../../provider/convert";
import { INTEGER_PROPERTIES, ROOT, SCHEMA_FILE, schemaTypeName, SECRET_PROPERTIES } from "../../scripts/schema";

const schema = () => JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8"));
const SHA = "a".repeat(64);

function nodeInputs(over: Partial<ContainerdNodeInputs> = {}): ContainerdNodeInputs {
    return {
        connection: { host: "10.0.0.11", privateKey: "key" },
        containerd: { version: "2.2.9", source: { kind: "tarball", url: "https://example.com/containerd-2.2.9-linux-amd64.tar.gz", sha256: SHA } },
        ...over,
    };
}

describe("provider: the schema (provider/schema.json)", () => {
    it("is what provider/ declares: ts-node scripts/schema.ts --check passes", function () {
        this.timeout(120000);
        const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "ts-node"), ["scripts/schema.ts", "--check"],
            { cwd: ROOT, encoding: "utf8", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } });
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    });

    it("serves ContainerdNode and ContainerdFleet as components, under the package's name and version", () => {
        const s = schema();
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.strictEqual(s.name, "containerd-node");
        assert.strictEqual(s.version, pkg.version);
        assert.deepStrictEqual(Object.keys(s.resources).sort(), ["containerd-node:index:ContainerdFleet", "containerd-node:index:ContainerdNode"]);
        for (const r of Object.values<any>(s.resources)) {
            assert.strictEqual(r.isComponent, true);
        }
        assert.deepStrictEqual(s.resources["containerd-node:index:ContainerdNode"].requiredInputs, ["connection", "containerd"]);
        assert.deepStrictEqual(s.resources["containerd-node:index:ContainerdFleet"].requiredInputs, ["settings"]);
    });

    it("every input and output, of the components and of every type, has its doc comment; every enum value too", () => {
        const s = schema();
        const missing: string[] = [];
        const check = (where: string, props: { [k: string]: any } | undefined) => {
            for (const [k, p] of Object.entries(props ?? {})) {
                if (!p.description) {
                    missing.push(`${where}.${k}`);
                }
            }
        };
        for (const [name, r] of Object.entries<any>(s.resources)) {
            check(`${name} input`, r.inputProperties);
            check(`${name} output`, r.properties);
            assert.ok(r.description, `${name} has a description`);
        }
        for (const [name, t] of Object.entries<any>(s.types)) {
            check(name, t.properties);
            for (const e of t.enum ?? []) {
                if (!e.description) {
                    missing.push(`${name} value ${e.value}`);
                }
            }
        }
        assert.deepStrictEqual(missing, []);
    });

    it("no description is a doc comment's {@link} as the analyzer renders it ([object Object])", () => {
        const broken: string[] = [];
        const walk = (at: string, v: any) => {
            if (v && typeof v === "object") {
                for (const [k, x] of Object.entries(v)) {
                    if (k === "description" && typeof x === "string" && x.includes("[object Object]")) {
                        broken.push(at);
                    }
                    walk(`${at}/${k}`, x);
                }
            }
        };
        walk("", schema());
        assert.deepStrictEqual(broken, []);
    });

    it("names the enums of the TypeScript args, with their values", () => {
        const values = (t: string) => schema().types[`containerd-node:index:${t}`].enum.map((e: any) => e.value);
        assert.deepStrictEqual(values("DockerMode"), ["keep", "stop", "disable", "purge"]);
        assert.deepStrictEqual(values("KubeletFlagsLocation"), ["auto", "kubeadm-flags", "default", "sysconfig", "config"]);
        assert.deepStrictEqual(values("UpgradeDrainPolicy"), ["major", "always", "never"]);
        assert.deepStrictEqual(values("SourceKind"), ["tarball", "file", "package", "docker"]);
        assert.deepStrictEqual(values("ControlPlaneOrder"), ["first", "last"]);
        assert.deepStrictEqual(values("NodeAddressType"), ["InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS"]);
    });

    it("marks every credential secret, and nothing else", () => {
        const s = schema();
        const secret: string[] = [];
        for (const [name, t] of Object.entries<any>(s.types)) {
            for (const [k, p] of Object.entries<any>(t.properties ?? {})) {
                if (p.secret) {
                    secret.push(`${name.split(":")[2]}.${k}`);
                }
            }
        }
        const expected = Object.entries(SECRET_PROPERTIES).flatMap(([t, ps]) => ps.map(p => `${schemaTypeName(t)}.${p}`));
        assert.deepStrictEqual(secret.sort(), expected.sort());
        assert.ok(expected.includes("NodeConnection.privateKey") && expected.includes("RegistryAuth.password"));
    });

    it("types as integer the numbers the components take only whole; the others stay number", () => {
        const s = schema();
        const ints: string[] = [];
        const numbers: string[] = [];
        const collect = (where: string, props: { [k: string]: any } | undefined) => {
            for (const [k, p] of Object.entries(props ?? {})) {
                (p.type === "integer" ? ints : p.type === "number" ? numbers : []).push(`${where}.${k}`);
            }
        };
        for (const [name, t] of Object.entries<any>(s.types)) {
            collect(name.split(":")[2], t.properties);
        }
        for (const [name, r] of Object.entries<any>(s.resources)) {
            collect(name.split(":")[2], r.inputProperties);
        }
        const expected = Object.entries(INTEGER_PROPERTIES).flatMap(([t, ps]) => ps.map(p => `${schemaTypeName(t)}.${p}`));
        assert.deepStrictEqual(ints.sort(), expected.sort());
        assert.ok(ints.includes("NodeConnection.port"));
        assert.deepStrictEqual(numbers.sort(), ["FleetNode.order", "HealthGate.pauseSecondsBetweenWaves", "HealthGate.timeoutSeconds",
            "StepDurations.drain", "StepDurations.switch", "StepDurations.verify"]);
    });

    it("names the types without the TypeScript suffixes (the SDKs add their own), every reference resolving", () => {
        const s = schema();
        const names = Object.keys(s.types).map(t => t.split(":")[2]);
        assert.deepStrictEqual(names.filter(n => /(Args|Inputs|Outputs)$/.test(n)), []);
        for (const n of ["NodeConnection", "ContainerdConfig", "Source", "FleetSettings", "FleetSettingsOverrides", "FleetRow"]) {
            assert.ok(names.includes(n), `${n} is a type`);
        }
        const refs = [...JSON.stringify(s).matchAll(/"#\/types\/([^"]+)"/g)].map(m => m[1]);
        assert.ok(refs.length > 20);
        assert.deepStrictEqual(refs.filter(r => !(r in s.types)), [], "every $ref names a type of the schema");
    });
});

/**
 * The doc comment of each field of each interface in a file, wrapping aside (whitespace folded
 * to one space): interface → field → comment ("" for none). A field's own object type
 * (ContainerdNodeArgs' `containerd: { … }`) is an interface named `Interface.field`.
 */
function fieldDocs(file: string): Map<string, Map<string, string>> {
    const sf = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
    const interfaces = new Map<string, Map<string, string>>();
    const read = (name: string, members: ts.NodeArray<ts.TypeElement>) => {
        const docs = new Map<string, string>();
        for (const m of members) {
            if (ts.isPropertySignature(m) && ts.isIdentifier(m.name)) {
                docs.set(m.name.text, ts.getJSDocCommentsAndTags(m).filter(ts.isJSDoc)
                    .map(d => d.getText(sf).replace(/^\/\*\*/, "").replace(/\*\/$/, "").replace(/^\s*\* ?/gm, "").replace(/\s+/g, " ").trim()).join(" "));
                if (m.type && ts.isTypeLiteralNode(m.type) && m.type.members.some(ts.isPropertySignature)) {
                    read(`${name}.${m.name.text}`, m.type.members);
                }
            }
        }
        interfaces.set(name, docs);
    };
    for (const st of sf.statements) {
        if (ts.isInterfaceDeclaration(st)) {
            read(st.name.text, st.members);
        }
    }
    return interfaces;
}

describe("provider: the doc comments it repeats (provider/args.ts, components/args.ts)", () => {
    /** Each interface of provider/args.ts that repeats one of components/args.ts, with it. */
    const MIRRORS: { [provider: string]: string } = {
        ContainerdInputs: "ContainerdNodeArgs.containerd",
        BuildkitInputs: "BuildkitArgs",
        CrictlInputs: "CrictlArgs",
        ToolsInputs: "ToolsArgs",
        RuntimeHandlerInputs: "RuntimeHandlerArgs",
        ConfigInputs: "ContainerdConfigArgs",
        KubernetesInputs: "KubernetesArgs",
        FleetSettingsInputs: "ContainerdNodeArgs",
        ContainerdNodeInputs: "ContainerdNodeArgs",
        DiscoveredConnectionInputs: "NodeConnectionArgs",
    };
    /** The provider's interfaces that repeat none of components/args.ts, and why. */
    const OWN: { [provider: string]: string } = {
        SourceInputs: "containerd.source's union (TarballSource, FileSource, …) as one object: each field names the kinds it is for",
        ArtifactInputs: "ArtifactSource's union ({ url, sha256 } or { path, sha256 }) as one object: url and path each say one of them is given",
        FleetNodeInputs: "the fleet's (components/fleet)",
        DiscoverInputs: "the fleet's (components/fleet)",
        FleetKubernetesInputs: "the fleet's (components/fleet)",
        ContainerdFleetInputs: "the fleet's (components/fleet)",
        StepDurationsOutputs: "the fleet's (components/fleet)",
        FleetRowOutputs: "the fleet's (components/fleet)",
    };
    /** Fields of one name whose types differ, so their comments do too. */
    const DIFFERENT = {
        "KubernetesInputs.kubeconfig": "a path only (kubeconfigContent is the content); the component's is a path or { content }",
    };
    const provider = fieldDocs("provider/args.ts");
    const components = fieldDocs("components/args.ts");

    it("every interface of provider/args.ts repeats one of components/args.ts, or is said to repeat none", () => {
        assert.deepStrictEqual([...provider.keys()].filter(n => !n.includes(".") && !(n in MIRRORS) && !(n in OWN)), []);
        assert.deepStrictEqual(Object.values(MIRRORS).filter(c => !components.has(c)), []);
    });

    it("a field both name has the same doc comment in both (the schema's description is the provider's)", () => {
        const differ: string[] = [];
        for (const [p, c] of Object.entries(MIRRORS)) {
            for (const [field, doc] of provider.get(p)!) {
                const theirs = components.get(c)!.get(field);
                if (theirs !== undefined && theirs !== doc && !(`${p}.${field}` in DIFFERENT)) {
                    differ.push(`${p}.${field}: "${doc}"\n  ${c}.${field}: "${theirs}"`);
                }
            }
        }
        assert.deepStrictEqual(differ, []);
        for (const k of Object.keys(DIFFERENT)) {
            const [p, field] = k.split(".");
            assert.notStrictEqual(provider.get(p)!.get(field), components.get(MIRRORS[p])!.get(field), `${k} is the same now: no longer an exception`);
        }
    });
});

describe("provider: inputs made into the components' args (provider/convert.ts)", () => {
    it("a node's inputs: the one source object becomes its kind's union member; the args pass the components' own checks", () => {
        const args = nodeArgs(nodeInputs({
            containerd: {
                version: "2.2.9",
                source: { kind: "file", path: "/srv/containerd.tar.gz", sha256: SHA },
                runc: { url: "https://example.com/runc.amd64", sha256: SHA },
            },
            kubernetes: { kubeconfigContent: "apiVersion: v1", nodeName: "w1" },
            config: { extraToml: { plugins: { x: { y: 1 } } }, runtimes: { runsc: { runtimeType: "io.containerd.runsc.v1", options: { a: true } } } },
            kubelet: { version: "1.30.4" },
        }));
        assert.deepStrictEqual(args.containerd.source, { kind: "file", path: "/srv/containerd.tar.gz", sha256: SHA });
        assert.deepStrictEqual(args.containerd.runc, { url: "https://example.com/runc.amd64", sha256: SHA });
        assert.deepStrictEqual(args.kubernetes?.kubeconfig, { content: "apiVersion: v1" });
        assert.deepStrictEqual(args.config?.extraToml, { plugins: { x: { y: 1 } } });
        assert.deepStrictEqual(resolveSpec(args).containerd.source, { kind: "file", path: "/srv/containerd.tar.gz", sha256: SHA });
        assert.deepStrictEqual(nodeArgs(nodeInputs({ containerd: { version: "2.2.9", source: { kind: "docker" } } })).containerd.source, { kind: "docker" });
        const tools = nodeArgs(nodeInputs({ tools: { crictl: { version: "1.34.0", source: { path: "/srv/crictl.tgz", sha256: SHA } } }, proxy: { httpsProxy: "http://proxy:3128" } }));
        assert.deepStrictEqual(tools.tools, { crictl: { version: "1.34.0", source: { path: "/srv/crictl.tgz", sha256: SHA } } });
        assert.deepStrictEqual(tools.proxy, { httpsProxy: "http://proxy:3128" });
    });

    const refused: [string, () => unknown, RegExp][] = [
        ["a field of another source kind", () => nodeArgs(nodeInputs({ containerd: { version: "2.2.9", source: { kind: "tarball", url: "https://x/c.tgz", sha256: SHA, path: "/c.tgz" } } })),
            /^invalid containerd\.source\.path: not set for kind "tarball", which takes url, sha256$/],
        ["an unknown source kind", () => nodeArgs(nodeInputs({ containerd: { version: "2.2.9", source: { kind: "zip" as any } } })),
            /^invalid containerd\.source\.kind: one of tarball, file, package, docker, got "zip"$/],
        ["runc with both url and path", () => nodeArgs(nodeInputs({ containerd: { version: "2.2.9", source: { kind: "docker" }, runc: { url: "https://x/r", path: "/r", sha256: SHA } } })),
            /^invalid containerd\.runc: exactly one of url or path, with sha256$/],
        ["a tool's tarball with both url and path", () => nodeArgs(nodeInputs({ tools: { buildkit: { version: "0.34.2", source: { url: "https://x/b.tgz", path: "/b.tgz", sha256: SHA } } } })),
            /^invalid tools\.buildkit\.source: exactly one of url or path, with sha256$/],
        ["a kubeconfig given twice", () => nodeArgs(nodeInputs({ kubernetes: { kubeconfig: "/k", kubeconfigContent: "k", nodeName: "n" } })),
            /^invalid kubernetes\.kubeconfig: exactly one of kubeconfig \(a file's path\) or kubeconfigContent \(its text\)$/],
        ["a secret object as a whole", () => nodeArgs(nodeInputs({ connection: pulumi.secret({ host: "h" }) as any })),
            /^invalid connection: an object whose fields are known when the program runs, not a secret or computed object as a whole/],
        ["no containerd", () => nodeArgs({ connection: { host: "h" } } as any), /^invalid containerd: \{ version, source \} \(required\)$/],
        ["a fleet with both nodes and discover", () => fleetArgs({ ...fleet(), discover: { connection: {} }, kubernetes: { kubeconfig: "/k" } }),
            /^invalid nodes: exactly one of nodes \(a list\) or discover \(the cluster's Nodes\)$/],
        ["discover without kubernetes", () => fleetArgs({ ...fleet(), nodes: undefined, discover: { connection: {} } }),
            /^invalid discover: kubernetes as well: the nodes are found in the cluster$/],
        ["a node override's source of the wrong kind", () => fleetArgs({ ...fleet(), nodes: [{ name: "a", connection: { host: "h" }, overrides: { containerd: { version: "2.2.9", source: { kind: "package", sha256: SHA } } } }] }),
            /^invalid nodes\[0\]\.overrides\.containerd\.source\.sha256: not set for kind "package", which takes name$/],
    ];
    for (const [what, f, message] of refused) {
        it(`refuses ${what}, naming the input`, () => {
            assert.throws(f, (e: Error) => e.name === "InvalidArgumentError" && message.test(e.message));
        });
    }

    function fleet(): ContainerdFleetInputs {
        return {
            nodes: [{ name: "a", connection: { host: "10.0.0.1" } }, { name: "b", connection: { host: "10.0.0.2" }, overrides: { kubelet: { version: "1.31.0" } } }],
            settings: { containerd: { version: "2.2.9", source: { kind: "package" } }, kubelet: { version: "1.30.4" } },
        };
    }

    it("a listed fleet: counts and percentages as the fleet takes them; a node's overrides only what it sets", () => {
        const f = fleetArgs({ ...fleet(), maxUnavailable: "2", failureBudget: "10%", controlPlane: "last" });
        assert.strictEqual(f.discover, false);
        assert.strictEqual(f.args.maxUnavailable, 2);
        assert.strictEqual(f.args.failureBudget, "10%");
        assert.strictEqual(f.args.controlPlane, "last");
        assert.deepStrictEqual(f.args.settings.containerd.source, { kind: "package" });
        assert.deepStrictEqual((f.args as any).nodes.map((n: any) => n.overrides), [undefined, { kubelet: { version: "1.31.0" } }]);
        assert.strictEqual(countOrPercent(undefined), undefined);
    });

    it("a fleet found in the cluster: discover becomes fromCluster's args", () => {
        const f = fleetArgs({
            ...fleet(), nodes: undefined, kubernetes: { kubeconfigContent: "apiVersion: v1" },
            discover: { selector: "pool=a", addressType: "ExternalIP", connection: { user: "admin", privateKey: "key" }, hostKeys: { allowUnpinned: true } },
        });
        assert.strictEqual(f.discover, true);
        assert.deepStrictEqual((f.args as any).discover, {
            selector: "pool=a", addressType: "ExternalIP", connection: { user: "admin", privateKey: "key" }, hostKeys: { allowUnpinned: true },
        });
        assert.deepStrictEqual(f.args.kubernetes?.kubeconfig, { content: "apiVersion: v1" });
    });
});
