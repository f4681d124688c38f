/**
 * The unit tests' temporary files in one directory of the run, removed when the run ends: every
 * test makes its own under os.tmpdir() (TMPDIR, which the bash they run inherits too), so a run
 * leaves nothing behind in the machine's /tmp. Loaded by .mocharc.json before the tests.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const run = fs.mkdtempSync(path.join(os.tmpdir(), "cnode-unit-"));
process.env.TMPDIR = run;

export const mochaHooks = {
    afterAll(): void {
        fs.rmSync(run, { recursive: true, force: true });
    },
};
