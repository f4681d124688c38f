/**
 * The fleet program as a program file (bench/cli.ts runnerPreview runs it with @pulumi/pulumi's
 * cmd/run): the fleet CN_BENCH_FLEET (a FleetDescription's JSON file) names, built with the package
 * CN_BENCH_PACKAGE names (its compiled JavaScript).
 */
import * as fs from "fs";
import { FleetDescription, fleetProgram } from "./fleetProgram";

const description: FleetDescription = JSON.parse(fs.readFileSync(process.env.CN_BENCH_FLEET!, "utf8"));
export = fleetProgram(description, require(process.env.CN_BENCH_PACKAGE!));
