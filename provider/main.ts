/**
 * The provider plugin's process: `pulumi-resource-containerd-node` (provider/) runs it with node.
 * The engine starts it, reads the port it prints and talks gRPC to it.
 */
import { main } from "@pulumi/pulumi/provider";
import { ContainerdNodeProvider } from "./provider";

main(new ContainerdNodeProvider(), process.argv.slice(2)).catch(e => {
    console.error(e);
    process.exit(1);
});
