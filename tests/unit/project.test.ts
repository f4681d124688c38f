import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "../..");
const project = fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8");
const option = (key: string) => new RegExp(`^\\s+${key}:\\s*"?([^"\\n]*)"?\\s*$`, "m").exec(project)?.[1];

describe("Pulumi.yaml (what a plain `pulumi preview` runs)", () => {
    it("main is the stack program, not package.json's main (the package's entry, which plans nothing)", () => {
        const main = /^main:\s*(\S+)\s*$/m.exec(project)?.[1];
        assert.strictEqual(main, "index.ts");
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        assert.notStrictEqual(pkg.main, main);
        assert.match(fs.readFileSync(path.join(REPO, main!), "utf8"), /export = async function main\(\)/);
    });
    it("the program is compiled with the project's options, less the type check", () => {
        const tsconfig = option("tsconfig");
        assert.strictEqual(tsconfig, "tsconfig.pulumi.json");
        // tsconfig files allow comments: drop them before parsing.
        const text = fs.readFileSync(path.join(REPO, tsconfig!), "utf8").replace(/^\s*\/\/.*$/gm, "");
        const cfg = JSON.parse(text);
        assert.strictEqual(cfg.extends, "./tsconfig.json");
        assert.deepStrictEqual(cfg.compilerOptions, { noCheck: true });
    });
    it("Node.js gets the heap option large fleets need", () => {
        assert.match(option("nodeargs") ?? "", /--heap-growing-percent=50/);
    });
});
