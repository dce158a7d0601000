// Copyright (C) 2026 The ngx_squash authors
//
// golist: lists tar layers the way the container runtimes read them,
// with Go's archive/tar (docker, podman, containerd, buildah, skopeo and
// umoci all do).  For each file named on the command line, or each line
// of file names on standard input with -, it prints "== NAME", then one
// line per entry, then "end" or "error".  Global pax headers ('g') are
// skipped, as the runtimes skip them.  t/diff/tarlist prints the same
// lines from ngx_squash's reader; t/diff/run compares the two.
package main

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sort"
)

func list(w *bufio.Writer, name string) {
	fmt.Fprintf(w, "== %s\n", name)

	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(w, "error open\n")
		return
	}
	defer f.Close()

	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<16))

	for {
		h, err := tr.Next()
		if err == io.EOF {
			fmt.Fprintf(w, "end\n")
			return
		}
		if err != nil {
			fmt.Fprintf(w, "error\n")
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			return
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}

		sum := sha256.New()
		n, err := io.Copy(sum, tr)
		if err != nil {
			fmt.Fprintf(w, "error\n")
			fmt.Fprintf(os.Stderr, "%s: data: %v\n", name, err)
			return
		}

		var xattrs []string
		for k, v := range h.PAXRecords {
			if len(k) > 13 && k[:13] == "SCHILY.xattr." && v != "" {
				xattrs = append(xattrs, fmt.Sprintf("%x=%x", k[13:], v))
			}
		}
		sort.Strings(xattrs)

		// strings in hex, so that any bytes compare as they are
		fmt.Fprintf(w, "%d %o %d %d %d.%09d %d %x n=%x l=%x x=%v\n",
			h.Typeflag, h.Mode, h.Uid, h.Gid, h.ModTime.Unix(),
			h.ModTime.Nanosecond(), n, sum.Sum(nil), h.Name, h.Linkname,
			xattrs)
	}
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()

	for _, a := range os.Args[1:] {
		if a != "-" {
			list(w, a)
			continue
		}

		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
			list(w, s.Text())
		}
	}
}
