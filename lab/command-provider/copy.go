package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// copySource is the `source` input of CopyToRemote: a file asset, a string asset or a file
// archive (a directory or archive file on this machine).
type copySource struct {
	text *string
	path string
	hash string
}

func decodeSource(inputs resource.PropertyMap) (*copySource, error) {
	v, ok := inputs["source"]
	if !ok {
		return nil, fmt.Errorf("source: missing required property")
	}
	v = plain(v)
	switch {
	case v.IsAsset():
		a := v.AssetValue()
		switch {
		case a.IsText():
			t := a.Text
			return &copySource{text: &t, hash: a.Hash}, nil
		case a.IsPath():
			return &copySource{path: a.Path, hash: a.Hash}, nil
		default:
			return nil, fmt.Errorf("source: asset must be a path-based file asset or a text asset")
		}
	case v.IsArchive():
		ar := v.ArchiveValue()
		if !ar.IsPath() {
			return nil, fmt.Errorf("source: archive must be a path to a file or directory")
		}
		return &copySource{path: ar.Path, hash: ar.Hash}, nil
	case v.ContainsUnknowns():
		return nil, nil
	default:
		return nil, fmt.Errorf("source: expected an asset or an archive, got %s", v.TypeString())
	}
}

// copyToRemote copies the source to remotePath over SFTP: a file into an existing directory
// lands as dir/<basename>, else at remotePath with its parents created; a directory is copied
// into it.
func (p *provider) copyToRemote(ctx context.Context, urn resource.URN, inputs resource.PropertyMap) error {
	conn, err := decodeConnection(inputs)
	if err != nil {
		return err
	}
	src, err := decodeSource(inputs)
	if err != nil {
		return err
	}
	dest, err := str(inputs, "remotePath")
	if err != nil || dest == nil {
		return fmt.Errorf("remotePath: missing required property")
	}
	client, err := conn.dial(ctx, p.log, urn)
	if err != nil {
		return err
	}
	defer client.Close()
	sc, err := sftp.NewClient(client, sftp.UseConcurrentWrites(true))
	if err != nil {
		return err
	}
	defer sc.Close()
	if src.text != nil {
		return copyText(sc, *src.text, *dest)
	}
	return copyPath(sc, src.path, *dest)
}

func remoteStat(sc *sftp.Client, p string) (fs.FileInfo, error) {
	info, err := sc.Stat(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("failed to stat remote path %s: %w", p, err)
	}
	if err != nil {
		return nil, nil
	}
	return info, nil
}

func copyText(sc *sftp.Client, text, dest string) error {
	st, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if st != nil && st.IsDir() {
		return fmt.Errorf("remote path %s is a directory; when using a text asset, remotePath must be a file path", dest)
	}
	if err := sc.MkdirAll(path.Dir(dest)); err != nil {
		return fmt.Errorf("failed to create parent directories for %s: %w", dest, err)
	}
	f, err := sc.Create(dest)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dest, err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(text)); err != nil {
		return fmt.Errorf("failed to write text content to remote path %s: %w", dest, err)
	}
	return nil
}

func copyPath(sc *sftp.Client, src, dest string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	st, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		switch {
		case st != nil && st.IsDir():
			dest = path.Join(dest, filepath.Base(src))
		case st == nil:
			if err := sc.MkdirAll(path.Dir(dest)); err != nil {
				return fmt.Errorf("failed to create parent directories for %s: %w", dest, err)
			}
		}
		return copyFile(sc, src, dest)
	}
	if st != nil && !st.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dest)
	}
	// "dir" lands as dest/dir, "dir/" as its contents in dest.
	if src[len(src)-1] != '/' {
		dest = path.Join(dest, filepath.Base(src))
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := path.Join(dest, filepath.ToSlash(rel))
		if d.IsDir() {
			return sc.MkdirAll(target)
		}
		return copyFile(sc, p, target)
	})
}

func copyFile(sc *sftp.Client, src, dst string) error {
	local, err := os.Open(src)
	if err != nil {
		return err
	}
	defer local.Close()
	remote, err := sc.Create(dst)
	if err != nil {
		return fmt.Errorf("failed to create remote file %s: %w", dst, err)
	}
	defer remote.Close()
	if _, err := remote.ReadFrom(local); err != nil {
		return fmt.Errorf("failed to copy file %s to remote path %s: %w", src, dst, err)
	}
	return nil
}
