package main

import (
	"context"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// logger posts messages to the engine on one resource (urn is empty for an invoke).
type logger interface {
	// status is an ephemeral message: shown while the step runs, not kept in the run's output.
	status(ctx context.Context, urn resource.URN, msg string)
}

type engineClient struct {
	client pulumirpc.EngineClient
	// The engine shows a resource's status lines in the order they arrive; one at a time keeps
	// the lines of stdout and stderr in the order the command wrote them.
	mu sync.Mutex
}

func dialEngine(addr string) (*engineClient, error) {
	opts := append(rpcutil.TracingInterceptorDialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()), rpcutil.GrpcChannelOptions())
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, err
	}
	return &engineClient{client: pulumirpc.NewEngineClient(conn)}, nil
}

func (e *engineClient) status(ctx context.Context, urn resource.URN, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// A message that can't be delivered is not a reason to fail the command.
	_, _ = e.client.Log(ctx, &pulumirpc.LogRequest{
		Severity:  pulumirpc.LogSeverity_INFO,
		Message:   msg,
		Urn:       string(urn),
		Ephemeral: true,
	})
}
