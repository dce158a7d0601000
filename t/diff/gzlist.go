// Copyright (C) 2026 The ngx_squash authors
//
// gzlist: what Go's compress/gzip (gzip.Reader, multistream, as every
// runtime reads a gzip layer) makes of each blob: a line "ok LENGTH
// SHA256" of what it inflates to, or "error".  Arguments are files, or
// "-" for file names on standard input; t/diff/gzlist.c prints the same
// for the module's reader.
//
// An empty blob is the one exception, on purpose: gzip.NewReader refuses
// it (io.EOF), but the runtimes detect a layer's compression from its
// first bytes (containerd's compression.DecompressStream, moby's
// archive.DecompressStream), find none, and read it as an empty tar; so
// does the module.  It is printed as an empty "ok".

package main

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

func list(name string) string {
	f, err := os.Open(name)
	if err != nil {
		return "error"
	}
	defer f.Close()

	h := sha256.New()

	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return fmt.Sprintf("ok 0 %x", h.Sum(nil))
	}

	z, err := gzip.NewReader(f)
	if err != nil {
		return "error"
	}

	n, err := io.Copy(h, z)
	if err != nil {
		return "error"
	}

	return fmt.Sprintf("ok %d %x", n, h.Sum(nil))
}

func main() {
	names := os.Args[1:]

	if len(names) == 1 && names[0] == "-" {
		names = nil
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
			names = append(names, s.Text())
		}
	}

	for _, name := range names {
		fmt.Printf("%s %s\n", name, list(name))
	}
}
