package registry

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Cache keeps verified archives on disk, addressed by their content hash:
// Dir/<algorithm>/<first two hex digits>/<hex digest>.
type Cache struct {
	// Dir is the cache directory; it is created on first Put.
	Dir string
}

func (c *Cache) path(integrity string) (string, digest, error) {
	d, err := parseIntegrity(integrity)
	if err != nil {
		return "", d, err
	}
	h := hex.EncodeToString(d.sum)
	return filepath.Join(c.Dir, d.algo, h[:2], h), d, nil
}

// Get returns the archive with this integrity, and false when the cache
// has none. An entry whose content no longer matches is removed and
// reported as a miss.
func (c *Cache) Get(integrity string) ([]byte, bool, error) {
	if c == nil || c.Dir == "" {
		return nil, false, nil
	}
	p, _, err := c.path(integrity)
	if err != nil {
		return nil, false, err
	}
	info, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("registry: cache: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, false, fmt.Errorf("registry: cache: %s is not a regular file", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false, fmt.Errorf("registry: cache: %w", err)
	}
	if _, err := VerifyIntegrity(integrity, data); err != nil {
		_ = os.Remove(p)
		return nil, false, nil
	}
	return data, true, nil
}

// Put stores data under its integrity after checking that it matches.
func (c *Cache) Put(integrity string, data []byte) error {
	if c == nil || c.Dir == "" {
		return nil
	}
	if _, err := VerifyIntegrity(integrity, data); err != nil {
		return err
	}
	p, _, err := c.path(integrity)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("registry: cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("registry: cache: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("registry: cache: %w", errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("registry: cache: %w", err)
	}
	return nil
}
