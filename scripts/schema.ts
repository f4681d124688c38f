/**
 * The provider plugin's schema, provider/schema.json, generated from the declarations in
 * provider/components.ts and provider/args.ts (types and doc comments) by the analyzer that
 * `@pulumi/pulumi/provider/experimental` serves source-based component providers with. The plugin
 * serves the file as generated here: it ships no TypeScript to analyze.
 *
 *   ts-node scripts/schema.ts           write provider/schema.json
 *   ts-node scripts/schema.ts --check   write nothing; exit 1 when the file differs
 *
 * Added to what the analyzer makes: `secret: true` on every credential (SECRET_PROPERTIES), so a
 * program that gives one as plain text still has it kept a secret, as the TypeScript components
 * keep it; `integer` for the numbers the components take only whole (INTEGER_PROPERTIES: the
 * analyzer makes every TypeScript number a `number`, a Go SDK's float64); and the types named without the TypeScript suffixes Args, Inputs and Outputs (see
 * schemaTypeName): the SDK generators add their own (Go's and Python's input types end in Args,
 * so `NodeConnectionArgs` would become `NodeConnectionArgsArgs`).
 */
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..");
export const SCHEMA_FILE = path.join(ROOT, "provider", "schema.json");
export const PROVIDER_NAME = "containerd-node";
export const COMPONENTS = ["ContainerdNode", "ContainerdFleet"];

/** The credentials, by schema type and property: each is `secret: true` in the schema. */
export const SECRET_PROPERTIES: { [type: string]: string[] } = {
    NodeConnectionArgs: ["privateKey", "privateKeyPassword", "password"],
    DiscoveredConnectionInputs: ["privateKey", "privateKeyPassword", "password"],
    RegistryAuthArgs: ["username", "password", "auth", "identityToken"],
    KubernetesInputs: ["kubeconfigContent"],
    FleetKubernetesInputs: ["kubeconfigContent"],
};

/**
 * The numbers that are whole, by TypeScript type (or component, for its own inputs) and property:
 * each `integer` in the schema. components/spec.ts refuses a fraction for each (posInt), or
 * ContainerdFleet does (healthGate.nodesAtOnce), or the command provider takes it as an integer (dialErrorLimit, perDialTimeout); a fleet row's wave is
 * a count.
 */
export const INTEGER_PROPERTIES: { [type: string]: string[] } = {
    NodeConnectionArgs: ["port", "dialErrorLimit", "perDialTimeout"],
    DiscoveredConnectionInputs: ["port"],
    KubernetesInputs: ["verifyTimeoutSeconds"],
    FleetKubernetesInputs: ["verifyTimeoutSeconds"],
    DrainArgs: ["timeoutSeconds", "gracePeriodSeconds"],
    SystemdUnitArgs: ["oomScoreAdjust"],
    KubeletArgs: ["containerLogMaxFiles"],
    FleetSettingsInputs: ["minFreeDiskMiB"],
    PartialFleetSettingsInputs: ["minFreeDiskMiB"],
    FleetRowOutputs: ["wave"],
    HealthGateArgs: ["nodesAtOnce"],
    ContainerdNode: ["minFreeDiskMiB", "factReads"],
    ContainerdFleet: ["factReads"],
};

/** Schema type names that are not their TypeScript name without its suffix. */
const TYPE_NAMES: { [tsName: string]: string } = {
    // "Config" alone would read as the provider's configuration.
    ConfigInputs: "ContainerdConfig",
    // A fleet node's overrides: Partial<FleetSettingsInputs>.
    PartialFleetSettingsInputs: "FleetSettingsOverrides",
};

/** The schema's name of the TypeScript type `tsName`: without its suffix Args, Inputs or Outputs. */
export function schemaTypeName(tsName: string): string {
    return TYPE_NAMES[tsName] ?? tsName.replace(/(Args|Inputs|Outputs)$/, "");
}

/** The schema, as a JSON text ending in a newline. */
export function generateSchemaText(): string {
    // Not in the package's public exports: the modules source-based component providers run with.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Analyzer } = require("@pulumi/pulumi/provider/experimental/analyzer");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { generateSchema } = require("@pulumi/pulumi/provider/experimental/schema");
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const analyzer = new Analyzer(ROOT, PROVIDER_NAME, { main: "provider/components.js" }, new Set(COMPONENTS));
    const { components, typeDefinitions, dependencies } = analyzer.analyze();
    const schema = generateSchema(PROVIDER_NAME, pkg.version, pkg.description, components, typeDefinitions, dependencies);
    for (const [type, props] of Object.entries(SECRET_PROPERTIES)) {
        const def = schema.types[`${PROVIDER_NAME}:index:${type}`];
        for (const p of props) {
            if (!def?.properties?.[p]) {
                throw new Error(`SECRET_PROPERTIES: the schema has no ${type}.${p}`);
            }
            def.properties[p].secret = true;
        }
    }
    for (const [type, props] of Object.entries(INTEGER_PROPERTIES)) {
        const def = schema.types[`${PROVIDER_NAME}:index:${type}`]?.properties ?? schema.resources[`${PROVIDER_NAME}:index:${type}`]?.inputProperties;
        for (const p of props) {
            if (def?.[p]?.type !== "number") {
                throw new Error(`INTEGER_PROPERTIES: the schema has no number ${type}.${p}`);
            }
            def[p].type = "integer";
        }
    }
    const prefix = `${PROVIDER_NAME}:index:`;
    const renamed = Object.fromEntries(Object.entries(schema.types).map(([token, def]) => [`${prefix}${schemaTypeName(token.slice(prefix.length))}`, def]));
    if (Object.keys(renamed).length !== Object.keys(schema.types).length) {
        throw new Error("two types have the same schema name (schemaTypeName)");
    }
    schema.types = renamed;
    const text = JSON.stringify(schema, null, 2).replace(/"#\/types\/containerd-node:index:([A-Za-z0-9]+)"/g,
        (_, name: string) => `"#/types/${prefix}${schemaTypeName(name)}"`);
    return text + "\n";
}

if (require.main === module) {
    const text = generateSchemaText();
    if (process.argv.includes("--check")) {
        const current = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, "utf8") : "";
        if (current !== text) {
            console.error(`${path.relative(ROOT, SCHEMA_FILE)} is not what provider/ declares: run \`npm run schema\``);
            process.exit(1);
        }
    } else {
        fs.writeFileSync(SCHEMA_FILE, text);
        console.log(`wrote ${path.relative(ROOT, SCHEMA_FILE)}`);
    }
}
