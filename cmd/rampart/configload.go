package main

import (
	"errors"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
)

// loadConfig is the one loader behind `rampart serve` and `rampart audit
// config`, so that both give the same verdict with the same words: it
// decodes the file (or starts from the defaults when path is empty), lets
// apply complete it from the command line, and runs gateway.Check — the
// validation, the production guard and every policy's constructor that
// serve runs at start. Every error of every stage is returned at once, as
// config.Errors.
func loadConfig(path string, apply func(*config.Config) config.Errors) (*config.Config, error) {
	var cfg *config.Config
	var errs config.Errors
	if path == "" {
		cfg = config.Default()
	} else {
		cfg, errs = config.Read(path)
	}
	if cfg == nil {
		return nil, errs
	}
	failed := map[string]bool{}
	for _, e := range errs {
		failed[e.Key] = true
	}
	if apply != nil {
		flagErrs := apply(cfg)
		for _, e := range flagErrs {
			// --upstream failed: "upstream is required" would be noise.
			failed[strings.TrimPrefix(e.Key, "--")] = true
		}
		errs = append(errs, flagErrs...)
	}
	if err := gateway.Check(cfg); err != nil {
		var checked config.Errors
		if !errors.As(err, &checked) {
			checked = config.Errors{{File: cfg.File(), Msg: err.Error()}}
		}
		for _, e := range checked {
			// A key that failed to decode is reported once, not again by
			// the checks that saw its default in its place.
			if decodeFailed(failed, e.Key) {
				continue
			}
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		// File order; the command line's errors (line 0) first.
		slices.SortStableFunc(errs, func(a, b *config.FieldError) int { return a.Line - b.Line })
		return nil, errs
	}
	return cfg, nil
}

// decodeFailed reports whether key, a key above it or a key below it
// failed to decode.
func decodeFailed(failed map[string]bool, key string) bool {
	if len(failed) == 0 {
		return false
	}
	if failed[key] {
		return true
	}
	for k := range failed {
		if k == "" {
			continue
		}
		if under(key, k) || under(k, key) {
			return true
		}
	}
	return false
}

func under(key, parent string) bool {
	return parent != "" && strings.HasPrefix(key, parent) && len(key) > len(parent) && (key[len(parent)] == '.' || key[len(parent)] == '[')
}
