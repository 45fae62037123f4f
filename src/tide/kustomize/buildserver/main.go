// Command tide-kustomize-build is Tide's kustomize build server: one long-lived process that
// renders kustomizations with kustomize's own Go API (sigs.k8s.io/kustomize/api/krusty), so a
// Kustomization build costs a request instead of a `kubectl kustomize` process.
//
// Protocol: one JSON object per line on stdin, one per line on stdout, answered in any order
// (builds run concurrently):
//
//	request:  {"id": "7", "dir": "/abs/folder", "files": {"/abs/folder/kustomization.yaml": "..."}}
//	response: {"id": "7", "yaml": "apiVersion: v1\n..."}   or   {"id": "7", "error": "..."}
//
// "files" are read as if they were on disk (Tide's generated kustomization for a folder of
// plain manifests, so a shared unpacked artifact is never written). The first line written is
// {"ready": true, "kustomize": "<api module version>"}. End of stdin ends the process at once,
// builds in flight included: its parent is gone or done with it. With -drain, end of stdin
// waits for the builds in flight to answer first (one request piped in, one answer out).
//
// The options are kubectl kustomize's defaults with --load-restrictor LoadRestrictionsNone,
// which are Flux's: no exec or Go plugins, no Helm, kustomize's legacy output order unless a
// kustomization sets sortOptions.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

type request struct {
	ID    string            `json:"id"`
	Dir   string            `json:"dir"`
	Files map[string]string `json:"files,omitempty"`
}

type response struct {
	ID    string `json:"id"`
	YAML  string `json:"yaml,omitempty"`
	Error string `json:"error,omitempty"`
}

type hello struct {
	Ready     bool   `json:"ready"`
	Kustomize string `json:"kustomize"`
}

// maxRequest bounds one request line; the generated kustomization of a huge folder fits.
const maxRequest = 64 << 20

func main() {
	drain := flag.Bool("drain", false, "at end of input, answer the builds in flight before exiting")
	flag.Parse()
	out := newWriter(os.Stdout)
	var inflight sync.WaitGroup
	out.write(hello{Ready: true, Kustomize: kustomizeVersion()})
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 0, 1<<16), maxRequest)
	for scanner.Scan() {
		var req request
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			out.write(response{Error: fmt.Sprintf("invalid request: %v", err)})
			continue
		}
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			out.write(build(req))
		}()
	}
	if err := scanner.Err(); err != nil && err != io.EOF {
		fmt.Fprintf(os.Stderr, "tide-kustomize-build: reading requests: %v\n", err)
		os.Exit(1)
	}
	if *drain {
		inflight.Wait()
	}
	os.Exit(0)
}

// build renders one request; a panic inside kustomize fails that build, not the server.
func build(req request) (resp response) {
	resp.ID = req.ID
	defer func() {
		if recovered := recover(); recovered != nil {
			resp.YAML = ""
			resp.Error = fmt.Sprintf("kustomize panicked: %v", recovered)
		}
	}()
	options := krusty.MakeDefaultOptions()
	options.LoadRestrictions = types.LoadRestrictionsNone
	options.Reorder = krusty.ReorderOptionUnspecified // what kubectl kustomize passes without --reorder
	options.PluginConfig = types.DisabledPluginConfig()
	options.PluginConfig.HelmConfig.Enabled = false
	fs := newOverlayFS(filesys.MakeFsOnDisk(), req.Files)
	resources, err := krusty.MakeKustomizer(options).Run(fs, req.Dir)
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	rendered, err := resources.AsYaml()
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	resp.YAML = string(rendered)
	return resp
}

// writer serialises responses from concurrent builds, one line each, flushed at once.
type writer struct {
	mu      sync.Mutex
	buffer  *bufio.Writer
	encoder *json.Encoder
}

func newWriter(to io.Writer) *writer {
	buffer := bufio.NewWriterSize(to, 1<<16)
	encoder := json.NewEncoder(buffer)
	encoder.SetEscapeHTML(false)
	return &writer{buffer: buffer, encoder: encoder}
}

func (w *writer) write(value any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.encoder.Encode(value); err != nil {
		fmt.Fprintf(os.Stderr, "tide-kustomize-build: writing a response: %v\n", err)
		os.Exit(1)
	}
	if err := w.buffer.Flush(); err != nil {
		os.Exit(1) // the reader is gone
	}
}

func kustomizeVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "sigs.k8s.io/kustomize/api" {
				return dep.Version
			}
		}
	}
	return "unknown"
}
