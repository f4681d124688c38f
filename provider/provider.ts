/**
 * The provider plugin `containerd-node`: ContainerdNode and ContainerdFleet served to programs of
 * every Pulumi language (the engine's Construct), with the schema of provider/schema.json.
 *
 * Built on `ComponentProvider` of `@pulumi/pulumi/provider/experimental` (what
 * `componentProviderHost` serves source-based component packages with), with two changes: the
 * schema is the one generated before packing (scripts/schema.ts), not analyzed from TypeScript
 * sources at every start (the package ships none); and `construct` builds the components of
 * components/ from the multi-language inputs (provider/convert.ts), with `discover` reaching
 * ContainerdFleet.fromCluster.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConstructResult } from "@pulumi/pulumi/provider";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { ContainerdNode } from "../components/containerdNode";
import { ContainerdFleet } from "../components/fleet/fleet";
import { InvalidArgumentError } from "../components/spec";
import { ContainerdFleetInputs, ContainerdNodeInputs } from "./args";
import { fleetArgs, nodeArgs } from "./convert";

export const PROVIDER_NAME = "containerd-node";

/** The package's root: where package.json and provider/schema.json are, from the sources or from bin/provider. */
export function packageRoot(dir = __dirname): string {
    let d = dir;
    while (!fs.existsSync(path.join(d, "package.json"))) {
        const up = path.dirname(d);
        if (up === d) {
            throw new Error(`no package.json above ${dir}`);
        }
        d = up;
    }
    return d;
}

export class ContainerdNodeProvider extends ComponentProvider {
    private readonly schemaFile: string;

    constructor(root = packageRoot()) {
        super({ name: PROVIDER_NAME, dirname: root, components: [ContainerdNode, ContainerdFleet] });
        this.schemaFile = path.join(root, "provider", "schema.json");
    }

    async getSchema(): Promise<string> {
        return fs.readFileSync(this.schemaFile, "utf8");
    }

    async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<ConstructResult> {
        ComponentProvider.validateResourceType(PROVIDER_NAME, type);
        const kind = type.split(":")[2];
        try {
            if (kind === "ContainerdNode") {
                const node = new ContainerdNode(name, nodeArgs(inputs as ContainerdNodeInputs), options);
                return {
                    urn: node.urn,
                    state: {
                        runtimeBefore: node.runtimeBefore,
                        runtimeAfter: node.runtimeAfter,
                        containerdVersion: node.containerdVersion,
                        containerRuntimeVersion: node.containerRuntimeVersion,
                        path: node.path,
                        refusal: node.refusal,
                        durations: node.durations,
                    },
                };
            }
            if (kind === "ContainerdFleet") {
                const f = fleetArgs(inputs as ContainerdFleetInputs);
                const fleet = f.discover ? await ContainerdFleet.fromCluster(name, f.args, options) : new ContainerdFleet(name, f.args, options);
                return { urn: fleet.urn, state: { waves: fleet.waves, table: fleet.table, dockerSocketPods: fleet.dockerSocketPods } };
            }
        } catch (e) {
            // A mistake in the inputs: the error names the input and what was expected, at preview.
            throw e instanceof InvalidArgumentError ? new Error(`${kind} ${name}: ${e.message}`) : e;
        }
        throw new Error(`unknown resource type ${type}: ${PROVIDER_NAME} serves ContainerdNode and ContainerdFleet`);
    }
}
