// Package demo holds the demo curriculum that a new installation starts
// with: short courses written for young refugees, each a course package
// (docs/COURSE-FORMAT.md) in its own folder, fully translated. The media
// were made by scripts/demo-media/*.sh (espeak-ng narration, ImageMagick
// drawings) and are committed, so nothing is generated at run time.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed */course.yaml */locales/*.json */media/*
var files embed.FS

// Packages returns each demo course's package, by its folder name (the
// course's slug), sorted by name.
func Packages() (names []string, pkgs []fs.FS, err error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("demo curriculum: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.Sub(files, e.Name())
		if err != nil {
			return nil, nil, fmt.Errorf("demo course %s: %w", e.Name(), err)
		}
		names = append(names, e.Name())
		pkgs = append(pkgs, sub)
	}
	return names, pkgs, nil
}
