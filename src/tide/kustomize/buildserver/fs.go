package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlayFS is the disk with a few extra read-only files laid over it.
//
// Tide shares one unpacked artifact among every build of its digest and never writes into it;
// a folder of plain manifests still needs the kustomization Flux generates for it, which is
// handed over with the request and appears here as if it were on disk. Only files in existing
// folders are laid over (that is all Tide needs), so folder lookups go to the disk unchanged.
type overlayFS struct {
	filesys.FileSystem
	files map[string][]byte
}

func newOverlayFS(disk filesys.FileSystem, files map[string]string) filesys.FileSystem {
	if len(files) == 0 {
		return disk
	}
	laid := make(map[string][]byte, len(files))
	for name, content := range files {
		laid[filepath.Clean(name)] = []byte(content)
	}
	return &overlayFS{FileSystem: disk, files: laid}
}

func (o *overlayFS) laid(path string) ([]byte, bool) {
	content, ok := o.files[filepath.Clean(path)]
	return content, ok
}

func (o *overlayFS) ReadFile(path string) ([]byte, error) {
	if content, ok := o.laid(path); ok {
		return append([]byte(nil), content...), nil
	}
	return o.FileSystem.ReadFile(path)
}

func (o *overlayFS) Exists(path string) bool {
	if _, ok := o.laid(path); ok {
		return true
	}
	return o.FileSystem.Exists(path)
}

func (o *overlayFS) IsDir(path string) bool {
	if _, ok := o.laid(path); ok {
		return false
	}
	return o.FileSystem.IsDir(path)
}

func (o *overlayFS) Open(path string) (filesys.File, error) {
	if content, ok := o.laid(path); ok {
		return &laidFile{name: filepath.Base(path), reader: bytes.NewReader(content)}, nil
	}
	return o.FileSystem.Open(path)
}

func (o *overlayFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	if _, ok := o.laid(path); ok {
		dir, _, err := o.FileSystem.CleanedAbs(filepath.Dir(path))
		return dir, filepath.Base(path), err
	}
	return o.FileSystem.CleanedAbs(path)
}

func (o *overlayFS) ReadDir(path string) ([]string, error) {
	names, err := o.FileSystem.ReadDir(path)
	if err != nil {
		return names, err
	}
	folder := filepath.Clean(path)
	for name := range o.files {
		if filepath.Dir(name) == folder && !contains(names, filepath.Base(name)) {
			names = append(names, filepath.Base(name))
		}
	}
	sort.Strings(names)
	return names, nil
}

func contains(names []string, name string) bool {
	for _, candidate := range names {
		if candidate == name {
			return true
		}
	}
	return false
}

// laidFile is a read-only in-memory file; kustomize only reads and stats what it opens.
type laidFile struct {
	name   string
	reader *bytes.Reader
}

func (f *laidFile) Read(p []byte) (int, error)  { return f.reader.Read(p) }
func (f *laidFile) Write(_ []byte) (int, error) { return 0, os.ErrPermission }
func (f *laidFile) Close() error                { return nil }
func (f *laidFile) Stat() (os.FileInfo, error)  { return laidInfo{f.name, f.reader.Size()}, nil }

type laidInfo struct {
	name string
	size int64
}

func (i laidInfo) Name() string       { return i.name }
func (i laidInfo) Size() int64        { return i.size }
func (i laidInfo) Mode() fs.FileMode  { return 0o444 }
func (i laidInfo) ModTime() time.Time { return time.Time{} }
func (i laidInfo) IsDir() bool        { return false }
func (i laidInfo) Sys() any           { return nil }
