// pulumi-resource-command: the project's stand-in for the Pulumi command provider 1.2.1, for
// machines that cannot install the official plugin (see README.md beside this file). It serves the
// resource provider gRPC interface of github.com/pulumi/pulumi/sdk/v3 the way every plugin does:
// the engine starts it with its own address as the last argument and reads the port it listens on
// from its first line of output.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

func main() {
	if err := serve(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-command: %v\n", err)
		os.Exit(1)
	}
}

func serve() error {
	// The engine passes the flags every plugin gets (glog's -v and --logtostderr, registered by
	// the logging package, and --tracing); the one argument left is the engine's address.
	flag.String("tracing", "", "Zipkin-compatible tracing endpoint (ignored)")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	if flag.NArg() != 1 {
		return fmt.Errorf("expected the engine's address as the only argument, got %q", flag.Args())
	}
	engineAddr := flag.Arg(0)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	engine, err := dialEngine(engineAddr)
	if err != nil {
		return fmt.Errorf("could not connect to the engine at %s: %w", engineAddr, err)
	}
	// Exit when the engine goes away, as every plugin does.
	if err := rpcutil.Healthcheck(ctx, engineAddr, 5*time.Minute, stop); err != nil {
		return fmt.Errorf("could not start the engine health check: %w", err)
	}

	prov := newProvider(engine)
	done := make(chan bool)
	go func() { <-ctx.Done(); close(done) }()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: done,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, plugin.NewProviderServer(prov))
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		return fmt.Errorf("could not serve: %w", err)
	}
	fmt.Printf("%d\n", handle.Port)
	return <-handle.Done
}
