package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// Version is the official provider's version this stand-in answers as: the package asks the
// engine for `command` 1.2.1.
const Version = "1.2.1"

const (
	localCommand  tokens.Type = "command:local:Command"
	remoteCommand tokens.Type = "command:remote:Command"
	copyToRemote  tokens.Type = "command:remote:CopyToRemote"
	localRun                  = "command:local:run"
)

type provider struct {
	plugin.UnimplementedProvider
	log logger
	// cancelled ends with SignalCancellation: dial retries stop, local commands are killed. A
	// remote command already started keeps running on its host, as with the official provider.
	cancelled context.Context
	cancel    context.CancelFunc
}

func newProvider(log logger) *provider {
	ctx, cancel := context.WithCancel(context.Background())
	return &provider{log: log, cancelled: ctx, cancel: cancel}
}

// runCtx is cancelled when the engine's request or the whole run is.
func (p *provider) runCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.cancelled, cancel)
	return ctx, func() { stop(); cancel() }
}

func (p *provider) Close() error { return nil }

func (p *provider) SignalCancellation(context.Context) error {
	p.cancel()
	return nil
}

func (p *provider) GetPluginInfo(context.Context) (plugin.PluginInfo, error) {
	v := semver.MustParse(Version)
	return plugin.PluginInfo{Version: &v}, nil
}

func (p *provider) GetSchema(context.Context, plugin.GetSchemaRequest) (plugin.GetSchemaResponse, error) {
	// The SDKs are generated from the official schema; the engine needs only the package's name
	// and version from a provider at run time.
	return plugin.GetSchemaResponse{Schema: []byte(`{"name":"command","version":"` + Version + `"}`)}, nil
}

func (p *provider) CheckConfig(_ context.Context, req plugin.CheckConfigRequest) (plugin.CheckConfigResponse, error) {
	return plugin.CheckConfigResponse{Properties: req.News}, nil
}

func (p *provider) DiffConfig(context.Context, plugin.DiffConfigRequest) (plugin.DiffConfigResponse, error) {
	return plugin.DiffResult{Changes: plugin.DiffNone}, nil
}

func (p *provider) Configure(context.Context, plugin.ConfigureRequest) (plugin.ConfigureResponse, error) {
	return plugin.ConfigureResponse{}, nil
}

// notSupported is the reason given for an input this stand-in refuses rather than ignores.
const notSupported = "not supported by this stand-in provider (use the official command provider)"

// unsupportedLocalInputs refuses what a local command or `command:local:run` would need and this
// package never sets.
func unsupportedLocalInputs(m resource.PropertyMap) []plugin.CheckFailure {
	var failures []plugin.CheckFailure
	for _, k := range []resource.PropertyKey{"assetPaths", "archivePaths"} {
		if v, ok := m[k]; ok && !plain(v).IsNull() {
			failures = append(failures, plugin.CheckFailure{Property: k, Reason: notSupported})
		}
	}
	return failures
}

// checkRemote fills in the connection defaults of a remote resource and says what is wrong with it.
func checkRemote(news resource.PropertyMap) []plugin.CheckFailure {
	v, ok := news["connection"]
	if !ok || plain(v).IsNull() {
		return []plugin.CheckFailure{{Property: "connection", Reason: "missing required property 'connection'"}}
	}
	checked, failures := checkConnection(v)
	news["connection"] = checked
	return failures
}

// Check fills in the connection defaults (as the official schema's defaults do) and refuses what
// a resource can't run with.
func (p *provider) Check(_ context.Context, req plugin.CheckRequest) (plugin.CheckResponse, error) {
	news := req.News.Copy()
	var failures []plugin.CheckFailure
	switch req.Type {
	case remoteCommand:
		failures = checkRemote(news)
	case copyToRemote:
		failures = checkRemote(news)
		if _, err := decodeSource(news); err != nil {
			failures = append(failures, plugin.CheckFailure{Property: "source", Reason: err.Error()})
		}
		if v, ok := news["remotePath"]; !ok || plain(v).IsNull() {
			failures = append(failures, plugin.CheckFailure{Property: "remotePath", Reason: "missing required property 'remotePath'"})
		}
	case localCommand:
		failures = unsupportedLocalInputs(news)
	default:
		return plugin.CheckResponse{}, fmt.Errorf("unknown resource type %q", req.Type)
	}
	return plugin.CheckResponse{Properties: news, Failures: failures}, nil
}

// Diff compares the old inputs with the new: a change of `triggers` replaces the resource, any
// other change is an update (the official provider's rule).
func (p *provider) Diff(_ context.Context, req plugin.DiffRequest) (plugin.DiffResponse, error) {
	olds, news := comparable(req.OldInputs), comparable(req.NewInputs)
	for _, ig := range req.IgnoreChanges {
		path, err := resource.ParsePropertyPath(ig)
		if err != nil {
			continue
		}
		if v, ok := path.Get(resource.NewObjectProperty(olds)); ok {
			path.Set(resource.NewObjectProperty(news), v)
		}
	}
	objDiff := olds.Diff(news)
	if objDiff == nil || !objDiff.AnyChanges() {
		return plugin.DiffResult{Changes: plugin.DiffNone}, nil
	}
	detailed := plugin.NewDetailedDiffFromObjectDiff(objDiff, false)
	for path, d := range detailed {
		if path == "triggers" || strings.HasPrefix(path, "triggers[") || strings.HasPrefix(path, "triggers.") {
			detailed[path] = d.ToReplace()
		}
	}
	return plugin.DiffResult{Changes: plugin.DiffSome, DetailedDiff: detailed}, nil
}

// comparable drops what the engine adds to inputs that is not the resource's own.
func comparable(m resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		if k == "version" || strings.HasPrefix(string(k), "__") {
			continue
		}
		out[k] = v
	}
	return out
}

func (p *provider) Create(ctx context.Context, req plugin.CreateRequest) (plugin.CreateResponse, error) {
	inputs := req.Properties
	if req.Type == copyToRemote {
		if req.Preview {
			return plugin.CreateResponse{Properties: inputs}, nil
		}
		ctx, done := p.runCtx(ctx)
		defer done()
		if err := p.copyToRemote(ctx, req.URN, inputs); err != nil {
			return plugin.CreateResponse{}, err
		}
		id, err := resource.NewUniqueHex("", 8, 0)
		return plugin.CreateResponse{ID: resource.ID(id), Properties: inputs}, err
	}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return plugin.CreateResponse{}, err
	}
	if req.Preview {
		return plugin.CreateResponse{ID: resource.ID(id), Properties: withOutputs(inputs, unknown(), unknown())}, nil
	}
	stdout, stderr, err := p.run(ctx, req.Type, req.URN, inputs, "create", previous{})
	if err != nil && err != errNothingToRun {
		return plugin.CreateResponse{}, err
	}
	return plugin.CreateResponse{ID: resource.ID(id), Properties: withOutputs(inputs, stdout, stderr)}, nil
}

func (p *provider) Update(ctx context.Context, req plugin.UpdateRequest) (plugin.UpdateResponse, error) {
	news := req.NewInputs
	if req.Type == copyToRemote {
		if req.Preview {
			return plugin.UpdateResponse{Properties: news}, nil
		}
		oldSrc, _ := decodeSource(req.OldOutputs)
		newSrc, err := decodeSource(news)
		if err != nil {
			return plugin.UpdateResponse{}, err
		}
		oldPath, _ := str(req.OldOutputs, "remotePath")
		newPath, _ := str(news, "remotePath")
		// Copied again only when what is copied or where it goes changed.
		if oldSrc == nil || oldSrc.hash != newSrc.hash || oldPath == nil || newPath == nil || *oldPath != *newPath {
			ctx, done := p.runCtx(ctx)
			defer done()
			if err := p.copyToRemote(ctx, req.URN, news); err != nil {
				return plugin.UpdateResponse{}, err
			}
		}
		return plugin.UpdateResponse{Properties: news}, nil
	}
	prev := previousOf(req.OldOutputs)
	if req.Preview {
		return plugin.UpdateResponse{Properties: withOutputs(news, unknown(), unknown())}, nil
	}
	step := "update"
	if u, _ := str(news, "update"); u == nil {
		step = "create"
	}
	stdout, stderr, err := p.run(ctx, req.Type, req.URN, news, step, prev)
	if err == errNothingToRun {
		// Neither update nor create: the last run's outputs stay.
		return plugin.UpdateResponse{Properties: withOutputs(news,
			resource.NewStringProperty(prev.stdout), resource.NewStringProperty(prev.stderr))}, nil
	}
	if err != nil {
		return plugin.UpdateResponse{}, err
	}
	return plugin.UpdateResponse{Properties: withOutputs(news, stdout, stderr)}, nil
}

func (p *provider) Delete(ctx context.Context, req plugin.DeleteRequest) (plugin.DeleteResponse, error) {
	if req.Type == copyToRemote {
		// Copied files stay where they are.
		return plugin.DeleteResponse{}, nil
	}
	_, _, err := p.run(ctx, req.Type, req.URN, req.Outputs, "delete", previousOf(req.Outputs))
	if err == errNothingToRun {
		err = nil
	}
	return plugin.DeleteResponse{}, err
}

// Read (refresh) gives the state back unchanged: nothing runs.
func (p *provider) Read(_ context.Context, req plugin.ReadRequest) (plugin.ReadResponse, error) {
	return plugin.ReadResponse{ReadResult: plugin.ReadResult{ID: req.ID, Inputs: req.Inputs, Outputs: req.State}}, nil
}

// Invoke is `command:local:run`: it runs at every preview and every update.
func (p *provider) Invoke(ctx context.Context, req plugin.InvokeRequest) (plugin.InvokeResponse, error) {
	if string(req.Tok) != localRun {
		return plugin.InvokeResponse{}, fmt.Errorf("unknown function %q", req.Tok)
	}
	if failures := unsupportedLocalInputs(req.Args); len(failures) > 0 {
		return plugin.InvokeResponse{Failures: failures}, nil
	}
	cmd, err := str(req.Args, "command")
	if err != nil || cmd == nil {
		return plugin.InvokeResponse{Failures: []plugin.CheckFailure{{Property: "command", Reason: "missing required property 'command'"}}}, nil
	}
	ctx, done := p.runCtx(ctx)
	defer done()
	stdout, stderr, err := p.runLocal(ctx, "", req.Args, *cmd, previous{})
	if err != nil {
		return plugin.InvokeResponse{}, err
	}
	return plugin.InvokeResponse{Properties: withOutputs(req.Args,
		resource.NewStringProperty(stdout), resource.NewStringProperty(stderr))}, nil
}

var errNothingToRun = fmt.Errorf("nothing to run")

// run runs the command text of one lifecycle step (create, update or delete) of a Command.
func (p *provider) run(ctx context.Context, typ tokens.Type, urn resource.URN, inputs resource.PropertyMap,
	step string, prev previous,
) (resource.PropertyValue, resource.PropertyValue, error) {
	cmd, err := str(inputs, step)
	if err != nil {
		return resource.PropertyValue{}, resource.PropertyValue{}, err
	}
	if cmd == nil {
		return resource.NewStringProperty(""), resource.NewStringProperty(""), errNothingToRun
	}
	ctx, done := p.runCtx(ctx)
	defer done()
	var stdout, stderr string
	switch typ {
	case remoteCommand:
		stdout, stderr, err = p.runRemote(ctx, urn, inputs, *cmd, prev)
	case localCommand:
		stdout, stderr, err = p.runLocal(ctx, urn, inputs, *cmd, prev)
	default:
		err = fmt.Errorf("unknown resource type %q", typ)
	}
	return resource.NewStringProperty(stdout), resource.NewStringProperty(stderr), err
}
